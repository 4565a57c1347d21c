package service

import (
	"context"
	"fmt"

	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
)

// newConfluent sets up the confluent wire format: the registry client, its
// metrics and the decoder of the inputs.
func (s *Service) newConfluent(codecs *schemas.Codecs) error {
	m := confluent.NewMetrics()
	if err := m.Register(s.registry); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	reg, err := confluent.NewRegistry(s.cfg.Registry, m, s.log)
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	dec, err := confluent.NewDecoder(reg, codecs)
	if err != nil {
		return err
	}
	s.schemaRegistry = reg
	s.cfg.Consumer.Decoder = dec
	return nil
}

// updateEncoder returns an encoder framing updates for topic; Run
// registers its schema before the pipeline starts.
func (s *Service) updateEncoder(codecs *schemas.Codecs, topic string) *confluent.UpdateEncoder {
	enc := &confluent.UpdateEncoder{Codecs: codecs}
	s.updateEncoders = append(s.updateEncoders, registration{enc: enc, topic: topic})
	return enc
}

// registerSchemas registers session_update.avsc under the subject of each
// topic updates are written to ("<topic>-value"), retrying while the
// registry cannot be reached.
func (s *Service) registerSchemas(ctx context.Context) error {
	for _, r := range s.updateEncoders {
		if err := r.enc.Register(ctx, s.schemaRegistry, r.topic); err != nil {
			return fmt.Errorf("schema registry: %w", err)
		}
		s.log.Info("schema registered", "subject", confluent.Subject(r.topic), "id", r.enc.ID())
	}
	return nil
}
