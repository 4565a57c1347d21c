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
	dst = append(dst, 2)
	if len(c.Items) > 0 { // one block of all items, then the end marker
		dst = appendLong(dst, int64(len(c.Items)))
		for i := range c.Items {
			dst = appendItem(dst, &c.Items[i])
		}
	}
	dst = append(dst, 0)
	return appendOptString(dst, c.RestoreLink, c.HasRestore)
}

func appendItem(dst []byte, it *reducer.Item) []byte {
	dst = appendString(dst, it.ProductID)
	dst = appendOptString(dst, it.SkuID, it.HasSku)
	dst = appendString(dst, it.Name)
	dst = appendInt(dst, it.Quantity)
	dst = appendDouble(dst, it.UnitPrice)
	return appendString(dst, it.PriceCurrencyCode)
}

// appendCustomerUnion writes a ["null", Customer] union with exactly the
// fields present (customerExact).
func appendCustomerUnion(dst []byte, c *reducer.Customer) []byte {
	if c == nil {
		return append(dst, 0)
	}
	dst = append(dst, 2)
	for _, f := range customerStrings {
		dst = appendOptString(dst, *f.field(c), c.Has(f.bit))
	}
	for _, f := range customerBools {
		dst = appendOptBool(dst, *f.field(c), c.Has(f.bit))
	}
	return dst
}

// appendSnapshot writes a Snapshot record (snapshot.avsc), field by field.
func appendSnapshot(dst []byte, s *reducer.Snapshot) []byte {
	dst = appendInt(dst, SnapshotVersion)
	dst = appendLong(dst, s.LastSeen)
	dst = appendLong(dst, s.CartAt)
	dst = appendLong(dst, s.CustomerAt)
	dst = appendCartUnion(dst, s.Cart)
	dst = appendCustomerUnion(dst, s.Customer)
	dst = appendLong(dst, int64(8*len(s.Recent)))
	for _, h := range s.Recent {
		dst = binary.LittleEndian.AppendUint64(dst, h)
	}
	return dst
}
