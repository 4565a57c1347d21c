package com.sessiond.kstreams;

import java.util.concurrent.atomic.LongAdder;

/** Counts of what the processors did, summed over tasks and threads. */
final class Stats {
    final LongAdder events = new LongAdder();     // input records processed, rejected ones included
    final LongAdder updates = new LongAdder();    // updates emitted
    final LongAdder rejected = new LongAdder();   // records sent to the dead-letter topic
    final LongAdder late = new LongAdder();       // cart/customer mutations ignored as late
    final LongAdder duplicates = new LongAdder(); // actions already applied: no update
    final LongAdder expired = new LongAdder();    // snapshots expired by their visitor's next event

    String summary() {
        return "events=" + events.sum() + " updates=" + updates.sum() + " rejected=" + rejected.sum()
                + " late=" + late.sum() + " duplicates=" + duplicates.sum() + " expired=" + expired.sum();
    }
}
