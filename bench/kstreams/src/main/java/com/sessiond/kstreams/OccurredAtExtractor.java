package com.sessiond.kstreams;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Configurable;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time for Kafka Streams: the record's occurred_at. Every event schema starts with
 * two strings (visitor_id, event_id) and the long occurred_at, so only that prefix of the
 * raw Avro is read. With it, Kafka Streams picks among a task's three partitions the head
 * with the smallest occurred_at, as sessiond's merge does (DESIGN §2).
 *
 * <p>The extracted time is also the Kafka timestamp of what the record causes: the update,
 * the changelog record of the snapshot, the dead letter. Hence three bounds:
 * <ul>
 *   <li>At most the record's Kafka timestamp plus the maximum clock skew (sessiond's
 *       --max-clock-skew, default 1h; {@link #MAX_CLOCK_SKEW_CONFIG}): occurred_at comes
 *       from shoppers' devices, and a broker refuses records more than
 *       log.message.timestamp.after.max.ms (1h by default since Kafka 4.0) in its future —
 *       Kafka Streams would stop on the first fast clock.</li>
 *   <li>At least 0: Kafka Streams drops a record with a negative timestamp, and an event
 *       may be dated before 1970.</li>
 *   <li>A value whose prefix does not decode takes the partition's time so far (else its
 *       Kafka timestamp): it is dead-lettered where it sits, holding back nothing.</li>
 * </ul>
 */
public final class OccurredAtExtractor implements TimestampExtractor, Configurable {
    /** The setting (milliseconds) that Main passes for --max-clock-skew. */
    public static final String MAX_CLOCK_SKEW_CONFIG = "sessiond.max.clock.skew.ms";

    /** sessiond's --max-clock-skew default, 1h. */
    static final long DEFAULT_MAX_CLOCK_SKEW_MS = 3_600_000L;

    private long maxSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS;

    @Override
    public void configure(Map<String, ?> configs) {
        Object v = configs.get(MAX_CLOCK_SKEW_CONFIG);
        if (v != null) {
            maxSkewMs = Long.parseLong(v.toString());
        }
    }

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        if (record.value() instanceof byte[] b) {
            long t = occurredAt(b);
            if (t != NONE) {
                long kafkaTime = record.timestamp();
                if (kafkaTime >= 0 && t > kafkaTime + maxSkewMs) {
                    t = kafkaTime + maxSkewMs;
                }
                return Math.max(t, 0);
            }
        }
        if (partitionTime >= 0) {
            return partitionTime;
        }
        return Math.max(record.timestamp(), 0);
    }

    static final long NONE = Long.MIN_VALUE;

    /** The third field of an event's raw Avro (after two strings), or NONE. */
    static long occurredAt(byte[] b) {
        int[] pos = {0};
        for (int i = 0; i < 2; i++) {
            long n = varlong(b, pos);
            if (n == NONE || n < 0 || n > b.length - pos[0]) {
                return NONE;
            }
            pos[0] += (int) n;
        }
        return varlong(b, pos);
    }

    /** A zig-zag varint long at pos (advanced past it), or NONE. */
    private static long varlong(byte[] b, int[] pos) {
        long raw = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= b.length) {
                return NONE;
            }
            int x = b[pos[0]++];
            raw |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        return NONE;
    }
}
