package com.sessiond.kstreams;

/**
 * Why an input record was rejected (sent to the dead-letter topic, with no other effect).
 * The reason is sessiond's: "decode" (the bytes are not the topic's Avro record) or
 * "invalid" (decoded, but broke a rule of DESIGN §2); the message is "field: reason" for
 * invalid events, as package reducer's FieldError writes it.
 */
final class Rejected extends Exception {
    private static final long serialVersionUID = 1L;

    static final String DECODE = "decode";
    static final String INVALID = "invalid";

    final String reason;

    private Rejected(String reason, String message, Throwable cause) {
        super(message, cause, false, false);
        this.reason = reason;
    }

    static Rejected decode(String message, Throwable cause) {
        return new Rejected(DECODE, message, cause);
    }

    static Rejected invalid(String field, String why) {
        return new Rejected(INVALID, field + ": " + why, null);
    }
}
