// Command registry serves an in-memory Confluent-compatible Schema
// Registry (franz-go's srfake) on an address, for scripts/interop.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: srfake.NewRegistry().Handler(), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
