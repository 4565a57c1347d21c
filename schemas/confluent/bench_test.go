package confluent_test

import (
	"context"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/schemas/confluent/confluenttest"
)

// BenchmarkDecode compares the CPU per event of the wire formats on the
// same generated stream (all three kinds): raw, confluent with the
// producer on sessiond's schemas (the identity plan: raw's path behind a
// header and a cache lookup), and confluent with the evolved producer
// (goavro with the writer's schema, then the resolution plan).
func BenchmarkDecode(b *testing.B) {
	f := newFixture(&testing.T{})
	b.Cleanup(f.fake.Close)
	ctx := context.Background()
	evs := events(&testing.T{}, 2000)
	same, err := confluent.RegisterEvents(ctx, f.reg, f.codecs, topics)
	if err != nil {
		b.Fatal(err)
	}
	evolved, err := confluenttest.NewProducer(ctx, f.reg, topics)
	if err != nil {
		b.Fatal(err)
	}
	type input struct {
		kind  reducer.Kind
		value []byte
	}
	encode := func(enc func(*reducer.Event) ([]byte, error)) []input {
		out := make([]input, len(evs))
		for i, ev := range evs {
			v, err := enc(ev)
			if err != nil {
				b.Fatal(err)
			}
			out[i] = input{ev.Kind, v}
		}
		return out
	}
	raw := encode(func(ev *reducer.Event) ([]byte, error) { return f.codecs.EncodeEvent(nil, ev) })
	framed := encode(func(ev *reducer.Event) ([]byte, error) { return same.EncodeEvent(nil, ev) })
	evolvedIn := encode(evolved.Encode)
	run := func(b *testing.B, in []input, decode func(reducer.Kind, []byte) error) {
		for _, x := range in { // warm the schema cache and the plans
			if err := decode(x.kind, x.value); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			x := in[i%len(in)]
			if err := decode(x.kind, x.value); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("raw", func(b *testing.B) {
		run(b, raw, func(k reducer.Kind, v []byte) error { _, err := f.codecs.DecodeEvent(k, v); return err })
	})
	b.Run("confluent-same-schema", func(b *testing.B) {
		run(b, framed, func(k reducer.Kind, v []byte) error { _, err := f.dec.DecodeEvent(ctx, k, v); return err })
	})
	// goavro alone on the same bytes: what the evolved producer's larger
	// records cost before any resolution.
	var writers [reducer.NumKinds]*goavro.Codec
	for k := range writers {
		if writers[k], err = goavro.NewCodec(confluenttest.EvolvedSchema(reducer.Kind(k))); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("goavro-only-raw", func(b *testing.B) {
		run(b, raw, func(k reducer.Kind, v []byte) error {
			_, _, err := f.codecs.Codec(kindSchema(k)).NativeFromBinary(v)
			return err
		})
	})
	b.Run("goavro-only-evolved", func(b *testing.B) {
		run(b, evolvedIn, func(k reducer.Kind, v []byte) error {
			_, _, err := writers[k].NativeFromBinary(v[confluent.HeaderSize:])
			return err
		})
	})
	b.Run("confluent-evolved", func(b *testing.B) {
		run(b, evolvedIn, func(k reducer.Kind, v []byte) error { _, err := f.dec.DecodeEvent(ctx, k, v); return err })
	})
}

func kindSchema(k reducer.Kind) schemas.Schema {
	s, _ := schemas.EventSchema(k)
	return s
}
