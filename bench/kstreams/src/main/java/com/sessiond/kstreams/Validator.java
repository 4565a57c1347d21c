package com.sessiond.kstreams;

import com.sessiond.kstreams.Model.Action;
import com.sessiond.kstreams.Model.Cart;
import com.sessiond.kstreams.Model.Event;
import com.sessiond.kstreams.Model.Item;
import com.sessiond.kstreams.Model.Order;
import java.util.List;

/**
 * The rules of reducer.Validate (reducer/validate.go, validate_action.go), in the same
 * order: non-empty ids, an occurred_at that RFC 3339 can write, positive quantities,
 * non-negative finite prices, ISO 4217 currency codes and the fields each action type
 * requires. Valid UTF-8 in every string is checked while decoding (AvroCodec), since a
 * Java String can no longer tell.
 */
final class Validator {
    private Validator() {}

    /** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: what RFC 3339 can write. */
    static final long MIN_OCCURRED_AT = -62167219200000L;
    static final long MAX_OCCURRED_AT = 253402300799999L;

    static void validate(Event ev) throws Rejected {
        requireNonEmpty("visitor_id", ev.visitorId());
        requireNonEmpty("event_id", ev.eventId());
        if (ev.occurredAt() < MIN_OCCURRED_AT || ev.occurredAt() > MAX_OCCURRED_AT) {
            throw Rejected.invalid("occurred_at", "must be between years 0000 and 9999");
        }
        switch (ev.kind()) {
            case CART -> validateCart(ev.cart());
            case CUSTOMER -> { } // only UTF-8, checked while decoding
            case ACTION -> validateAction(ev.action());
        }
    }

    private static void requireNonEmpty(String field, String s) throws Rejected {
        if (s == null || s.isEmpty()) {
            throw Rejected.invalid(field, "must be a non-empty string");
        }
    }

    private static void validateCart(Cart c) throws Rejected {
        if (c != null) {
            validateItems("cart.items", c.items());
        }
    }

    private static void validateItems(String field, List<Item> items) throws Rejected {
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            String at = field + "[" + i + "].";
            if (it.productId().isEmpty()) {
                throw Rejected.invalid(at + "product_id", "must be a non-empty string");
            }
            if (it.quantity() < 1) {
                throw Rejected.invalid(at + "quantity", "must be at least 1, got " + it.quantity());
            }
            double p = it.unitPrice();
            if (Double.isNaN(p) || Double.isInfinite(p) || p < 0) {
                throw Rejected.invalid(at + "unit_price", "must be a finite number >= 0");
            }
            if (!isCurrencyCode(it.priceCurrencyCode())) {
                throw Rejected.invalid(at + "price_currency_code", "must be an ISO 4217 code of 3 upper-case letters");
            }
        }
    }

    private static boolean isCurrencyCode(String s) {
        if (s.length() != 3) {
            return false;
        }
        for (int i = 0; i < 3; i++) {
            char c = s.charAt(i);
            if (c < 'A' || c > 'Z') {
                return false;
            }
        }
        return true;
    }

    private static void validateAction(Action a) throws Rejected {
        if (a == null) {
            throw Rejected.invalid("action", "is required");
        }
        switch (a.type()) {
            case "view_front_page", "view_cart", "view_not_found", "view_other" -> { }
            case "view_product" -> {
                if (a.productId() == null) {
                    throw Rejected.invalid("action.product_id", "is required");
                }
                requireNonEmpty("action.product_id", a.productId());
            }
            case "view_category" -> requireNonEmptyList("action.categories", a.categories());
            case "view_search" -> requireNonEmptyList("action.search_terms", a.searchTerms());
            case "add_order" -> {
                if (a.order() == null) {
                    throw Rejected.invalid("action.order", "is required for add_order");
                }
            }
            default -> throw Rejected.invalid("action.type", "unknown action type");
        }
        if (a.order() != null) {
            validateOrder(a.order());
        }
    }

    private static void requireNonEmptyList(String field, List<String> l) throws Rejected {
        if (l == null || l.isEmpty()) {
            throw Rejected.invalid(field, "must be a non-empty list");
        }
    }

    private static void validateOrder(Order o) throws Rejected {
        requireNonEmpty("action.order.order_number", o.orderNumber());
        validateItems("action.order.items", o.items());
    }
}
