package confluenttest

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Registry is an in-memory Confluent-compatible Schema Registry (franz-go's
// srfake) served over HTTP on loopback, with compatibility NONE (the
// evolved schemas drop "unknown" from the enum), that a test can take
// down: all of it, or only the schema fetches by id.
type Registry struct {
	*srfake.Registry
	Down      atomic.Bool  // 503 to every request
	FetchDown atomic.Bool  // 503 to GET /schemas/ids/... only
	Fetches   atomic.Int64 // GET /schemas/ids/... requests seen
}

// NewRegistry starts one; Close stops it.
func NewRegistry() *Registry {
	r := &Registry{Registry: srfake.New(srfake.WithGlobalCompat(sr.CompatNone))}
	r.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
		fetch := strings.HasPrefix(req.URL.Path, "/schemas/ids/")
		if fetch {
			r.Fetches.Add(1)
		}
		if r.Down.Load() || fetch && r.FetchDown.Load() {
			http.Error(w, `{"error_code":50301,"message":"down for the test"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	return r
}

// Serve serves an in-memory registry on addr ("127.0.0.1:0": a free port)
// until stop is called, for `sessiond demo`, sessiond-load and
// scripts/interop, and returns its URL.
func Serve(addr string) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("start the in-memory schema registry: %w", err)
	}
	srv := &http.Server{Handler: srfake.NewRegistry().Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
