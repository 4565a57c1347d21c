// Package consumer is the Kafka side of the pipeline: it joins the consumer
// group, owns input partitions, restores their snapshots from the changelog,
// merges the three input topics in event-time order, feeds the reducer and
// flushes each batch durably.
//
// # Partitions and tasks
//
// CoPartitionBalancer gives partition N of the cart, customer and action
// topics to one member, which runs one task for N. A task reads its three
// topic-partitions with kafka-go Readers (one goroutine each, decoding as
// they fetch) and merges them (merger): smallest occurred_at first, ties by
// kind (cart, customer, action) then offset. A topic-partition whose high
// watermark says data is still on the broker is always waited for, so a
// replay of historical data is ordered exactly; a caught-up one is waited
// for at most Config.MaxIdle after it runs dry.
//
// # Delivery
//
// A task collects up to Config.MaxBatch events (or Config.MaxBatchAge) and
// flushes: updates to the Sink and rejected records to the dead-letter
// topic, then the touched snapshots (and expiry tombstones) to the
// changelog, then the input offsets through the generation, which fences
// members that lost the partition. A crash at any point loses nothing: the
// next owner restores the changelog and replays from the last commit; a
// replayed action is suppressed by the restored duplicate memory or
// re-emitted with the same update_id.
//
// # Metrics
//
//	sessiond_events_total{kind,outcome}          outcome: applied, late, duplicate, rejected
//	sessiond_updates_total{action}               updates acknowledged by the sink
//	sessiond_dead_letters_total{topic,reason}    reason: decode, invalid
//	sessiond_snapshots_expired_total             TTL expiries
//	sessiond_snapshots{partition}                visitors in memory
//	sessiond_consumer_lag{topic,partition}       high watermark minus next offset
//	sessiond_batch_flush_seconds                 sink + changelog + commit
//	sessiond_batch_events                        events per batch
//	sessiond_end_to_end_seconds                  action's Kafka timestamp to sink ack
//	sessiond_restore_records_total{partition}    changelog records read
//	sessiond_restore_remaining_records{partition}
//	sessiond_restore_seconds
//	sessiond_assigned_partitions
//	sessiond_rebalances_total
//	sessiond_write_retries_total{target}         target: sink, changelog, dlq, commit
//	sessiond_commit_failures_total
package consumer
