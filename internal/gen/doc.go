// Package gen generates a deterministic, realistic stream of e-commerce
// shopper events (docs/design.md §2): the input of `sessiond demo`, of the end-to-end
// load benchmark and of the integration and fault tests.
//
// A Generator plays Config.Visitors shoppers, each a small state machine:
// a visitor lands on the front page, a category (/Womens/Dresses), a search
// ("black shoes") or a product; browses products (with SKUs for sized
// goods); adds what it viewed to its cart, changes quantities, removes
// items or empties the cart; logs in and out; views the cart and sometimes
// places an order, after which its cart is reset. Every cart_changed event
// carries the visitor's full cart (1:1 replace), a reset (no items) or, as
// platforms sometimes send, nothing at all (unchanged); customer_changed
// events carry a full profile (replace), an empty one (reset, on log-out or
// for guests) or nothing. Actions carry placements, page URLs and sometimes
// update_only. Names are realistic and partly non-ASCII ("Männer-Laufshirt"),
// prices have two decimals in EUR, USD or GBP.
//
// The stream is a pure function of the Config: the same seed always gives
// the same events, byte for byte. The mix is close to 30% cart_changed, 15%
// customer_changed and 55% action; event time advances by exponentially
// distributed gaps of mean Config.MeanGap, so OccurredAt never decreases and
// every EventID is unique. Every event passes reducer.Validate. Memory is
// O(Visitors): tens of millions of events can be streamed with Next.
//
// Faults are opt-in and injected with their own random source, so that a
// faulty stream is the clean stream of the same seed plus the faults:
//
//   - DuplicateRate re-sends an action a few events later, unchanged (same
//     EventID, same OccurredAt), as an at-least-once producer does.
//   - LateRate dates a cart or customer event a few seconds before stream
//     time, as a slow producer does.
//
// Events and everything they point to are read-only once returned: carts,
// orders and some lists are shared between events.
package gen
