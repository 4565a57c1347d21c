package com.sessiond.kstreams;

import com.sessiond.kstreams.Model.Action;
import com.sessiond.kstreams.Model.Cart;
import com.sessiond.kstreams.Model.Customer;
import com.sessiond.kstreams.Model.Event;
import com.sessiond.kstreams.Model.Item;
import com.sessiond.kstreams.Model.Kind;
import com.sessiond.kstreams.Model.Order;
import com.sessiond.kstreams.Model.Snapshot;
import com.sessiond.kstreams.Model.Update;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Raw Avro binary (no framing) to and from the model, with the project's schemas:
 * GenericDatumReader for events and snapshots, GenericDatumWriter for updates and
 * snapshots. The conversions follow package schemas: a null union is absent, a customer
 * record of nulls is a reset, and in an update a non-reset customer always carries
 * marketing_permission (false when absent: no consent).
 *
 * <p>Not thread-safe (it reuses its decoder, encoder and buffer): one per processor.
 */
final class AvroCodec {
    private static final Schema UPDATE = Schemas.SESSION_UPDATE;
    private static final Schema UPDATE_ACTION = Schemas.field(UPDATE, "action");
    private static final Schema UPDATE_ACTION_TYPE = Schemas.field(UPDATE_ACTION, "type");
    private static final Schema UPDATE_ORDER = Schemas.optional(UPDATE_ACTION, "order");
    private static final Schema UPDATE_ITEM = Schemas.field(UPDATE_ORDER, "items").getElementType();
    private static final Schema UPDATE_CART = Schemas.optional(UPDATE, "cart");
    private static final Schema UPDATE_CUSTOMER = Schemas.optional(UPDATE, "customer");

    private static final Schema SNAPSHOT = Schemas.SNAPSHOT;
    private static final Schema SNAPSHOT_CART = Schemas.optional(SNAPSHOT, "cart");
    private static final Schema SNAPSHOT_ITEM = Schemas.field(SNAPSHOT_CART, "items").getElementType();
    private static final Schema SNAPSHOT_CUSTOMER = Schemas.optional(SNAPSHOT, "customer");

    /** The only snapshot layout written and read (schemas.SnapshotVersion). */
    static final int SNAPSHOT_VERSION = 1;

    private final Map<Kind, GenericDatumReader<GenericRecord>> eventReaders = new EnumMap<>(Kind.class);
    private final GenericDatumReader<GenericRecord> snapshotReader = new GenericDatumReader<>(SNAPSHOT);
    private final GenericDatumWriter<GenericRecord> updateWriter = new GenericDatumWriter<>(UPDATE);
    private final GenericDatumWriter<GenericRecord> snapshotWriter = new GenericDatumWriter<>(SNAPSHOT);
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream(1024);
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private BinaryDecoder decoder;
    private BinaryEncoder encoder;

    AvroCodec() {
        for (Kind k : Kind.values()) {
            eventReaders.put(k, new GenericDatumReader<>(Schemas.event(k)));
        }
    }

    // ---- events

    /**
     * Decodes one event of the given kind and converts it to the model. It does not
     * validate the event's meaning (see {@link Validator}), only its shape and UTF-8.
     */
    Event decodeEvent(Kind kind, byte[] data) throws Rejected {
        String what = "decode " + kind.wireName;
        if (data == null) {
            throw Rejected.decode(what + ": the record has no value (a tombstone?)", null);
        }
        GenericRecord rec;
        try {
            decoder = DecoderFactory.get().binaryDecoder(data, decoder);
            rec = eventReaders.get(kind).read(null, decoder);
            if (!decoder.isEnd()) {
                throw Rejected.decode(what + ": trailing bytes after the record", null);
            }
        } catch (IOException | RuntimeException e) {
            throw Rejected.decode(what + ": " + e, e);
        }
        String visitorId = str(rec.get("visitor_id"), "visitor_id");
        String eventId = str(rec.get("event_id"), "event_id");
        long occurredAt = (Long) rec.get("occurred_at");
        return switch (kind) {
            case CART -> new Event(kind, visitorId, eventId, occurredAt,
                    cart((GenericRecord) rec.get("cart"), "cart"), null, null);
            case CUSTOMER -> new Event(kind, visitorId, eventId, occurredAt, null,
                    customer((GenericRecord) rec.get("customer"), "customer"), null);
            case ACTION -> new Event(kind, visitorId, eventId, occurredAt, null, null,
                    action((GenericRecord) rec.get("action")));
        };
    }

    private Cart cart(GenericRecord r, String field) throws Rejected {
        if (r == null) {
            return null;
        }
        return new Cart(items(r.get("items"), field + ".items"), str(r.get("restore_link"), field + ".restore_link"));
    }

    private List<Item> items(Object array, String field) throws Rejected {
        List<?> in = (List<?>) array;
        List<Item> out = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) {
            GenericRecord it = (GenericRecord) in.get(i);
            String at = field + "[" + i + "].";
            out.add(new Item(
                    str(it.get("product_id"), at + "product_id"),
                    str(it.get("sku_id"), at + "sku_id"),
                    str(it.get("name"), at + "name"),
                    (Integer) it.get("quantity"),
                    (Double) it.get("unit_price"),
                    str(it.get("price_currency_code"), at + "price_currency_code")));
        }
        return Collections.unmodifiableList(out);
    }

    private Customer customer(GenericRecord r, String field) throws Rejected {
        if (r == null) {
            return null;
        }
        return new Customer(
                str(r.get("customer_reference"), field + ".customer_reference"),
                str(r.get("email"), field + ".email"),
                str(r.get("first_name"), field + ".first_name"),
                str(r.get("last_name"), field + ".last_name"),
                (Boolean) r.get("newsletter"),
                (Boolean) r.get("marketing_permission"));
    }

    private Action action(GenericRecord r) throws Rejected {
        if (r == null) {
            return null;
        }
        GenericRecord o = (GenericRecord) r.get("order");
        Order order = null;
        if (o != null) {
            order = new Order(
                    str(o.get("order_number"), "action.order.order_number"),
                    items(o.get("items"), "action.order.items"),
                    str(o.get("external_order_ref"), "action.order.external_order_ref"),
                    str(o.get("payment_provider"), "action.order.payment_provider"),
                    str(o.get("order_status"), "action.order.order_status"));
        }
        return new Action(
                r.get("type").toString(),
                str(r.get("product_id"), "action.product_id"),
                str(r.get("sku_id"), "action.sku_id"),
                strs(r.get("categories"), "action.categories"),
                strs(r.get("category_ids"), "action.category_ids"),
                strs(r.get("search_terms"), "action.search_terms"),
                order,
                strs(r.get("placements"), "action.placements"),
                str(r.get("page_url"), "action.page_url"),
                (Boolean) r.get("update_only"));
    }

    private List<String> strs(Object array, String field) throws Rejected {
        if (array == null) {
            return null;
        }
        List<?> in = (List<?>) array;
        List<String> out = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) {
            out.add(str(in.get(i), field + "[" + i + "]"));
        }
        return Collections.unmodifiableList(out);
    }

    /** An Avro string as a Java one; invalid UTF-8 is an invalid event, as in reducer.Validate. */
    private String str(Object v, String field) throws Rejected {
        if (v == null) {
            return null;
        }
        if (!(v instanceof Utf8 u)) {
            return v.toString();
        }
        byte[] b = u.getBytes();
        int n = u.getByteLength();
        boolean ascii = true;
        for (int i = 0; i < n && ascii; i++) {
            ascii = b[i] >= 0;
        }
        if (ascii) {
            return new String(b, 0, n, StandardCharsets.US_ASCII);
        }
        try {
            CharBuffer cb = utf8.reset().decode(ByteBuffer.wrap(b, 0, n));
            return cb.toString();
        } catch (CharacterCodingException e) {
            throw Rejected.invalid(field, "must be valid UTF-8");
        }
    }

    // ---- updates

    /** The session_update record of u (DESIGN §3). */
    byte[] encodeUpdate(Update u) {
        GenericData.Record r = new GenericData.Record(UPDATE);
        r.put("update_id", u.updateId());
        r.put("visitor_id", u.visitorId());
        r.put("occurred_at", u.occurredAt());
        r.put("action", actionRecord(u.action()));
        r.put("cart", cartRecord(u.cart(), UPDATE_CART, UPDATE_ITEM));
        r.put("customer", customerRecord(u.customer(), UPDATE_CUSTOMER, true));
        return write(updateWriter, r);
    }

    private static GenericData.Record actionRecord(Action a) {
        GenericData.Record r = new GenericData.Record(UPDATE_ACTION);
        r.put("type", new GenericData.EnumSymbol(UPDATE_ACTION_TYPE, a.type()));
        r.put("product_id", a.productId());
        r.put("sku_id", a.skuId());
        r.put("categories", a.categories());
        r.put("category_ids", a.categoryIds());
        r.put("search_terms", a.searchTerms());
        if (a.order() != null) {
            Order o = a.order();
            GenericData.Record or = new GenericData.Record(UPDATE_ORDER);
            or.put("order_number", o.orderNumber());
            or.put("items", itemRecords(o.items(), UPDATE_ITEM));
            or.put("external_order_ref", o.externalOrderRef());
            or.put("payment_provider", o.paymentProvider());
            or.put("order_status", o.orderStatus());
            r.put("order", or);
        }
        r.put("placements", a.placements());
        r.put("page_url", a.pageUrl());
        r.put("update_only", a.updateOnly());
        return r;
    }

    private static GenericData.Record cartRecord(Cart c, Schema cartSchema, Schema itemSchema) {
        if (c == null) {
            return null;
        }
        GenericData.Record r = new GenericData.Record(cartSchema);
        r.put("items", itemRecords(c.items(), itemSchema));
        r.put("restore_link", c.restoreLink());
        return r;
    }

    private static List<GenericData.Record> itemRecords(List<Item> items, Schema itemSchema) {
        List<GenericData.Record> out = new ArrayList<>(items.size());
        for (Item it : items) {
            GenericData.Record r = new GenericData.Record(itemSchema);
            r.put("product_id", it.productId());
            r.put("sku_id", it.skuId());
            r.put("name", it.name());
            r.put("quantity", it.quantity());
            r.put("unit_price", it.unitPrice());
            r.put("price_currency_code", it.priceCurrencyCode());
            out.add(r);
        }
        return out;
    }

    /**
     * A customer record. In an update (output), marketing_permission absent from a
     * non-reset customer is written false: no consent (DESIGN §2, §3). In a snapshot the
     * customer is written exactly as held.
     */
    private static GenericData.Record customerRecord(Customer c, Schema schema, boolean output) {
        if (c == null) {
            return null;
        }
        GenericData.Record r = new GenericData.Record(schema);
        r.put("customer_reference", c.customerReference());
        r.put("email", c.email());
        r.put("first_name", c.firstName());
        r.put("last_name", c.lastName());
        r.put("newsletter", c.newsletter());
        Boolean mp = c.marketingPermission();
        if (output && mp == null && !c.isReset()) {
            mp = Boolean.FALSE;
        }
        r.put("marketing_permission", mp);
        return r;
    }

    // ---- snapshots

    /** The state store value of s: schemas/snapshot.avsc, as sessiond writes its changelog. */
    byte[] encodeSnapshot(Snapshot s) {
        GenericData.Record r = new GenericData.Record(SNAPSHOT);
        r.put("version", SNAPSHOT_VERSION);
        r.put("last_seen", s.lastSeen);
        r.put("cart_at", s.cartAt);
        r.put("customer_at", s.customerAt);
        r.put("cart", cartRecord(s.cart, SNAPSHOT_CART, SNAPSHOT_ITEM));
        r.put("customer", customerRecord(s.customer, SNAPSHOT_CUSTOMER, false));
        ByteBuffer recent = ByteBuffer.allocate(8 * s.recent.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long h : s.recent) {
            recent.putLong(h);
        }
        r.put("recent", recent.flip());
        return write(snapshotWriter, r);
    }

    /** Reads a value written by encodeSnapshot. The store is ours: a bad value is a bug. */
    Snapshot decodeSnapshot(byte[] data) {
        GenericRecord r;
        try {
            decoder = DecoderFactory.get().binaryDecoder(data, decoder);
            r = snapshotReader.read(null, decoder);
        } catch (IOException e) {
            throw new UncheckedIOException("decode snapshot", e);
        }
        int version = (Integer) r.get("version");
        if (version != SNAPSHOT_VERSION) {
            throw new IllegalStateException("snapshot layout version " + version + ", want " + SNAPSHOT_VERSION);
        }
        ByteBuffer b = ((ByteBuffer) r.get("recent")).order(ByteOrder.LITTLE_ENDIAN);
        long[] recent = new long[b.remaining() / 8];
        for (int i = 0; i < recent.length; i++) {
            recent[i] = b.getLong();
        }
        try {
            return new Snapshot((Long) r.get("last_seen"), (Long) r.get("cart_at"), (Long) r.get("customer_at"),
                    cart((GenericRecord) r.get("cart"), "cart"), customer((GenericRecord) r.get("customer"), "customer"),
                    recent);
        } catch (Rejected e) {
            throw new IllegalStateException("snapshot: " + e.getMessage(), e);
        }
    }

    private byte[] write(GenericDatumWriter<GenericRecord> w, GenericRecord r) {
        buf.reset();
        encoder = EncoderFactory.get().binaryEncoder(buf, encoder);
        try {
            w.write(r, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("encode " + r.getSchema().getName(), e);
        }
        return buf.toByteArray();
    }
}
