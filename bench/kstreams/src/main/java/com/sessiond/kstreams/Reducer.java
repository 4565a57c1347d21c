package com.sessiond.kstreams;

import com.sessiond.kstreams.Model.Event;
import com.sessiond.kstreams.Model.Snapshot;
import com.sessiond.kstreams.Model.Update;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Folds one visitor's events into its snapshot: a port of reducer.Reducer.Apply
 * (reducer/reducer.go, snapshot.go). Pure, like the Go one: no I/O, no clock, no Kafka.
 * The state lives with the caller (here a Kafka Streams state store), so apply takes the
 * visitor's snapshot and returns the new one.
 *
 * <ul>
 *   <li>Expiry: an event more than the TTL after the visitor's latest occurred_at discards
 *       the snapshot (both parts and the duplicate memory) before it is applied.</li>
 *   <li>Last-writer-wins per part: a cart (customer) older than the one applied is ignored
 *       (late); an equal occurred_at replaces it; null means unchanged.</li>
 *   <li>Duplicates: an action whose id is among the last {@link #RECENT_ACTIONS} action ids
 *       applied produces no update. Late actions are still emitted.</li>
 * </ul>
 */
final class Reducer {
    /** How many action ids per visitor are remembered (reducer.RecentActions). */
    static final int RECENT_ACTIONS = 32;

    private final long ttlMillis;

    Reducer(long ttlMillis) {
        if (ttlMillis <= 0) {
            throw new IllegalArgumentException("session TTL must be positive");
        }
        this.ttlMillis = ttlMillis;
    }

    /**
     * What applying one event did. snapshot is the visitor's new state; changed says
     * whether it differs from the one passed in (so it must be stored).
     */
    record Result(Snapshot snapshot, boolean changed, Update update, boolean late, boolean duplicate,
                  boolean expired) {}

    /**
     * Applies a valid event (see {@link Validator}) to the visitor's snapshot, which may be
     * null (none) and is modified in place.
     */
    Result apply(Snapshot s, Event ev) {
        long t = ev.occurredAt();
        boolean changed = false;
        boolean expired = false;
        if (s != null && t - s.lastSeen > ttlMillis) {
            s = null;
            expired = true;
        }
        if (s == null) {
            s = new Snapshot(t, 0, 0, null, null, new long[0]);
            changed = true;
        }
        if (t > s.lastSeen) {
            s.lastSeen = t;
            changed = true;
        }
        switch (ev.kind()) {
            case CART -> {
                if (ev.cart() == null) {
                    break;
                }
                if (s.cart != null && t < s.cartAt) {
                    return new Result(s, changed, null, true, false, expired);
                }
                s.cart = ev.cart();
                s.cartAt = t;
                changed = true;
            }
            case CUSTOMER -> {
                if (ev.customer() == null) {
                    break;
                }
                if (s.customer != null && t < s.customerAt) {
                    return new Result(s, changed, null, true, false, expired);
                }
                s.customer = ev.customer();
                s.customerAt = t;
                changed = true;
            }
            case ACTION -> {
                long h = XxHash64.hash(ev.eventId().getBytes(StandardCharsets.UTF_8));
                for (long r : s.recent) {
                    if (r == h) {
                        return new Result(s, changed, null, false, true, expired);
                    }
                }
                s.recent = remember(s.recent, h);
                Update u = new Update(ev.eventId(), ev.visitorId(), t, ev.action(), s.cart, s.customer);
                return new Result(s, true, u, false, false, expired);
            }
        }
        return new Result(s, changed, null, false, false, expired);
    }

    private static long[] remember(long[] recent, long h) {
        if (recent.length < RECENT_ACTIONS) {
            long[] out = Arrays.copyOf(recent, recent.length + 1);
            out[recent.length] = h;
            return out;
        }
        long[] out = new long[RECENT_ACTIONS];
        System.arraycopy(recent, 1, out, 0, RECENT_ACTIONS - 1);
        out[RECENT_ACTIONS - 1] = h;
        return out;
    }
}
