package emitter

import (
	"log/slog"
	"sync"
	"time"

	"github.com/sessiond/sessiond/internal/ratelog"
)

// nostoRetryLogEvery is how often, at most, the Nosto sink logs the
// requests it retries.
const nostoRetryLogEvery = 10 * time.Second

// retryLog sums up the Nosto sink's retries in at most one WARN line per
// interval, however many updates are retried how often: the requests
// retried, the updates they were for and the last failure (error, HTTP
// status, Nosto's request id). Retries a line came too early for are
// logged when the interval ends, so the lines' counts add up to every
// retry. Never an update's content: the error texts are the sink's own
// and name no token (redactURL).
type retryLog struct {
	log   *slog.Logger
	every time.Duration
	limit *ratelog.Limiter

	mu      sync.Mutex
	retries int                 // since the last line
	updates map[string]struct{} // update_ids retried since the last line
	last    NostoFailure
	wait    time.Duration // the last retry's wait
	timer   *time.Timer   // armed while retries wait for their line
}

func newRetryLog(log *slog.Logger, every time.Duration) *retryLog {
	return &retryLog{log: log, every: every, limit: ratelog.New(every), updates: map[string]struct{}{}}
}

// note counts one retry of the update updateID after f, in wait.
func (r *retryLog) note(updateID string, f NostoFailure, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries++
	r.updates[updateID] = struct{}{}
	r.last, r.wait = f, wait
	if _, ok := r.limit.Allow(); ok {
		r.write()
		return
	}
	if r.timer == nil {
		r.timer = time.AfterFunc(r.limit.Wait(), r.due)
	}
}

// due logs the retries held back, once the interval allows.
func (r *retryLog) due() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timer = nil
	if r.retries == 0 {
		return
	}
	if _, ok := r.limit.Allow(); ok {
		r.write()
		return
	}
	r.timer = time.AfterFunc(r.limit.Wait(), r.due)
}

// write logs the counts and starts them again; r.mu is held.
func (r *retryLog) write() {
	msg := "nosto requests failing, retrying"
	if r.last.Status == 0 {
		msg = "nosto unreachable (transport error, no HTTP answer), retrying"
	}
	r.log.Warn(msg, "retries", r.retries, "updates", len(r.updates), "last_error", r.last.Error,
		"last_status", r.last.Status, "last_request_id", r.last.RequestID, "last_wait", r.wait, "interval", r.every)
	r.retries = 0
	clear(r.updates)
}
