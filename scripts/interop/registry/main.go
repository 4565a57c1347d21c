// Command registry serves an in-memory Confluent-compatible Schema
// Registry on an address, for scripts/interop.
package main

import (
	"flag"
	"log"

	"github.com/sessiond/sessiond/schemas/confluent/confluenttest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	flag.Parse()
	if _, _, err := confluenttest.Serve(*addr); err != nil {
		log.Fatal(err)
	}
	select {}
}
