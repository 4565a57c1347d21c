package main

import (
	"context"

	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/schemas/confluent/confluenttest"
)

// wire is the wire format of the run: raw, or confluent with a Schema
// Registry served by this process (franz-go's srfake over HTTP on
// loopback), which sessiond and the baseline reach like any registry.
type wire struct {
	format  string
	evolved bool // the producer writes the evolved schemas (confluenttest)
	url     string
	reg     *confluent.Registry
	stop    func()
}

// start serves the registry (confluent only).
func (w *wire) start() error {
	if w.format != "confluent" {
		return nil
	}
	var err error
	if w.url, w.stop, err = confluenttest.Serve("127.0.0.1:0"); err != nil {
		return err
	}
	cfg := confluent.DefaultConfig()
	cfg.URLs = []string{w.url}
	w.reg, err = confluent.NewRegistry(cfg, nil, nil)
	return err
}

// flags are the wire flags of `sessiond run` and `replay`.
func (w *wire) flags() []string {
	if w.format != "confluent" {
		return nil
	}
	return []string{"--wire-format", "confluent", "--schema-registry-url", w.url}
}

// encoder returns how the stream's events are written to topics.
func (w *wire) encoder(ctx context.Context, codecs *schemas.Codecs, topics [3]string) (func(*reducer.Event) ([]byte, error), error) {
	switch {
	case w.format != "confluent":
		return func(ev *reducer.Event) ([]byte, error) { return codecs.EncodeEvent(nil, ev) }, nil
	case w.evolved:
		p, err := confluenttest.NewProducer(ctx, w.reg, topics)
		if err != nil {
			return nil, err
		}
		return p.Encode, nil
	}
	e, err := confluent.RegisterEvents(ctx, w.reg, codecs, topics)
	if err != nil {
		return nil, err
	}
	return func(ev *reducer.Event) ([]byte, error) { return e.EncodeEvent(nil, ev) }, nil
}

// decoder is the baseline's decoder: the same path sessiond takes.
func (w *wire) decoder(codecs *schemas.Codecs) (consumer.Decoder, error) {
	if w.format != "confluent" {
		return consumer.RawDecoder(codecs), nil
	}
	return confluent.NewDecoder(w.reg, codecs)
}
