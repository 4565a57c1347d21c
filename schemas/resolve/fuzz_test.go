package resolve

import (
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/sessiond/sessiond/schemas"
)

// evolvedAction is a producer's later action schema: fields reordered,
// optional fields added at the top, in the action and in its items, some
// dropped, a symbol added, a plain long where sessiond has a timestamp and
// a float unit price where sessiond has a double.
const evolvedAction = `{"type":"record","name":"ActionEvent","namespace":"com.shop","fields":[
 {"name":"occurred_at","type":"long"},
 {"name":"visitor_id","type":"string"},
 {"name":"source","type":["null","string"],"default":null},
 {"name":"event_id","type":"string"},
 {"name":"action","type":{"type":"record","name":"Action","fields":[
   {"name":"page_url","type":["null","string"],"default":null},
   {"name":"type","type":{"type":"enum","name":"ActionType","symbols":["view_product","view_cart","add_order","wishlist"]}},
   {"name":"product_id","type":["null","string"],"default":null},
   {"name":"referrer","type":["null","string"],"default":null},
   {"name":"order","type":["null",{"type":"record","name":"Order","fields":[
     {"name":"order_number","type":"string"},
     {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
       {"name":"product_id","type":"string"},{"name":"name","type":"string"},{"name":"quantity","type":"int"},
       {"name":"unit_price","type":"float"},{"name":"price_currency_code","type":"string"},{"name":"gift","type":"boolean","default":false}]}}}]}],"default":null}
 ]}}]}`

// FuzzApply decodes arbitrary bytes with an evolved writer's schema and
// resolves what decodes to sessiond's action schema: no panic, and every
// result is goavro's native form of the reader's schema.
func FuzzApply(f *testing.F) {
	wc, err := goavro.NewCodec(evolvedAction)
	if err != nil {
		f.Fatal(err)
	}
	rc, err := goavro.NewCodec(schemas.Action.Text())
	if err != nil {
		f.Fatal(err)
	}
	plan, err := compileText(evolvedAction, schemas.Action.Text())
	if err != nil {
		f.Fatal(err)
	}
	seed, err := wc.BinaryFromNative(nil, map[string]any{"occurred_at": int64(1), "visitor_id": "v", "source": nil, "event_id": "e",
		"action": map[string]any{"page_url": nil, "type": "add_order", "product_id": nil, "referrer": goavro.Union("string", "r"),
			"order": goavro.Union("com.shop.Order", map[string]any{"order_number": "o", "items": []any{map[string]any{
				"product_id": "p", "name": "n", "quantity": int32(1), "unit_price": float32(2.5), "price_currency_code": "EUR", "gift": true}}})}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		native, _, err := wc.NativeFromBinary(data)
		if err != nil {
			return
		}
		out, err := plan.Apply(native)
		if err != nil {
			return
		}
		if _, err := rc.BinaryFromNative(nil, out); err != nil {
			t.Fatalf("resolved value is not the reader's form: %v", err)
		}
	})
}

// FuzzCompile parses arbitrary schema text and plans it against each of
// sessiond's input schemas: errors, never panics.
func FuzzCompile(f *testing.F) {
	var readers []*Type
	for _, s := range []schemas.Schema{schemas.CartChanged, schemas.CustomerChanged, schemas.Action} {
		r, err := Parse(s.Text())
		if err != nil {
			f.Fatal(err)
		}
		readers = append(readers, r)
		f.Add(s.Text())
	}
	f.Add(evolvedAction)
	f.Add(strings.Replace(evolvedAction, `"quantity","type":"int"`, `"quantity","type":"string"`, 1))
	f.Fuzz(func(t *testing.T, text string) {
		w, err := Parse(text)
		if err != nil {
			return
		}
		for _, r := range readers {
			_, _ = Compile(w, r)
		}
	})
}

func TestEvolvedActionCompiles(t *testing.T) {
	t.Parallel()
	p, err := compileText(evolvedAction, schemas.Action.Text())
	if err != nil || p.Identity() {
		t.Fatalf("identity %v, err %v", p != nil && p.Identity(), err)
	}
	for _, s := range []schemas.Schema{schemas.CartChanged, schemas.CustomerChanged, schemas.Action, schemas.SessionUpdate, schemas.Snapshot} {
		p, err := compileText(s.Text(), s.Text())
		if err != nil || !p.Identity() {
			t.Errorf("%s against itself: identity %v, err %v", s, p != nil && p.Identity(), err)
		}
	}
}
