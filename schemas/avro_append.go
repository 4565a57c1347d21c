package schemas

import (
	"encoding/binary"
	"math"

	"github.com/sessiond/sessiond/reducer"
)

// Avro's binary encoding (the specification's "Binary Encoding"), written
// directly for sessiond's own records. goavro stays the library of the
// contract and of every decoder; these appenders exist because building
// goavro's map[string]any per changelog record was a fifth of the
// pipeline's CPU. snapshot_encoder_test.go proves the output byte-equal to
// goavro's over the golden cases, generated streams and a fuzzed corpus.

func appendLong(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64((v<<1)^(v>>63))) // zig-zag
}

func appendInt(dst []byte, v int32) []byte { return appendLong(dst, int64(v)) }

func appendString(dst []byte, s string) []byte {
	return append(appendLong(dst, int64(len(s))), s...)
}

func appendBytes(dst, b []byte) []byte {
	return append(appendLong(dst, int64(len(b))), b...)
}

func appendDouble(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// appendOptString writes a ["null", "string"] union.
func appendOptString(dst []byte, s string, ok bool) []byte {
	if !ok {
		return append(dst, 0) // branch 0: null
	}
	return appendString(append(dst, 2), s) // branch 1, zig-zag
}

// appendOptBool writes a ["null", "boolean"] union.
func appendOptBool(dst []byte, b, ok bool) []byte {
	if !ok {
		return append(dst, 0)
	}
	return appendBool(append(dst, 2), b)
}

// appendCartUnion writes a ["null", Cart] union.
func appendCartUnion(dst []byte, c *reducer.Cart) []byte {
	if c == nil {
		return append(dst, 0)
	}
	dst = appendItems(append(dst, 2), c.Items)
	return appendOptString(dst, c.RestoreLink, c.HasRestore)
}

// appendItems writes an array of Item: one block of all items, then the
// end marker (an empty array is the end marker alone), as goavro does.
func appendItems(dst []byte, items []reducer.Item) []byte {
	if len(items) > 0 {
		dst = appendLong(dst, int64(len(items)))
		for i := range items {
			dst = appendItem(dst, &items[i])
		}
	}
	return append(dst, 0)
}

func appendItem(dst []byte, it *reducer.Item) []byte {
	dst = appendString(dst, it.ProductID)
	dst = appendOptString(dst, it.SkuID, it.HasSku)
	dst = appendString(dst, it.Name)
	dst = appendInt(dst, it.Quantity)
	dst = appendDouble(dst, it.UnitPrice)
	return appendString(dst, it.PriceCurrencyCode)
}

// appendCustomerUnion writes a ["null", Customer] union: the fields
// present; with customerOutput, an absent marketing_permission as false
// except in a reset (as writer.customer does).
func appendCustomerUnion(dst []byte, c *reducer.Customer, mode customerMode) []byte {
	if c == nil {
		return append(dst, 0)
	}
	dst = append(dst, 2)
	for _, f := range customerStrings {
		dst = appendOptString(dst, *f.field(c), c.Has(f.bit))
	}
	dst = appendOptBool(dst, c.Newsletter, c.Has(reducer.FieldNewsletter))
	consent := c.Has(reducer.FieldMarketingPermission)
	if mode == customerOutput && !c.IsReset() && !consent {
		return appendOptBool(dst, false, true)
	}
	return appendOptBool(dst, c.MarketingPermission, consent)
}

// appendOptStringPtr writes a ["null", "string"] union from a pointer.
func appendOptStringPtr(dst []byte, p *string) []byte {
	if p == nil {
		return append(dst, 0)
	}
	return appendOptString(dst, *p, true)
}

// appendOptStrings writes a ["null", {"type":"array","items":"string"}]
// union: nil is null, an empty slice an empty array.
func appendOptStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, 0)
	}
	dst = append(dst, 2)
	if len(ss) > 0 {
		dst = appendLong(dst, int64(len(ss)))
		for _, s := range ss {
			dst = appendString(dst, s)
		}
	}
	return append(dst, 0)
}

// appendAction writes an Action record (action.avsc).
func appendAction(dst []byte, a *reducer.Action) []byte {
	typ := int32(a.Type)
	if int(a.Type) >= reducer.NumActionTypes {
		typ = int32(reducer.ActionUnknown)
	}
	dst = appendInt(dst, typ) // enum: the symbol's index
	dst = appendOptStringPtr(dst, a.ProductID)
	dst = appendOptStringPtr(dst, a.SkuID)
	dst = appendOptStrings(dst, a.Categories)
	dst = appendOptStrings(dst, a.CategoryIDs)
	dst = appendOptStrings(dst, a.SearchTerms)
	dst = appendOrderUnion(dst, a.Order)
	dst = appendOptStrings(dst, a.Placements)
	dst = appendOptStringPtr(dst, a.PageURL)
	if a.UpdateOnly == nil {
		return append(dst, 0)
	}
	return appendOptBool(dst, *a.UpdateOnly, true)
}

func appendOrderUnion(dst []byte, o *reducer.Order) []byte {
	if o == nil {
		return append(dst, 0)
	}
	dst = appendString(append(dst, 2), o.OrderNumber)
	dst = appendItems(dst, o.Items)
	dst = appendOptStringPtr(dst, o.ExternalOrderRef)
	dst = appendOptStringPtr(dst, o.PaymentProvider)
	return appendOptStringPtr(dst, o.OrderStatus)
}

// appendUpdate writes a SessionUpdate record (session_update.avsc).
func appendUpdate(dst []byte, u *reducer.Update) []byte {
	dst = appendString(dst, u.UpdateID)
	dst = appendString(dst, u.VisitorID)
	dst = appendLong(dst, u.OccurredAt)
	dst = appendAction(dst, u.Action)
	dst = appendCartUnion(dst, u.Cart)
	return appendCustomerUnion(dst, u.Customer, customerOutput)
}

// appendSnapshot writes a Snapshot record (snapshot.avsc), field by field.
func appendSnapshot(dst []byte, s *reducer.Snapshot) []byte {
	dst = appendInt(dst, SnapshotVersion)
	dst = appendLong(dst, s.LastSeen)
	dst = appendLong(dst, s.CartAt)
	dst = appendLong(dst, s.CustomerAt)
	dst = appendCartUnion(dst, s.Cart)
	dst = appendCustomerUnion(dst, s.Customer, customerExact)
	dst = appendLong(dst, int64(8*len(s.Recent)))
	for _, h := range s.Recent {
		dst = binary.LittleEndian.AppendUint64(dst, h)
	}
	return dst
}
