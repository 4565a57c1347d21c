package emitter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// BenchmarkNostoSink20ms sends updates through the sink with its defaults
// (64 requests in flight) to a local server that answers in 20 ms, as
// Nosto might, from 4 concurrent writers of 500-update batches (as 4
// partitions' tasks do). It reports updates/s and the process's CPU per
// update (the server's share included: it runs in the same process).
func BenchmarkNostoSink20ms(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte(`{"data":{"updateSession":{"id":"s"}}}`))
	}))
	defer srv.Close()
	cfg := DefaultNostoConfig()
	cfg.Endpoint, cfg.Token = srv.URL, "t"
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.DeadLetter = func(context.Context, *reducer.Update, NostoFailure) error { return nil }
	s, err := NewNostoSink(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const writers, batch = 4, 500
	batches := make([][]*reducer.Update, writers)
	for w := range batches {
		for i := range batch {
			batches[w] = append(batches[w], update(fmt.Sprint(w, "-", i), fmt.Sprint("v", w, "-", i),
				&reducer.Action{Type: reducer.ActionViewProduct, ProductID: str("p1")}, fullCart, fullCust))
		}
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	begin := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range b.N {
				if err := s.Write(context.Background(), batches[w]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(begin).Seconds()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	n := float64(b.N * writers * batch)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Microsecond
	b.ReportMetric(n/secs, "updates/s")
	b.ReportMetric(float64(cpu)/n, "cpu-µs/update")
}
