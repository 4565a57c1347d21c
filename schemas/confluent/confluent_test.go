package confluent_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/schemas/confluent/confluenttest"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

var topics = [reducer.NumKinds]string{reducer.KindCart: "cart-changed", reducer.KindCustomer: "customer-changed", reducer.KindAction: "actions"}

// fixture is an in-process registry (over HTTP) and a decoder reading from it.
type fixture struct {
	fake    *confluenttest.Registry
	reg     *confluent.Registry
	dec     *confluent.Decoder
	codecs  *schemas.Codecs
	metrics *confluent.Metrics
	logs    *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{fake: confluenttest.NewRegistry(), logs: &bytes.Buffer{}}
	t.Cleanup(f.fake.Close)
	cfg := confluent.DefaultConfig()
	cfg.URLs, cfg.RetryMax = []string{f.fake.URL()}, 50*time.Millisecond
	f.connect(t, cfg)
	return f
}

func (f *fixture) connect(t *testing.T, cfg confluent.Config) {
	t.Helper()
	var err error
	f.metrics = confluent.NewMetrics()
	if f.reg, err = confluent.NewRegistry(cfg, f.metrics, slog.New(slog.NewTextHandler(f.logs, nil))); err != nil {
		t.Fatal(err)
	}
	if f.codecs, err = schemas.Load(); err != nil {
		t.Fatal(err)
	}
	if f.dec, err = confluent.NewDecoder(f.reg, f.codecs); err != nil {
		t.Fatal(err)
	}
}

func events(t *testing.T, n int) []*reducer.Event {
	t.Helper()
	g, err := gen.New(gen.Config{Seed: 7, Visitors: 50})
	if err != nil {
		t.Fatal(err)
	}
	return g.Take(n)
}

// rawDecoded is what --wire-format raw makes of ev.
func rawDecoded(t *testing.T, c *schemas.Codecs, ev *reducer.Event) *reducer.Event {
	t.Helper()
	b, err := c.EncodeEvent(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.DecodeEvent(ev.Kind, b)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func TestRoundTripEveryKind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	enc, err := confluent.RegisterEvents(ctx, f.reg, f.codecs, topics)
	if err != nil {
		t.Fatal(err)
	}
	before := f.fake.Fetches.Load()
	seen := map[reducer.Kind]int{}
	for _, ev := range events(t, 600) {
		b, err := enc.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0 {
			t.Fatalf("no magic byte: % x", b[:5])
		}
		got, err := f.dec.DecodeEvent(ctx, ev.Kind, b)
		if err != nil {
			t.Fatalf("%s: %v", ev.EventID, err)
		}
		if want := rawDecoded(t, f.codecs, ev); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %+v, want %+v", ev.EventID, got, want)
		}
		seen[ev.Kind]++
	}
	if len(seen) != 3 {
		t.Fatalf("kinds seen: %v", seen)
	}
	if n := f.fake.Fetches.Load() - before; n != 3 {
		t.Fatalf("%d schema fetches for 3 ids, want 3 (cached for good)", n)
	}
}

func TestEvolvedProducerGivesTheSameEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p, err := confluenttest.NewProducer(ctx, f.reg, topics)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events(t, 600) {
		b, err := p.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.dec.DecodeEvent(ctx, ev.Kind, b)
		if err != nil {
			t.Fatalf("%s: %v", ev.EventID, err)
		}
		if want := rawDecoded(t, f.codecs, ev); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %+v, want %+v", ev.EventID, got, want)
		}
	}
	b, err := p.Wishlist("v1", "w1", 1_700_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.dec.DecodeEvent(ctx, reducer.KindAction, b); !errors.Is(err, reducer.ErrInvalid) {
		t.Fatalf("a new action type: err = %v, want the reducer's rejection of type unknown", err)
	}
}

// register puts a schema under a subject of the fake and returns its id.
func (f *fixture) register(t *testing.T, subject, schema string) int {
	t.Helper()
	id, _, err := f.fake.RegisterSchema(subject, sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDroppedOptionalFieldKeepsFlowing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The action schema without page_url and update_only.
	s := strings.Replace(schemas.Action.Text(), `{"name": "page_url", "type": ["null", "string"], "default": null},`, "", 1)
	if s == schemas.Action.Text() {
		t.Fatal("the test's edit of action.avsc did not apply")
	}
	id := f.register(t, "actions-value", s)
	codec, err := goavro.NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := codec.BinaryFromNative(confluent.AppendHeader(nil, id), map[string]any{"visitor_id": "v", "event_id": "e",
		"occurred_at": time.UnixMilli(5), "action": map[string]any{"type": "view_product", "product_id": goavro.Union("string", "p")}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := f.dec.DecodeEvent(context.Background(), reducer.KindAction, b)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Action.PageURL != nil || *ev.Action.ProductID != "p" || ev.OccurredAt != 5 {
		t.Fatalf("got %+v", ev.Action)
	}
}

func TestIncompatibleSchemasNameTheField(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ schema, field string }{
		"required field removed": {strings.Replace(schemas.Action.Text(), `{"name": "visitor_id", "type": "string", "doc": "Non-empty; also the Kafka record key."},`, "", 1), "field visitor_id"},
		"type not promotable":    {strings.Replace(schemas.CartChanged.Text(), `{"name": "quantity", "type": "int"`, `{"name": "quantity", "type": "string"`, 1), "field cart.items.quantity"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			id := f.register(t, "x-value", tc.schema)
			kind := reducer.KindAction
			if strings.Contains(tc.schema, "CartChanged") {
				kind = reducer.KindCart
			}
			codec, err := goavro.NewCodec(tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			datum := map[string]any{"event_id": "e", "occurred_at": time.UnixMilli(1),
				"action": map[string]any{"type": "view_cart"}, "visitor_id": "v",
				"cart": goavro.Union("com.sessiond.Cart", map[string]any{"items": []any{map[string]any{"product_id": "p",
					"sku_id": nil, "name": "n", "quantity": "2", "unit_price": 1.0, "price_currency_code": "EUR"}}})}
			b, err := codec.BinaryFromNative(confluent.AppendHeader(nil, id), datum)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.dec.DecodeEvent(context.Background(), kind, b)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err = %v, want one naming %q", err, tc.field)
			}
		})
	}
}

func TestRejectedHeadersAndIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	hinted := func(err error) string {
		var h interface{ Hint() string }
		if errors.As(err, &h) {
			return h.Hint()
		}
		return ""
	}
	for name, tc := range map[string]struct {
		value []byte
		want  error
	}{
		"empty":          {nil, confluent.ErrShortHeader},
		"truncated":      {[]byte{0, 0, 0}, confluent.ErrShortHeader},
		"no magic":       {[]byte{2, 'v', 'i', 's', 0, 1}, confluent.ErrNoMagic},
		"json":           {[]byte(`{"visitor_id":"v"}`), confluent.ErrNoMagic},
		"unknown id":     {confluent.AppendHeader(nil, 4242), confluent.ErrUnknownID},
		"garbage avro":   {append(confluent.AppendHeader(nil, f.register(t, "s-value", schemas.Action.Text())), 0xff, 0xff, 0xff), schemas.ErrDecode},
		"trailing bytes": {nil, schemas.ErrDecode},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "trailing bytes" {
				enc, err := confluent.RegisterEvents(ctx, f.reg, f.codecs, topics)
				if err != nil {
					t.Fatal(err)
				}
				ev := events(t, 1)[0]
				if tc.value, err = enc.EncodeEvent(nil, ev); err != nil {
					t.Fatal(err)
				}
				tc.value = append(tc.value, 1)
				_, err = f.dec.DecodeEvent(ctx, ev.Kind, tc.value)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			_, err := f.dec.DecodeEvent(ctx, reducer.KindAction, tc.value)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(err, confluent.ErrShortHeader) || errors.Is(err, confluent.ErrNoMagic) {
				if hinted(err) == "" {
					t.Fatalf("no hint for %v", err)
				}
			}
		})
	}
	before := f.fake.Fetches.Load()
	for range 100 {
		if _, err := f.dec.DecodeEvent(ctx, reducer.KindAction, confluent.AppendHeader(nil, 4242)); !errors.Is(err, confluent.ErrUnknownID) {
			t.Fatal(err)
		}
	}
	if n := f.fake.Fetches.Load() - before; n != 0 {
		t.Fatalf("%d more requests for an id the registry just said it does not have, want 0 for a minute", n)
	}
}

func TestNotAvroSchemaIsRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.fake.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/schemas/ids/77" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"schema":"syntax = \"proto3\"; message A {}","schemaType":"PROTOBUF"}`))
			return true
		}
		return false
	})
	_, err := f.dec.DecodeEvent(context.Background(), reducer.KindAction, confluent.AppendHeader(nil, 77))
	if !errors.Is(err, confluent.ErrUnusable) || !strings.Contains(err.Error(), "PROTOBUF") {
		t.Fatalf("err = %v", err)
	}
}

func TestRegistryDownAfterWarmUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	enc, err := confluent.RegisterEvents(ctx, f.reg, f.codecs, topics)
	if err != nil {
		t.Fatal(err)
	}
	evs := events(t, 300)
	for _, ev := range evs[:50] { // warm-up: every kind's id is fetched
		b, _ := enc.EncodeEvent(nil, ev)
		if _, err := f.dec.DecodeEvent(ctx, ev.Kind, b); err != nil {
			t.Fatal(err)
		}
	}
	f.fake.Down.Store(true)
	before := f.fake.Fetches.Load()
	for _, ev := range evs[50:] {
		b, _ := enc.EncodeEvent(nil, ev)
		if _, err := f.dec.DecodeEvent(ctx, ev.Kind, b); err != nil {
			t.Fatalf("registry down after warm-up: %v", err)
		}
	}
	if n := f.fake.Fetches.Load() - before; n != 0 {
		t.Fatalf("%d requests to a registry that is down, want 0", n)
	}
}

func TestRegistryDownOnColdIDWaits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.register(t, "actions-value", schemas.Action.Text())
	b, err := f.codecs.EncodeEvent(confluent.AppendHeader(nil, id), &reducer.Event{Kind: reducer.KindAction, VisitorID: "v",
		EventID: "e", OccurredAt: 9, Action: &reducer.Action{Type: reducer.ActionViewCart}})
	if err != nil {
		t.Fatal(err)
	}
	f.fake.Down.Store(true)
	// While the registry is down, the decode waits; cancelled, it returns
	// its context's error, never a rejection.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := f.dec.DecodeEvent(ctx, reducer.KindAction, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	// It comes back: the waiting decode succeeds.
	time.AfterFunc(300*time.Millisecond, func() { f.fake.Down.Store(false) })
	ev, err := f.dec.DecodeEvent(context.Background(), reducer.KindAction, b)
	if err != nil || ev.EventID != "e" {
		t.Fatalf("after the registry came back: %v, %v", ev, err)
	}
	if f.fake.Fetches.Load() < 3 {
		t.Fatalf("%d requests: the fetch was not retried", f.fake.Fetches.Load())
	}
	if !strings.Contains(f.logs.String(), "retrying") {
		t.Fatalf("no retry logged: %s", f.logs.String())
	}
}

func TestBasicAuthAndTLS(t *testing.T) {
	t.Parallel()
	const user, pass = "sessiond", "s3cret-pass"
	fake := srfake.NewRegistry(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))))
	srv := httptest.NewTLSServer(fake.Handler())
	t.Cleanup(srv.Close)
	id, _, err := fake.RegisterSchema("actions-value", sr.Schema{Schema: schemas.Action.Text()})
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	codecs, _ := schemas.Load()
	b, _ := codecs.EncodeEvent(confluent.AppendHeader(nil, id), &reducer.Event{Kind: reducer.KindAction, VisitorID: "v",
		EventID: "e", OccurredAt: 9, Action: &reducer.Action{Type: reducer.ActionViewCart}})
	decode := func(password string) (error, string) {
		var logs bytes.Buffer
		cfg := confluent.DefaultConfig()
		cfg.URLs, cfg.CAFile, cfg.User, cfg.Password, cfg.RetryMax = []string{srv.URL}, ca, user, password, 50*time.Millisecond
		reg, err := confluent.NewRegistry(cfg, nil, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		dec, err := confluent.NewDecoder(reg, codecs)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err = dec.DecodeEvent(ctx, reducer.KindAction, b)
		return err, logs.String()
	}
	if err, _ := decode(pass); err != nil {
		t.Fatalf("https with the CA file and basic auth: %v", err)
	}
	err, logs := decode("wrong-pass")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("refused credentials: err = %v, want a wait (the partition waits) ended by the context", err)
	}
	if !strings.Contains(logs, "403") || strings.Contains(logs, "wrong-pass") || strings.Contains(err.Error(), "wrong-pass") {
		t.Fatalf("the refusal should be logged with its status and without the password: %s", logs)
	}
}

func TestUpdateEncoderFramesWithTheRegisteredID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	enc, err := confluent.RegisterUpdates(context.Background(), f.reg, f.codecs, "updates")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := f.fake.GetSchema("updates-value", 1)
	if !ok || got.ID != enc.ID() {
		t.Fatalf("subject updates-value: %+v, encoder id %d", got, enc.ID())
	}
	u := &reducer.Update{UpdateID: "u1", VisitorID: "v", OccurredAt: 3, Action: &reducer.Action{Type: reducer.ActionViewCart}}
	b, err := enc.EncodeUpdate(nil, u)
	if err != nil {
		t.Fatal(err)
	}
	id, payload, err := confluent.ParseHeader(b)
	if err != nil || id != enc.ID() {
		t.Fatalf("header: id %d, err %v", id, err)
	}
	// A generic reader: the schema by id from the registry, then goavro.
	s, err := sr.NewClient(sr.URLs(f.fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	text, err := s.SchemaByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(text.Schema)
	if err != nil {
		t.Fatal(err)
	}
	native, _, err := codec.NativeFromBinary(payload)
	if err != nil || native.(map[string]any)["update_id"] != "u1" {
		t.Fatalf("decoded %v, %v", native, err)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 2})
	f.Add([]byte{})
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, payload, err := confluent.ParseHeader(b)
		if err != nil {
			return
		}
		if again := confluent.AppendHeader(nil, id); !bytes.Equal(append(again, payload...), b) {
			t.Fatalf("header %d + payload does not give back % x", id, b)
		}
	})
}
