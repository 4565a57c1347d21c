package com.sessiond.kstreams;

import com.sessiond.kstreams.Model.Kind;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * sessiond's job as a Kafka Streams application (Processor API): the peer of the
 * side-by-side benchmark. See bench/kstreams/README.md.
 *
 * <pre>
 * java [jvm flags] -jar sessiond-kstreams.jar --brokers B --application-id ID
 *     --cart-topic T --customer-topic T --action-topic T --output-topic T --dlq-topic T
 *     [--session-ttl 24h] [--max-clock-skew 1h] [--state-dir DIR] [--tuned] [--config key=value ...]
 * </pre>
 *
 * stdout carries exactly one line, RUNNING, when KafkaStreams first reaches RUNNING; logs
 * go to stderr. SIGTERM closes KafkaStreams cleanly (leaving the group) and exits 0, after
 * a one-line summary of the counts on stderr.
 */
public final class Main {
    private Main() {}

    static final String USAGE = """
            usage: java [jvm flags] -jar sessiond-kstreams.jar --brokers B --application-id ID
                     --cart-topic T --customer-topic T --action-topic T --output-topic T --dlq-topic T
                     [--session-ttl 24h] [--max-clock-skew 1h] [--state-dir DIR] [--tuned]
                     [--config key=value ...]

              --brokers B          bootstrap servers, comma-separated
              --application-id ID  Kafka Streams application.id (consumer group, changelog prefix)
              --*-topic T          the three input topics (equal partition counts), the update
                                   topic and the dead-letter topic; all must exist
              --session-ttl D      event-time inactivity after which a snapshot expires (Go
                                   duration syntax: 24h, 90m, 1h30m, 500ms); default 24h
              --max-clock-skew D   how far past its Kafka timestamp a record's occurred_at may
                                   set its Kafka Streams timestamp; default 1h
              --state-dir DIR      Kafka Streams state.dir (RocksDB); default Kafka Streams'
              --tuned              throughput settings for a 2-core box (see README.md); the
                                   default is Kafka Streams' defaults (at_least_once, 1 thread)
              --config key=value   any Kafka Streams or client setting, applied last (repeatable)
            """;

    /** The parsed command line. */
    static final class Options {
        String brokers;
        String applicationId;
        String cartTopic;
        String customerTopic;
        String actionTopic;
        String outputTopic;
        String dlqTopic;
        long sessionTtlMillis = Duration.ofHours(24).toMillis();
        long maxClockSkewMillis = OccurredAtExtractor.DEFAULT_MAX_CLOCK_SKEW_MS;
        String stateDir;
        boolean tuned;
        final Map<String, String> config = new LinkedHashMap<>();

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = null;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                }
                if (a.equals("--tuned")) {
                    if (v != null) {
                        throw new IllegalArgumentException("--tuned takes no value");
                    }
                    o.tuned = true;
                    continue;
                }
                if (a.equals("-h") || a.equals("--help")) {
                    throw new IllegalArgumentException("help");
                }
                if (v == null) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    v = args[++i];
                }
                switch (a) {
                    case "--brokers" -> o.brokers = v;
                    case "--application-id" -> o.applicationId = v;
                    case "--cart-topic" -> o.cartTopic = v;
                    case "--customer-topic" -> o.customerTopic = v;
                    case "--action-topic" -> o.actionTopic = v;
                    case "--output-topic" -> o.outputTopic = v;
                    case "--dlq-topic" -> o.dlqTopic = v;
                    case "--session-ttl" -> o.sessionTtlMillis = parseDuration(v);
                    case "--max-clock-skew" -> o.maxClockSkewMillis = parseDuration(v);
                    case "--state-dir" -> o.stateDir = v;
                    case "--config" -> {
                        int k = v.indexOf('=');
                        if (k <= 0) {
                            throw new IllegalArgumentException("--config wants key=value, got " + v);
                        }
                        o.config.put(v.substring(0, k), v.substring(k + 1));
                    }
                    default -> throw new IllegalArgumentException("unknown flag " + a);
                }
            }
            String[][] required = {
                {"--brokers", o.brokers}, {"--application-id", o.applicationId}, {"--cart-topic", o.cartTopic},
                {"--customer-topic", o.customerTopic}, {"--action-topic", o.actionTopic},
                {"--output-topic", o.outputTopic}, {"--dlq-topic", o.dlqTopic},
            };
            for (String[] r : required) {
                if (r[1] == null || r[1].isEmpty()) {
                    throw new IllegalArgumentException(r[0] + " is required");
                }
            }
            if (o.cartTopic.equals(o.customerTopic) || o.cartTopic.equals(o.actionTopic)
                    || o.customerTopic.equals(o.actionTopic)) {
                throw new IllegalArgumentException("the three input topics must differ");
            }
            return o;
        }
    }

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

    /** A positive Go-style duration (time.ParseDuration's syntax, without a sign), in ms. */
    static long parseDuration(String s) {
        Matcher m = DURATION_PART.matcher(s);
        double ms = 0;
        int at = 0;
        while (at < s.length() && m.find(at) && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            ms += n * switch (m.group(2)) {
                case "ns" -> 1e-6;
                case "us", "µs", "μs" -> 1e-3;
                case "ms" -> 1;
                case "s" -> 1e3;
                case "m" -> 60e3;
                default -> 3600e3; // h
            };
            at = m.end();
        }
        if (s.isEmpty() || at != s.length()) {
            throw new IllegalArgumentException("invalid duration " + s + " (e.g. 24h, 90m, 1h30m)");
        }
        long out = (long) ms;
        if (out <= 0) {
            throw new IllegalArgumentException("a duration of at least 1ms is needed, got " + s);
        }
        return out;
    }

    /** The topology: three sources, one processor with the snapshot store, two sinks. */
    static Topology topology(Options o, Stats stats) {
        Map<String, Kind> kinds = new HashMap<>();
        kinds.put(o.cartTopic, Kind.CART);
        kinds.put(o.customerTopic, Kind.CUSTOMER);
        kinds.put(o.actionTopic, Kind.ACTION);
        Map<Kind, String> sources = new EnumMap<>(Kind.class);
        Reducer reducer = new Reducer(o.sessionTtlMillis);

        Topology t = new Topology();
        for (Map.Entry<String, Kind> e : kinds.entrySet()) {
            String name = e.getValue().wireName + "-source";
            sources.put(e.getValue(), name);
            t.addSource(name, new ByteArrayDeserializer(), new ByteArrayDeserializer(), e.getKey());
        }
        t.addProcessor("reduce", () -> new SessionProcessor(kinds, reducer, stats),
                sources.values().toArray(new String[0]));
        // RocksDB, changelog on (the defaults). Kafka Streams' record cache is off for a
        // Processor API store unless asked for: --tuned asks.
        StoreBuilder<KeyValueStore<String, byte[]>> store = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(SessionProcessor.STORE), Serdes.String(), Serdes.ByteArray());
        if (o.tuned) {
            store = store.withCachingEnabled();
        }
        t.addStateStore(store, "reduce");
        t.addSink(SessionProcessor.OUTPUT_SINK, o.outputTopic, new ByteArraySerializer(), new ByteArraySerializer(),
                "reduce");
        t.addSink(SessionProcessor.DLQ_SINK, o.dlqTopic, new ByteArraySerializer(), new ByteArraySerializer(),
                "reduce");
        return t;
    }

    /** Kafka Streams' configuration: its defaults, or --tuned, then --config. */
    static Properties config(Options o) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, o.applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, o.brokers);
        p.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, OccurredAtExtractor.class.getName());
        p.put(OccurredAtExtractor.MAX_CLOCK_SKEW_CONFIG, Long.toString(o.maxClockSkewMillis));
        if (o.stateDir != null) {
            p.put(StreamsConfig.STATE_DIR_CONFIG, o.stateDir);
        }
        if (o.tuned) {
            p.putAll(tuned());
        }
        p.putAll(o.config);
        return p;
    }

    /**
     * What a Kafka Streams user would set for throughput on a 2-core box (README.md says
     * why each). Left alone on purpose: processing.guarantee (at_least_once, as sessiond),
     * max.task.idle.ms (0: waits for partitions with data on the broker, which is what
     * orders a replay by event time; -1 would be faster and lose that), commit.interval.ms
     * (already 30 s), compression (none: CPU is what a 2-core box lacks, not loopback
     * bandwidth), RocksDB options.
     */
    static Map<String, String> tuned() {
        Map<String, String> m = new LinkedHashMap<>();
        // The record cache in front of RocksDB (enabled on the store by --tuned): repeated
        // puts of a visitor's snapshot collapse until the next commit or eviction, which
        // cuts RocksDB writes and changelog records.
        m.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.toString(256L << 20));
        // One stream thread per core: tasks (one per input partition number) are spread
        // over both, as sessiond's partitions are over GOMAXPROCS=2.
        m.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "2");
        // Larger producer batches for the update, dead-letter and changelog topics
        // (Kafka Streams already lingers 100 ms); the default is 16 KiB.
        m.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), Integer.toString(256 << 10));
        // Bigger polls and fetches: fewer round trips per record. The record buffer per
        // partition grows with them, or partitions would be paused between polls.
        m.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), "5000");
        m.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
                Integer.toString(4 << 20));
        m.put(StreamsConfig.BUFFERED_RECORDS_PER_PARTITION_CONFIG, "5000");
        return m;
    }

    /** Quiet defaults for slf4j-simple (stderr) and Avro's decoding limits; -D flags win. */
    private static void systemDefaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("org.slf4j.simpleLogger.logFile", "System.err");
        d.put("org.slf4j.simpleLogger.showDateTime", "true");
        d.put("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        d.put("org.slf4j.simpleLogger.defaultLogLevel", "info");
        // The clients' INFO lines (every config, every fetch session) drown the rest.
        d.put("org.slf4j.simpleLogger.log.org.apache.kafka", "warn");
        d.put("org.slf4j.simpleLogger.log.org.apache.kafka.streams.KafkaStreams", "info");
        // As sessiond lowers goavro's MaxBlockCount: no cart, order or list comes near it.
        d.put("org.apache.avro.limits.collectionItems.maxLength", "65536");
        d.forEach((k, v) -> {
            if (System.getProperty(k) == null) {
                System.setProperty(k, v);
            }
        });
    }

    private static volatile boolean failed;

    public static void main(String[] args) throws InterruptedException {
        systemDefaults();
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().equals("help")) {
                System.err.println("sessiond-kstreams: " + e.getMessage());
            }
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        Stats stats = new Stats();
        Topology topology = topology(o, stats);
        Properties props = config(o);
        log.info("topology: {}", topology.describe().toString().replace('\n', ' '));
        if (o.tuned) {
            log.info("tuned: {}", tuned());
        }
        if (!o.config.isEmpty()) {
            log.info("--config: {}", o.config);
        }

        KafkaStreams streams = new KafkaStreams(topology, props);
        AtomicBoolean announced = new AtomicBoolean();
        CountDownLatch error = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && announced.compareAndSet(false, true)) {
                System.out.println("RUNNING");
                System.out.flush();
            }
            if (now == KafkaStreams.State.ERROR) {
                error.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            log.error("stream thread failed; shutting down", e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });

        long started = System.nanoTime();
        // A JVM ended by a signal exits 143 even when its hooks succeed: the hook halts with
        // the status itself, 0 once KafkaStreams has closed cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boolean clean = streams.close(CloseOptions.timeout(Duration.ofSeconds(60))
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            double secs = (System.nanoTime() - started) / 1e9;
            System.err.printf("sessiond-kstreams: %s after %.1fs: %s%n",
                    failed ? "failed" : clean ? "stopped" : "close timed out", secs, stats.summary());
            System.err.flush();
            System.out.flush();
            Runtime.getRuntime().halt(clean && !failed ? 0 : 1);
        }, "sessiond-kstreams-shutdown"));

        try {
            streams.start();
        } catch (RuntimeException e) {
            log.error("start: {}", e.toString(), e);
            failed = true;
            System.exit(1);
        }
        error.await();
        log.error("Kafka Streams is in state ERROR");
        failed = true;
        System.exit(1);
    }
}
