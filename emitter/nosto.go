package emitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/sessiond/sessiond/internal/buildinfo"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/ratelog"
	"github.com/sessiond/sessiond/reducer"
	"golang.org/x/time/rate"
)

// NostoConfig configures a NostoSink. Start from DefaultNostoConfig.
type NostoConfig struct {
	// Endpoint is Nosto's GraphQL URL, e.g. https://api.nosto.com/v1/graphql.
	// Required.
	Endpoint string
	// Token is the API_APPS token (HTTP Basic password, empty user). Never
	// logged. Required.
	Token string
	// Lookup is "cid" (visitor_id is Nosto's session id) or "ref"
	// (customer_reference). Default: "cid".
	Lookup string
	// Concurrency caps the requests in flight, across visitors; one
	// visitor's updates are always sent one at a time, in order. Default: 64.
	Concurrency int
	// RPS caps requests per second; 0 is no cap. Default: 0.
	RPS float64
	// Timeout bounds one request. Default: 10s.
	Timeout time.Duration
	// MaxRetry bounds the retries of one update (transport errors, time-outs,
	// 408, 429, 5xx) before it is dead-lettered. Default: 10m.
	MaxRetry time.Duration
	// TestTraffic sends X-Nosto-Ignore: True (not counted in statistics).
	TestTraffic bool
	// DeadLetter receives an update Nosto refused for good or that ran out
	// of retries; it must have it durably (the dead-letter topic) when it
	// returns nil. Required.
	DeadLetter func(ctx context.Context, u *reducer.Update, f NostoFailure) error
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// Metrics receives the sink's metrics. Default: a set registered nowhere.
	Metrics *NostoMetrics
	// Client makes the requests. Default: an http.Client of its own that
	// keeps Concurrency connections alive.
	Client *http.Client
}

// Defaults of NostoConfig.
const (
	DefaultNostoConcurrency = 64
	DefaultNostoTimeout     = 10 * time.Second
	DefaultNostoMaxRetry    = 10 * time.Minute
)

// DefaultNostoConfig returns the defaults; Endpoint, Token and DeadLetter
// are left to the caller.
func DefaultNostoConfig() NostoConfig {
	return NostoConfig{Lookup: LookupCID, Concurrency: DefaultNostoConcurrency, Timeout: DefaultNostoTimeout,
		MaxRetry: DefaultNostoMaxRetry, Logger: slog.Default()}
}

// Validate reports the first problem with c. It changes nothing.
func (c *NostoConfig) Validate() error {
	u, err := url.Parse(c.Endpoint)
	switch {
	case c.Endpoint == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return config.Errorf("Endpoint", "nosto endpoint %q is not an http(s) URL", c.Endpoint)
	case c.Token == "":
		return config.Errorf("Token", "no Nosto token")
	case c.Lookup != LookupCID && c.Lookup != LookupRef:
		return config.Errorf("Lookup", "nosto lookup %q is not cid or ref", c.Lookup)
	case c.Concurrency < 1:
		return config.Errorf("Concurrency", "nosto concurrency %d must be at least 1", c.Concurrency)
	case c.RPS < 0:
		return config.Errorf("RPS", "nosto rps %v must not be negative", c.RPS)
	case c.Timeout <= 0:
		return config.Errorf("Timeout", "nosto timeout %v must be positive", c.Timeout)
	case c.MaxRetry <= 0:
		return config.Errorf("MaxRetry", "nosto max retry %v must be positive", c.MaxRetry)
	case c.DeadLetter == nil:
		return errors.New("nosto sink: no dead-letter writer")
	case c.Logger == nil:
		return errors.New("nosto sink: no logger")
	}
	return nil
}

// NostoFailure says why an update was dead-lettered.
type NostoFailure struct {
	Reason    string // "graphql", "http", "retries", "reference"
	Error     string
	Status    int    // HTTP status; 0 without a response
	RequestID string // Nosto's X-Request-Id, if any
}

// NostoSink sends every update to Nosto's GraphQL API: many requests in
// flight across visitors, one visitor's updates one at a time and in
// order, retried with jittered exponential backoff; what cannot be sent
// is dead-lettered. Write returns once every update is acknowledged (HTTP
// 200 without GraphQL errors) or dead-lettered: only then are the input
// offsets committed. It is safe for concurrent use.
type NostoSink struct {
	cfg     NostoConfig
	slots   chan struct{} // Concurrency
	limiter *rate.Limiter // nil: no cap
	auth    string
	agent   string
	m       *NostoMetrics
	retries *retryLog
	dead    *ratelog.Limiter // the dead-letter WARN: one line per nostoRetryLogEvery
}

// NewNostoSink validates cfg and returns the sink.
func NewNostoSink(cfg NostoConfig) (*NostoSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Client == nil { // keep a connection per request in flight alive
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost, t.MaxConnsPerHost = cfg.Concurrency, cfg.Concurrency
		cfg.Client = &http.Client{Transport: t}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewNostoMetrics()
	}
	s := &NostoSink{cfg: cfg, slots: make(chan struct{}, cfg.Concurrency), m: cfg.Metrics,
		auth: "Basic " + basicAuth("", cfg.Token), agent: "sessiond/" + buildinfo.Get().Version,
		retries: newRetryLog(cfg.Logger, nostoRetryLogEvery), dead: ratelog.New(nostoRetryLogEvery)}
	if cfg.RPS > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.RPS), 1)
	}
	return s, nil
}

// Name identifies the sink in logs and metrics.
func (s *NostoSink) Name() string { return "nosto" }

// Write sends the updates: visitors concurrently, each visitor's updates in
// order. It returns nil once every update is acknowledged or
// dead-lettered, or the first error of a dead-letter write (or ctx's).
func (s *NostoSink) Write(ctx context.Context, updates []*reducer.Update) error {
	s.m.Backlog.Add(float64(len(updates)))
	defer s.m.Backlog.Sub(float64(len(updates)))
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for _, chain := range byVisitor(updates) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, u := range chain {
				if err := s.deliver(ctx, u); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// byVisitor groups updates by visitor, keeping each visitor's order.
func byVisitor(updates []*reducer.Update) [][]*reducer.Update {
	index := map[string]int{}
	var chains [][]*reducer.Update
	for _, u := range updates {
		i, ok := index[u.VisitorID]
		if !ok {
			i = len(chains)
			index[u.VisitorID] = i
			chains = append(chains, nil)
		}
		chains[i] = append(chains[i], u)
	}
	return chains
}

// deliver sends one update until Nosto acknowledges it, or dead-letters it
// after a permanent failure or MaxRetry of retries.
func (s *NostoSink) deliver(ctx context.Context, u *reducer.Update) error {
	req, err := nostoRequest(u, s.cfg.Lookup)
	if err != nil {
		return s.deadLetter(ctx, u, NostoFailure{Reason: "reference", Error: err.Error()})
	}
	body, err := json.Marshal(req)
	if err != nil {
		return s.deadLetter(ctx, u, NostoFailure{Reason: "encode", Error: err.Error()})
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = 100*time.Millisecond, 30*time.Second, s.cfg.MaxRetry
	for {
		res := s.attempt(ctx, body, u.UpdateID)
		switch {
		case res.ok:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case res.permanent:
			return s.deadLetter(ctx, u, res.failure)
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			f := res.failure
			f.Reason, f.Error = "retries", "gave up after "+s.cfg.MaxRetry.String()+": "+f.Error
			return s.deadLetter(ctx, u, f)
		}
		wait = max(wait, res.retryAfter)
		s.m.Retries.Inc()
		s.retries.note(u.UpdateID, res.failure, wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// attemptResult is what one request gave.
type attemptResult struct {
	ok, permanent bool
	retryAfter    time.Duration
	failure       NostoFailure
}

// attempt sends one request within a concurrency slot and the rate limit.
func (s *NostoSink) attempt(ctx context.Context, body []byte, updateID string) attemptResult {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return attemptResult{failure: NostoFailure{Error: ctx.Err().Error()}}
	}
	defer func() { <-s.slots }()
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			return attemptResult{failure: NostoFailure{Error: err.Error()}}
		}
	}
	s.m.InFlight.Inc()
	defer s.m.InFlight.Dec()
	begin := time.Now()
	res := s.post(ctx, body, updateID)
	s.m.Seconds.Observe(time.Since(begin).Seconds())
	s.m.count(res)
	return res
}

// newRequest is a GraphQL POST of body to the endpoint with the sink's
// headers (token, user agent, test traffic): updates and the start-up
// probe send the same.
func (s *NostoSink) newRequest(ctx context.Context, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", s.auth)
	req.Header.Set("User-Agent", s.agent)
	if s.cfg.TestTraffic {
		req.Header.Set("X-Nosto-Ignore", "True")
	}
	return req, nil
}

// post makes the HTTP request and classifies its outcome.
func (s *NostoSink) post(ctx context.Context, body []byte, updateID string) attemptResult {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := s.newRequest(rctx, body)
	if err != nil {
		return attemptResult{permanent: true, failure: NostoFailure{Reason: "http", Error: err.Error()}}
	}
	req.Header.Set("Idempotency-Key", updateID) // the update_id: the same for every retry and replay
	resp, err := s.cfg.Client.Do(req)
	if err != nil { // transport error or time-out: retry
		return attemptResult{failure: NostoFailure{Reason: "http", Error: redactURL(err)}}
	}
	defer resp.Body.Close()
	payload, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	f := NostoFailure{Reason: "http", Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	switch {
	case resp.StatusCode == http.StatusOK:
		return classifyGraphQL(payload, f)
	case resp.StatusCode == http.StatusTooManyRequests:
		f.Error = "429 too many requests"
		return attemptResult{failure: f, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		f.Error = resp.Status
		return attemptResult{failure: f}
	}
	f.Error = resp.Status // other 4xx: the request is wrong, retrying cannot help
	return attemptResult{permanent: true, failure: f}
}

// classifyGraphQL reads a 200 answer: GraphQL errors are permanent.
func classifyGraphQL(payload []byte, f NostoFailure) attemptResult {
	var out struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(payload, &out); err != nil {
		f.Error = "the answer is not JSON: " + err.Error()
		return attemptResult{failure: f} // a proxy's page, say: retry
	}
	if len(out.Errors) > 0 {
		f.Reason, f.Error = "graphql", out.Errors[0].Message
		return attemptResult{permanent: true, failure: f}
	}
	return attemptResult{ok: true}
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// redactURL drops the URL from an http.Client error: it may carry
// credentials a user put in --nosto-endpoint.
func redactURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " nosto endpoint: " + ue.Err.Error()
	}
	return err.Error()
}

// deadLetter hands u to the dead-letter writer and counts it. Its WARN
// goes out at most once per nostoRetryLogEvery (a long outage dead-letters
// every update once its retries run out), with how many dead letters it
// stands for; the metric counts every one.
func (s *NostoSink) deadLetter(ctx context.Context, u *reducer.Update, f NostoFailure) error {
	s.m.DeadLettered.WithLabelValues(f.Reason).Inc()
	if held, ok := s.dead.Allow(); ok {
		s.cfg.Logger.Warn(deadLetterMessage(f), "update_id", u.UpdateID, "reason", f.Reason,
			"status", f.Status, "error", f.Error, "request_id", f.RequestID, "dead_lettered_not_logged_since_last_line", held)
	}
	if err := s.cfg.DeadLetter(ctx, u, f); err != nil {
		return fmt.Errorf("dead-letter update %s: %w", u.UpdateID, err)
	}
	return nil
}

// deadLetterMessage tells an answer Nosto gave (a refusal) from none at
// all (a refused connection, a DNS failure, a time-out).
func deadLetterMessage(f NostoFailure) string {
	switch {
	case f.Status != 0:
		return "nosto refused an update; dead-lettered"
	case f.Reason == "retries":
		return "nosto unreachable (transport error, no HTTP answer); update dead-lettered"
	}
	return "nosto update not sent; dead-lettered"
}
