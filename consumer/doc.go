// Package consumer is the Kafka side of the pipeline: it joins the consumer
// group, owns input partitions, restores their snapshots from the changelog,
// merges the three input topics in event-time order, feeds the reducer and
// flushes each batch durably to the sinks. The contract it implements is
// docs/design.md §2 (ordering and time) and §5 (runtime).
//
// # Stages
//
//	sources (one kafka-go Reader per input topic-partition, decoding as it fetches)
//	  → merger (event-time order: occurred_at, then kind, then offset)
//	  → reducer (pure: reducer.Reducer, one per partition)
//	  → batch → flush: outputs (every Sink + dead letters) → changelog → offsets
//
// CoPartitionBalancer gives partition N of the cart, customer and action
// topics to one member, which runs one task for N. A topic-partition whose
// high watermark says data is still on the broker is always waited for, so
// a replay of historical data is ordered exactly; a caught-up one is waited
// for at most Config.MaxIdle after it runs dry.
//
// Replay (replay.go) runs the same task over chosen offsets with bounded
// sources, no group, no changelog and no commits, for `sessiond replay`.
//
// # Delivery
//
// A task collects up to Config.MaxBatch events (or Config.MaxBatchAge) and
// flushes (flush.go, the one place the protocol is written): updates to
// every Sink and rejected records to the dead-letter topic, acknowledged;
// then the touched snapshots (and expiry tombstones) to the changelog, in
// order, by the task's state pipe; then the input offsets through the
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
//	cg.Close on ctx end          Processor.Run (AfterFunc)  ctx                                         Processor.Run
//	runGeneration                Processor.Run (gen.Start)  generation end (ctx, rebalance)             kafka-go ConsumerGroup (Next/Close)
//	committer.run                runGeneration              runGeneration, after every task returned    runGeneration
//	task.run (one per partition) runGeneration              generation end, then its drain              runGeneration
//	source.fetch (three a task)  startSources (task.start)  sourceSet.stop (cancel)                     sourceSet.stop
//	statePipe.run                task.run                   statePipe.drain (close), or its ctx         statePipe.drain
//	outputs.write sink writers   outputs.write (errgroup)   the write returning, or ctx                 outputs.write
//	changelog.decodeAll workers  changelog.restore          the work channel closing                    changelog.decodeAll
//	task.runBounded (replay)     Replay (errgroup)          its sources reaching their end offsets      Replay
//	reportProgress ticker        Replay                     the stop func Replay calls                  the stop func
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
//	sessiond_snapshots_expired_total             TTL expiries
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
//
// The service adds, from the connection's batching producer and fetcher
// (internal/kclient):
//
//	sessiond_kafka_requests_total{api}           api: produce, fetch
//	sessiond_kafka_request_parts_total{api}      writes (produce) or partition fetches (fetch) carried
//	sessiond_kafka_produced_records_total
package consumer
