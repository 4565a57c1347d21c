package confluent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/linkedin/goavro/v2"
	"github.com/sessiond/sessiond/internal/buildinfo"
	"github.com/sessiond/sessiond/schemas/resolve"
	"github.com/twmb/franz-go/pkg/sr"
	"golang.org/x/sync/singleflight"
)

// ErrUnknownID: the registry does not have the schema id (HTTP 404).
var ErrUnknownID = errors.New("schema id not found in the registry")

// ErrUnusable: the registry's schema cannot be used (not Avro, uses
// references, does not compile).
var ErrUnusable = errors.New("writer schema unusable")

// notFoundTTL is how long an id the registry answered 404 for is not asked
// again: a topic full of records with a bad id costs one request a minute,
// not one per record.
const notFoundTTL = time.Minute

// Registry fetches writer schemas by id and keeps them for good, and
// registers sessiond's own. It is safe for concurrent use.
type Registry struct {
	cl      *sr.Client
	cfg     Config
	log     *slog.Logger
	metrics *Metrics

	schemas  sync.Map // int -> *writer
	notFound sync.Map // int -> time.Time: until when the 404 stands
	flight   singleflight.Group
}

// writer is a writer's schema as fetched: compiled, or why it cannot be.
type writer struct {
	id     int
	codec  *goavro.Codec
	parsed *resolve.Type
	err    error    // wraps ErrUnusable
	plans  sync.Map // reader *resolve.Type -> *plan
}

// NewRegistry builds the client; it does no I/O. metrics and log may be nil.
func NewRegistry(cfg Config, metrics *Metrics, log *slog.Logger) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	httpcl, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	opts := []sr.ClientOpt{sr.URLs(cfg.URLs...), sr.HTTPClient(httpcl), sr.UserAgent("sessiond/" + buildinfo.Get().Version)}
	if cfg.User != "" {
		opts = append(opts, sr.BasicAuth(cfg.User, cfg.Password))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	if metrics == nil {
		metrics = NewMetrics()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{cl: cl, cfg: cfg, log: log, metrics: metrics}, nil
}

// schema returns the writer's schema of id, from the cache or fetched.
// A registry that cannot answer is retried until ctx ends (the error is
// then ctx's); a 404 returns an error wrapping ErrUnknownID.
func (r *Registry) schema(ctx context.Context, id int) (*writer, error) {
	if w, ok := r.schemas.Load(id); ok {
		return w.(*writer), nil
	}
	if until, ok := r.notFound.Load(id); ok && time.Now().Before(until.(time.Time)) {
		return nil, fmt.Errorf("schema id %d: %w", id, ErrUnknownID)
	}
	for {
		w, err := r.fetchOnce(ctx, id)
		// Another caller's fetch that ended with its context: fetch again.
		if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			continue
		}
		return w, err
	}
}

// fetchOnce fetches id once for all the callers that miss it together.
func (r *Registry) fetchOnce(ctx context.Context, id int) (*writer, error) {
	v, err, _ := r.flight.Do(strconv.Itoa(id), func() (any, error) {
		if w, ok := r.schemas.Load(id); ok {
			return w, nil
		}
		s, err := r.fetch(ctx, id)
		if err != nil {
			return nil, err
		}
		w := compileWriter(id, s)
		r.schemas.Store(id, w)
		r.metrics.Cached.Inc()
		return w, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*writer), nil
}

// fetch asks the registry for id, retrying what may pass.
func (r *Registry) fetch(ctx context.Context, id int) (sr.Schema, error) {
	var s sr.Schema
	op := func() error {
		var err error
		s, err = r.cl.SchemaByID(ctx, id)
		switch {
		case err == nil:
			r.metrics.Requests.WithLabelValues("fetch", "ok").Inc()
			return nil
		case isNotFound(err):
			r.metrics.Requests.WithLabelValues("fetch", "not_found").Inc()
			r.notFound.Store(id, time.Now().Add(notFoundTTL))
			return backoff.Permanent(fmt.Errorf("schema id %d: %w", id, ErrUnknownID))
		}
		r.metrics.Requests.WithLabelValues("fetch", "error").Inc()
		return fmt.Errorf("fetch schema id %d: %w", id, describe(err))
	}
	err := backoff.RetryNotify(op, backoff.WithContext(r.backoff(), ctx), r.notify("fetch schema id "+strconv.Itoa(id)))
	if err != nil && ctx.Err() != nil {
		return s, fmt.Errorf("fetch schema id %d: %w", id, ctx.Err())
	}
	return s, err
}

// Register registers an Avro schema under subject and returns its id,
// retrying until ctx ends. Registering a schema the subject already has
// returns its existing id.
func (r *Registry) Register(ctx context.Context, subject, schema string) (int, error) {
	var id int
	op := func() error {
		ss, err := r.cl.CreateSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro})
		if err == nil {
			r.metrics.Requests.WithLabelValues("register", "ok").Inc()
			id = ss.ID
			return nil
		}
		r.metrics.Requests.WithLabelValues("register", "error").Inc()
		err = fmt.Errorf("register a schema under subject %s: %w", subject, describe(err))
		if permanentRegister(err) {
			return backoff.Permanent(err)
		}
		return err
	}
	err := backoff.RetryNotify(op, backoff.WithContext(r.backoff(), ctx), r.notify("register subject "+subject))
	if err != nil && ctx.Err() != nil {
		return 0, fmt.Errorf("register a schema under subject %s: %w", subject, ctx.Err())
	}
	return id, err
}

func (r *Registry) backoff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = 100*time.Millisecond, r.cfg.RetryMax, 0
	return b
}

func (r *Registry) notify(what string) backoff.Notify {
	return func(err error, wait time.Duration) {
		r.metrics.Retries.Inc()
		r.log.Warn("schema registry request failed, retrying; the partition waits", "request", what, "error", err, "wait", wait)
	}
}

func isNotFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// permanentRegister: the registry refused the schema itself (409: not
// compatible with the subject's, 422: invalid); retrying cannot help.
func permanentRegister(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusUnprocessableEntity)
}

// describe keeps an HTTP error's status and the registry's message (never
// the request's credentials, which travel in a header).
func describe(err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("HTTP %d from the registry: %s", re.StatusCode, re.Message)
	}
	return err
}

// compileWriter prepares a fetched schema; what cannot be used is kept as
// the reason, for the dead letters of its records.
func compileWriter(id int, s sr.Schema) *writer {
	w := &writer{id: id}
	switch {
	case s.Type != sr.TypeAvro:
		w.err = fmt.Errorf("schema id %d: %w: it is a %s schema, sessiond reads Avro", id, ErrUnusable, s.Type)
	case len(s.References) > 0:
		w.err = fmt.Errorf("schema id %d: %w: it uses schema references, which sessiond does not resolve", id, ErrUnusable)
	default:
		var err error
		if w.codec, err = goavro.NewCodec(s.Schema); err != nil {
			w.err = fmt.Errorf("schema id %d: %w: %w", id, ErrUnusable, err)
		} else if w.parsed, err = resolve.Parse(s.Schema); err != nil {
			w.err = fmt.Errorf("schema id %d: %w: %w", id, ErrUnusable, err)
		}
	}
	return w
}
