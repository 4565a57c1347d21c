package reducer_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	generator "github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
)

// BenchmarkStateMemory measures what one visitor's state costs in memory,
// for the sizing guide: the Go heap a Reducer holds per visitor after a
// generated stream of so many events per visitor (live: decoded
// snapshots), and after the same state is restored from its changelog
// form (restored: RestoreEncoded keeps the bytes until the visitor's next
// event). Run with -benchtime=1x; each iteration builds the whole state.
//
//	go test -run '^$' -bench StateMemory -benchtime 1x ./reducer/
func BenchmarkStateMemory(b *testing.B) {
	const visitors = 100_000
	for _, perVisitor := range []int{2, 8, 32} {
		b.Run("events_per_visitor="+strconv.Itoa(perVisitor), func(b *testing.B) {
			codecs, err := schemas.Load()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				live, ids, heapLive := buildState(b, visitors, perVisitor)
				var encodedBytes int
				restored, err := reducer.New(reducer.Config{SessionTTL: 24 * time.Hour, Decode: codecs.DecodeSnapshot})
				if err != nil {
					b.Fatal(err)
				}
				before := heapInUse()
				for _, id := range ids {
					s := live.Snapshot(id)
					data, err := codecs.EncodeSnapshot(nil, s)
					if err != nil {
						b.Fatal(err)
					}
					encodedBytes += len(data)
					restored.RestoreEncoded(id, s.LastSeen, 0, data)
				}
				heapRestored := heapInUse() - before
				runtime.KeepAlive(restored)
				b.ReportMetric(float64(heapLive)/float64(len(ids)), "live-B/visitor")
				b.ReportMetric(float64(heapRestored)/float64(len(ids)), "restored-B/visitor")
				b.ReportMetric(float64(encodedBytes)/float64(len(ids)), "changelog-B/snapshot")
				runtime.KeepAlive(live)
			}
		})
	}
}

// buildState applies visitors × perVisitor generated events to a new
// Reducer and returns it, its visitor ids and the heap it grew by (the
// visitor id strings included: they are the state's map keys; the
// restored figure leaves them out, as it reuses these).
func buildState(b *testing.B, visitors, perVisitor int) (*reducer.Reducer, []string, uint64) {
	b.Helper()
	g, err := generator.New(generator.Config{Seed: 7, Visitors: visitors, MeanGap: time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 0, visitors) // the benchmark's bookkeeping, allocated before the count starts
	seen := make(map[string]bool, visitors)
	r, err := reducer.New(reducer.Config{SessionTTL: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	before := heapInUse()
	for range visitors * perVisitor {
		ev := g.Next() // what the state keeps of it is the state's
		if _, err := r.Apply(ev); err != nil {
			b.Fatal(err)
		}
		if !seen[ev.VisitorID] {
			seen[ev.VisitorID] = true
			ids = append(ids, ev.VisitorID)
		}
	}
	heap := heapInUse() - before
	runtime.KeepAlive(seen)
	return r, ids, heap
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
