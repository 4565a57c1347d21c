package com.sessiond.kstreams;

import com.sessiond.kstreams.Model.Event;
import com.sessiond.kstreams.Model.Kind;
import com.sessiond.kstreams.Model.Snapshot;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The one processor of the topology: decode, validate, reduce against the visitor's
 * snapshot in the state store, emit the update of an accepted action to the output sink,
 * and a rejected record (unchanged, with headers saying where it came from and why) to
 * the dead-letter sink. One instance per task; Kafka Streams calls it from one thread.
 */
final class SessionProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    static final String STORE = "session-snapshots";
    static final String OUTPUT_SINK = "updates";
    static final String DLQ_SINK = "dead-letters";

    // The dead-letter headers of sessiond (consumer/deadletter.go).
    static final String HEADER_SOURCE_TOPIC = "sessiond.source.topic";
    static final String HEADER_SOURCE_PARTITION = "sessiond.source.partition";
    static final String HEADER_SOURCE_OFFSET = "sessiond.source.offset";
    static final String HEADER_ERROR = "sessiond.error";
    static final String HEADER_REASON = "sessiond.error.reason";

    private final Map<String, Kind> kinds;
    private final Reducer reducer;
    private final Stats stats;
    private final AvroCodec codec = new AvroCodec();
    private ProcessorContext<byte[], byte[]> ctx;
    private KeyValueStore<String, byte[]> store;

    SessionProcessor(Map<String, Kind> kinds, Reducer reducer, Stats stats) {
        this.kinds = kinds;
        this.reducer = reducer;
        this.stats = stats;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.ctx = context;
        this.store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<byte[], byte[]> rec) {
        RecordMetadata md = ctx.recordMetadata().orElseThrow();
        Kind kind = kinds.get(md.topic());
        stats.events.increment();
        Event ev;
        try {
            ev = codec.decodeEvent(kind, rec.value());
            Validator.validate(ev);
        } catch (Rejected e) {
            deadLetter(rec, md, e);
            return;
        }
        byte[] prev = store.get(ev.visitorId());
        Snapshot s = prev == null ? null : codec.decodeSnapshot(prev);
        Reducer.Result res = reducer.apply(s, ev);
        if (res.changed()) {
            store.put(ev.visitorId(), codec.encodeSnapshot(res.snapshot()));
        }
        if (res.late()) {
            stats.late.increment();
        }
        if (res.duplicate()) {
            stats.duplicates.increment();
        }
        if (res.expired()) {
            stats.expired.increment();
        }
        if (res.update() != null) {
            byte[] key = ev.visitorId().getBytes(StandardCharsets.UTF_8);
            // Fresh headers: the input's are not the update's.
            ctx.forward(new Record<>(key, codec.encodeUpdate(res.update()), rec.timestamp()), OUTPUT_SINK);
            stats.updates.increment();
        }
    }

    private void deadLetter(Record<byte[], byte[]> rec, RecordMetadata md, Rejected e) {
        RecordHeaders h = new RecordHeaders();
        h.add(HEADER_SOURCE_TOPIC, md.topic().getBytes(StandardCharsets.UTF_8));
        h.add(HEADER_SOURCE_PARTITION, Integer.toString(md.partition()).getBytes(StandardCharsets.UTF_8));
        h.add(HEADER_SOURCE_OFFSET, Long.toString(md.offset()).getBytes(StandardCharsets.UTF_8));
        h.add(HEADER_ERROR, String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
        h.add(HEADER_REASON, e.reason.getBytes(StandardCharsets.UTF_8));
        ctx.forward(new Record<>(rec.key(), rec.value(), rec.timestamp(), h), DLQ_SINK);
        stats.rejected.increment();
    }
}
