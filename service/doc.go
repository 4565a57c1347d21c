// Package service assembles the sessiond service once: the consumer
// (sources, merge, reducer, flush), the sinks (emitter), the metrics
// registry and the HTTP endpoints. `sessiond run`, `sessiond demo`,
// sessiond-load and the tests all build it through New, so that no path
// wires the pipeline differently.
//
// Run checks everything it can without side effects first (input topics
// co-partitioned, output topic present, HTTP port free), then creates the
// changelog and dead-letter topics, then serves until its context ends and
// drains.
package service
