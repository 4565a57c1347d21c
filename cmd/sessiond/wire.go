package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/service"
)

// wireFlags are --wire-format and the Schema Registry's flags, shared by
// every command that reads or writes the topics.
type wireFlags struct {
	format   *string
	registry *confluent.Config
	authFile string
}

// bindWireFlags declares the flags into format and registry (whose values
// are the defaults).
func bindWireFlags(fs *flag.FlagSet, format *string, registry *confluent.Config) *wireFlags {
	w := &wireFlags{format: format, registry: registry}
	fs.StringVar(format, "wire-format", *format, "record framing: raw (bare Avro binary) or confluent (magic byte, schema id, Avro; needs --schema-registry-url)")
	bindRegistryFlags(fs, registry, &w.authFile)
	return w
}

// bindRegistryFlags declares the registry flags, bound into c; authFile
// receives --schema-registry-basic-auth-file. Call LoadSecrets after
// parsing.
func bindRegistryFlags(fs *flag.FlagSet, c *confluent.Config, authFile *string) {
	fs.Func("schema-registry-url", "Schema Registry URL(s), comma-separated (required with --wire-format confluent)", func(v string) error {
		c.URLs = nil
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				c.URLs = append(c.URLs, u)
			}
		}
		return nil
	})
	fs.StringVar(authFile, "schema-registry-basic-auth-file", *authFile,
		"file holding user:password for the registry's basic auth (or set "+confluent.EnvUser+" and "+confluent.EnvPassword+")")
	fs.StringVar(&c.CAFile, "schema-registry-ca-file", c.CAFile, "PEM bundle of the CAs of an https registry's certificate (default: the system's roots)")
	fs.DurationVar(&c.Timeout, "schema-registry-timeout", c.Timeout, "bound on each request to the registry")
}

// load reads the registry's credentials and checks the flags (usage
// errors name the flag).
func (w *wireFlags) load() error {
	switch *w.format {
	case service.WireRaw:
		if len(w.registry.URLs) > 0 {
			return usagef("--schema-registry-url is given, but --wire-format is raw")
		}
		return nil
	case service.WireConfluent:
	default:
		return usagef("--wire-format %q is not raw or confluent", *w.format)
	}
	if err := w.registry.LoadSecrets(w.authFile, os.LookupEnv); err != nil {
		return fieldUsage(config.Within("Registry", err))
	}
	if err := w.registry.Validate(); err != nil {
		return fieldUsage(config.Within("Registry", err))
	}
	return nil
}

func (w *wireFlags) confluent() bool { return *w.format == service.WireConfluent }

// open builds the registry client (confluent only; nil for raw).
func (w *wireFlags) open(log *slog.Logger) (*confluent.Registry, error) {
	if !w.confluent() {
		return nil, nil
	}
	reg, err := confluent.NewRegistry(*w.registry, nil, log)
	if err != nil {
		return nil, usagef("schema registry: %v", err)
	}
	return reg, nil
}

// eventEncoder writes input events (produce, demo).
type eventEncoder interface {
	EncodeEvent(dst []byte, ev *reducer.Event) ([]byte, error)
}

// eventEncoderFor returns the encoder of input events: bare Avro, or,
// with a registry, framed with the ids of the input schemas registered
// (here) under their topics' subjects.
func eventEncoderFor(ctx context.Context, reg *confluent.Registry, codecs *schemas.Codecs, topics [reducer.NumKinds]string) (eventEncoder, error) {
	if reg == nil {
		return codecs, nil
	}
	enc, err := confluent.RegisterEvents(ctx, reg, codecs, topics)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	return enc, nil
}
