// Package consumer is the Kafka side of the pipeline: it joins the consumer
// group, owns input partitions, restores their snapshots from the changelog,
// merges the three input topics in event-time order, feeds the reducer and
// flushes each batch durably to the sinks. The contract it implements is
// docs/design.md §2 (ordering and time) and §5 (runtime).
//
// # Stages
//
//	sources (one per input topic-partition: the pipeline's own fetcher, decoding as it fetches)
//	  → merger (event-time order: occurred_at, then kind, then offset)
//	  → reducer (pure: reducer.Reducer, one per partition)
//	  → batch → flush: outputs (every Sink + dead letters) → partition state (changelog → offsets)
//
// CoPartitionBalancer gives partition N of the cart, customer and action
// topics to one member, which runs one task for N. A topic-partition whose
// high watermark says data is still on the broker is always waited for, so
// a replay of historical data is ordered exactly; a caught-up one is waited
// for at most Config.MaxIdle after it runs dry.
//
// # Parts
//
// A task (task.go, flush.go) is the record path: merge, reduce into the
// batch, flush the batch's outputs (outputs.go). Everything about the
// partition's state is behind partitionState (state.go): where the reducer
// and the stream clock (streamtime.go) come from, and where a flushed
// batch's state goes. In the pipeline that is a changelogStore
// (changelogstore.go): it restores the changelog (restore.go,
// changelog.go) or reuses the state this member kept from the previous
// generation (retain.go), stages flushed batches (staged.go), sweeps idle
// visitors (expiry.go) and hands the staged snapshots and offsets to its
// state pipe (statepipe.go), which writes the changelog and then marks
// the offsets for the generation's committer (committer.go). A generation
// (generation.go) releases the kept state of partitions it does not own.
//
// Replay (replay.go) runs the same task over chosen offsets with bounded
// sources and a memoryStore (memorystore.go): no group, no changelog, no
// commits, nothing kept. A replay's task gives up on an error that cannot
// succeed, or after its retry policy's MaxElapsed, and Replay returns it;
// the pipeline's tasks retry until their generation ends.
//
// # Delivery
//
// A task collects up to Config.MaxBatch events (or Config.MaxBatchAge) and
// flushes (flush.go, the one place the protocol is written): updates to
// every Sink and rejected records to the dead-letter topic, acknowledged;
// then the touched snapshots (and expiry tombstones) to the changelog, in
// order, by the partition state's pipe (once per Config.CommitInterval,
// coalesced); then the input offsets through the
// generation's committer, which fences members that lost the partition. A
// crash at any point loses nothing: the next owner restores the changelog
// and replays from the last commit; a replayed action is suppressed by the
// restored duplicate memory or re-emitted with the same update_id.
//
// # Goroutines
//
// Whoever starts a goroutine stops it and waits for it:
//
//	goroutine                    started by                 stopped by                                  waited for by
//	group heartbeats             kclient.Group.Next         generation end (ctx, rebalance, fenced)     Generation.Stop (Processor.Run)
//	runGeneration                Processor.Run (its loop)   generation end (its Context)                Processor.Run
//	committer.run                runGeneration              runGeneration, after every task returned    runGeneration
//	task.run (one per partition) runGeneration              generation end, then its drain              runGeneration
//	source.fetch (three a task)  startSources (task.start)  sourceSet.stop (cancel)                     sourceSet.stop
//	statePipe.run                changelogStore.open        changelogStore.drain (close), or its ctx    changelogStore.drain
//	outputs.write sink writers   outputs.write (errgroup)   the write returning, or ctx                 outputs.write
//	changelog.decodeAll workers  changelog.restore          the work channel closing                    changelog.decodeAll
//	task.runBounded (replay)     Replay (errgroup)          its sources reaching their end offsets      Replay
//	reportProgress ticker        Replay                     the stop func Replay calls                  the stop func
//	drainWatch (AfterFunc)       Processor.Run's ctx ending its own return (it notes the drain's start)   drainWatch.end (Processor.Run)
//
// A partition's reducer, stream clock and staged state belong to its task's
// goroutine; the state pipe sees only the encoded records and offsets
// handed to it.
//
// Writes (sinks, dead letters, changelog, commits) run on a drain context
// that outlives the generation by Config.DrainTimeout: a write in flight at
// SIGTERM or a rebalance completes instead of being cancelled and sent
// again, and the last batch is flushed and committed within that bound.
//
// # Metrics
//
//	sessiond_events_total{kind,outcome}          outcome: applied, late, duplicate, rejected
//	sessiond_updates_total{action}               updates acknowledged by every sink
//	sessiond_dead_letters_total{topic,reason}    reason: decode, invalid
//	sessiond_snapshots_expired_total             TTL expiries (the visitor's own next event)
//	sessiond_snapshots_swept_total               idle snapshots dropped and tombstoned by housekeeping
//	sessiond_clock_skew_events_total{direction}  direction: ahead, behind (occurred_at vs Kafka timestamp beyond --max-clock-skew)
//	sessiond_snapshots{partition}                visitors in memory (decoded or still encoded)
//	sessiond_snapshots_corrupt_total             restored snapshots that did not decode
//	sessiond_consumer_lag{topic,partition}       high watermark minus next offset
//	sessiond_batch_flush_seconds                 sinks + queueing the changelog
//	sessiond_batch_events                        events per batch
//	sessiond_end_to_end_seconds                  action's Kafka timestamp to sink ack
//	sessiond_restore_records_total{partition}    changelog records read
//	sessiond_restore_remaining_records{partition}
//	sessiond_restore_seconds
//	sessiond_assigned_partitions
//	sessiond_rebalances_total
//	sessiond_write_retries_total{target}         target: sink, changelog, dlq, commit
//	sessiond_commit_failures_total
//	sessiond_transactions_total{outcome}         exactly once: committed, aborted
//	sessiond_transaction_seconds                 exactly once: a transaction's first write to EndTxn answered
//	sessiond_producers_fenced_total              exactly once: transactional producers fenced by a new owner
//
// The per-partition series ({partition} and sessiond_consumer_lag) are
// deleted when the member's task for the partition ends, so that a sum
// over the members counts each partition once.
//
// The service adds, from the connection's batching producer and fetcher
// (internal/kclient):
//
//	sessiond_kafka_requests_total{api}           api: produce, fetch
//	sessiond_kafka_request_parts_total{api}      writes (produce) or partition fetches (fetch) carried
//	sessiond_kafka_produced_records_total
package consumer
