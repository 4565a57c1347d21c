package com.sessiond.kstreams;

import com.sessiond.kstreams.Model.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.avro.Schema;

/**
 * sessiond's Avro contract, read from the repository's schemas/*.avsc, which the build
 * puts in the jar under schemas/ (see pom.xml): one source of truth for both peers.
 */
final class Schemas {
    private Schemas() {}

    static final Schema CART_CHANGED = load("cart_changed.avsc");
    static final Schema CUSTOMER_CHANGED = load("customer_changed.avsc");
    static final Schema ACTION = load("action.avsc");
    static final Schema SESSION_UPDATE = load("session_update.avsc");
    static final Schema SNAPSHOT = load("snapshot.avsc");

    /** The schema of an input topic. */
    static Schema event(Kind kind) {
        return switch (kind) {
            case CART -> CART_CHANGED;
            case CUSTOMER -> CUSTOMER_CHANGED;
            case ACTION -> ACTION;
        };
    }

    /** The non-null branch of a ["null", T] union field of record. */
    static Schema optional(Schema record, String field) {
        for (Schema s : record.getField(field).schema().getTypes()) {
            if (s.getType() != Schema.Type.NULL) {
                return s;
            }
        }
        throw new IllegalStateException(record.getFullName() + "." + field + " has no non-null branch");
    }

    /** The schema of record's field. */
    static Schema field(Schema record, String field) {
        return record.getField(field).schema();
    }

    private static Schema load(String file) {
        // Each file defines its named types (Item, Cart, ...) itself: one parser per file.
        try (InputStream in = Schemas.class.getResourceAsStream("/schemas/" + file)) {
            if (in == null) {
                throw new IllegalStateException("schemas/" + file + " is missing from the jar (see pom.xml)");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException("read schemas/" + file, e);
        }
    }
}
