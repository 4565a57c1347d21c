// Command sessiond-load measures sessiond end to end against a real Kafka
// cluster, in six phases (or, with --soak, one long run instead; below):
//
//  1. preload: create fresh, randomly named topics and produce a generated
//     shopper stream (internal/gen) to them, keyed by visitor with the
//     Murmur2 partitioner, as raw Avro (schemas.Codecs.EncodeEvent);
//  2. baseline: read the three input topics to the end with bare kafka-go
//     Readers (one per topic-partition, no group) and decode every record
//     with schemas.Codecs.DecodeEvent — the ceiling for the pipeline;
//  3. pipeline throughput: run `sessiond run` from scratch on the preloaded
//     topics and time it until the output topic holds one update per action;
//     before it, with --kstreams-jar, bench/kstreams (the same job written
//     with Kafka Streams' Processor API and a RocksDB store with a
//     changelog) runs on the same preloaded topics, once with Kafka
//     Streams' defaults and once tuned (--tuned, ParallelGC), each a fresh
//     application timed until its own output topic holds one update per
//     action; sessiond's rate over each is reported as a ratio;
//  4. restore: stop that process with SIGTERM and start another in the same
//     group, and time how fast it restores the snapshots from the changelog;
//  5. latency: with that process caught up, produce more of the same stream
//     at --rate events/s for --latency-seconds (0 skips the phase) and
//     measure, per update, the output record's Kafka timestamp minus the
//     producer's timestamp of its action record; with --rebalance
//     scale-out|restart a second member joins (or the member is restarted)
//     a third of the way in, and the report gives what that cost
//     (rebalance.go);
//  6. replay: run `sessiond replay` over the records the pipeline phase read
//     (--end-offsets at the preload's end), the whole history as the window
//     and a topic as the output, timed from process start to exit, and
//     compare its rate with the pipeline's.
//
// --processing-guarantee sets sessiond's guarantee: at-least-once (the
// default), exactly-once (the output is then read as a read_committed
// consumer reads it, so latency is the time to the update's visible
// commit, and the Kafka Streams peer runs with exactly_once_v2), or both:
// all phases at least once, then phases 3 and 5 again exactly-once on a
// fresh group and output topic (guarantees.go), the peer in both modes,
// and the two guarantees side by side in one report.
//
// The timed throughput phases (the baseline, each Kafka Streams mode, the
// pipeline) start once the machine is quiet: a second with under 0.25
// busy cores, waiting at most a minute (settle.go), so that what one phase
// leaves running (a JVM exiting, the broker deleting topics) does not land
// in the next one's figure. The report says how long each waited.
//
// Each phase prints a result line on stderr; the end prints a Markdown table
// on stdout (and, with --json FILE, the same figures as JSON), with the
// targets (report.go): ≥ 150,000 events/s end to end, ≥ 50% of the
// baseline, ≥ 2.5× the tuned Kafka Streams implementation, restore
// ≥ 200,000 snapshots/s, replay ≥ 1.5× the pipeline, p99 < 50 ms and
// p50 < 15 ms at 10,000 events/s.
//
// With --soak DURATION the phases are replaced by one sessiond running that
// long on the fresh topics at --rate events/s, sampled every 5 s (RSS, Go
// heap, GC cycles and pauses, lag); the report judges its memory after
// --soak-warmup, and --plot-dir writes soak.csv and SVG plots (soak.go,
// plot.go).
//
// The command is in the benchmark module (bench/go.mod, which replaces
// github.com/sessiond/sessiond with the working tree above it), so it runs
// from bench/ (relative paths in its flags are then relative to bench/):
//
//	eval "$(bash scripts/kafka.sh up)"
//	cd bench
//	go run ./sessiond-load                       # defaults: 1M events, 100k visitors
//	go run ./sessiond-load --events 100000 --latency-seconds 10
//	go run ./sessiond-load --profile /tmp/prof   # pipeline in process, CPU profiles
//
// or is built once, `go build -C bench -o /tmp/sl/sessiond-load ./sessiond-load`,
// and run from anywhere in the checkout.
//
// sessiond runs as a subprocess (subprocess.go), built with `go build
// ./cmd/sessiond` in the repository's root module, with the product's own
// go.mod (or given by --sessiond-bin), so that the pipeline, the load
// generator and the broker are three processes sharing the machine. With
// --profile the pipeline runs inside this process instead, assembled by
// service.New as `sessiond run` assembles it (inprocess.go), and a CPU
// profile and a (cumulative) goroutine-blocking profile are written per
// phase for `go tool pprof`. In process the pipeline runs with this
// process's garbage collector settings (Go's default GOGC=100 unless GOGC
// is set), not with the GOGC=200 the sessiond binary defaults to, so its
// rates are lower than the subprocess's.
//
// CPU use per phase is read from /proc (cpu.go): the machine, sessiond, this
// process, the broker (a local process running kafka.Kafka) and the rest.
//
// The topics are deleted at the end unless --keep-topics is set.
package main
