package com.sessiond.kstreams;

import java.util.List;

/**
 * The reducer's types: a port of package reducer's Event, Cart, Customer, Action,
 * Snapshot and Update. Optional values are null when absent; lists are null when
 * absent and empty when present and empty, so an update repeats exactly what was sent.
 */
final class Model {
    private Model() {}

    /** The three input streams, in the tie-break order of DESIGN §2: cart, customer, action. */
    enum Kind {
        CART("cart_changed"),
        CUSTOMER("customer_changed"),
        ACTION("action");

        final String wireName;

        Kind(String wireName) {
            this.wireName = wireName;
        }
    }

    /** One line of a cart or an order. skuId is null when absent. */
    record Item(String productId, String skuId, String name, int quantity, double unitPrice,
                String priceCurrencyCode) {}

    /** A cart: no items is a known, empty cart. restoreLink is null when absent. */
    record Cart(List<Item> items, String restoreLink) {}

    /** A customer: each field null when absent; every field absent is a reset. */
    record Customer(String customerReference, String email, String firstName, String lastName,
                    Boolean newsletter, Boolean marketingPermission) {
        boolean isReset() {
            return customerReference == null && email == null && firstName == null && lastName == null
                    && newsletter == null && marketingPermission == null;
        }
    }

    /** The payload of an add_order action. */
    record Order(String orderNumber, List<Item> items, String externalOrderRef, String paymentProvider,
                 String orderStatus) {}

    /** A page action as received; type is the Avro enum symbol ("unknown" is always rejected). */
    record Action(String type, String productId, String skuId, List<String> categories,
                  List<String> categoryIds, List<String> searchTerms, Order order, List<String> placements,
                  String pageUrl, Boolean updateOnly) {}

    /**
     * One input event. Exactly one of cart, customer and action is meaningful, chosen by kind;
     * a null cart or customer means "unchanged".
     */
    record Event(Kind kind, String visitorId, String eventId, long occurredAt, Cart cart, Customer customer,
                 Action action) {}

    /** The update emitted for one accepted action; a null cart or customer is unknown. */
    record Update(String updateId, String visitorId, long occurredAt, Action action, Cart cart,
                  Customer customer) {}

    /**
     * One visitor's session state, the value of the state store (schemas/snapshot.avsc).
     * Mutable: the reducer updates the copy it was handed, which the processor decoded
     * from the store for this one event.
     */
    static final class Snapshot {
        long lastSeen;   // latest occurred_at of any accepted event, ms
        long cartAt;     // occurred_at of the cart mutation applied, ms
        long customerAt; // occurred_at of the customer mutation applied, ms
        Cart cart;       // null: unknown
        Customer customer;
        long[] recent;   // xxhash64 of the last RECENT_ACTIONS action ids, oldest first

        Snapshot(long lastSeen, long cartAt, long customerAt, Cart cart, Customer customer, long[] recent) {
            this.lastSeen = lastSeen;
            this.cartAt = cartAt;
            this.customerAt = customerAt;
            this.cart = cart;
            this.customer = customer;
            this.recent = recent;
        }
    }
}
