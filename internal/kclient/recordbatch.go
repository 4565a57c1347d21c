package kclient

import (
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/segmentio/kafka-go"
)

// producerIdentity is what makes a record batch idempotent: the producer id
// the cluster handed out (InitProducerId), its epoch, and the sequence
// number of the batch's first record within its partition.
type producerIdentity struct {
	id    int64
	epoch int16
	seq   int32
}

// noIdentity is a batch without idempotence (kafka-go's encoding).
var noIdentity = producerIdentity{id: -1, epoch: -1, seq: -1}

// Offsets in a v2 record batch (KIP-98), after the 4-byte size prefix of
// the produce request's records field.
const (
	batchHeaderSize = 61 // base offset .. record count
	batchCRCFrom    = 21 // the CRC covers attributes to the end
	attrTransaction = 1 << 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeBatch appends to dst the records field of a produce request for
// msgs: the int32 size, then one uncompressed v2 record batch carrying id
// (producer id, epoch, base sequence) and, if transactional, the
// transactional attribute. Timestamps are the messages' (now when zero), as
// kafka-go writes them; so is everything else, byte for byte, when id is
// noIdentity (recordbatch_test.go compares the two).
func encodeBatch(dst []byte, msgs []kafka.Message, id producerIdentity, transactional bool) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, 4+batchHeaderSize)...)
	now := time.Now()
	var first, maxTS int64
	for i := range msgs {
		ts := millis(msgs[i].Time, now)
		if i == 0 {
			first = ts
		}
		if ts > maxTS {
			maxTS = ts
		}
	}
	for i := range msgs {
		dst = appendRecord(dst, &msgs[i], millis(msgs[i].Time, now)-first, int64(i))
	}
	h := dst[start+4 : start+4+batchHeaderSize]
	be := binary.BigEndian
	be.PutUint64(h[0:], 0)                           // base offset
	be.PutUint32(h[8:], uint32(len(dst)-start-4-12)) // batch length: after itself
	be.PutUint32(h[12:], 0xFFFFFFFF)                 // partition leader epoch: -1
	h[16] = 2                                        // magic
	var attrs uint16
	if transactional {
		attrs |= attrTransaction
	}
	be.PutUint16(h[21:], attrs)
	be.PutUint32(h[23:], uint32(len(msgs)-1)) // last offset delta
	be.PutUint64(h[27:], uint64(first))
	be.PutUint64(h[35:], uint64(maxTS))
	be.PutUint64(h[43:], uint64(id.id))
	be.PutUint16(h[51:], uint16(id.epoch))
	be.PutUint32(h[53:], uint32(id.seq))
	be.PutUint32(h[57:], uint32(len(msgs)))
	be.PutUint32(h[17:], crc32.Checksum(dst[start+4+batchCRCFrom:], castagnoli))
	be.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// millis is t in Unix milliseconds, now's when t is zero.
func millis(t, now time.Time) int64 {
	if t.IsZero() {
		t = now
	}
	return t.UnixMilli()
}

// appendRecord appends one record of a v2 batch.
func appendRecord(dst []byte, m *kafka.Message, tsDelta, offsetDelta int64) []byte {
	length := 1 + varintLen(tsDelta) + varintLen(offsetDelta) +
		bytesLen(m.Key) + bytesLen(m.Value) + varintLen(int64(len(m.Headers)))
	for _, hd := range m.Headers {
		length += varintLen(int64(len(hd.Key))) + len(hd.Key) + bytesLen(hd.Value)
	}
	dst = binary.AppendVarint(dst, int64(length))
	dst = append(dst, 0) // record attributes
	dst = binary.AppendVarint(dst, tsDelta)
	dst = binary.AppendVarint(dst, offsetDelta)
	dst = appendBytes(dst, m.Key)
	dst = appendBytes(dst, m.Value)
	dst = binary.AppendVarint(dst, int64(len(m.Headers)))
	for _, hd := range m.Headers {
		dst = binary.AppendVarint(dst, int64(len(hd.Key)))
		dst = append(dst, hd.Key...)
		dst = appendBytes(dst, hd.Value)
	}
	return dst
}

// appendBytes appends b as a varint-length field, -1 for nil.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

// varintLen is the length of v as a zig-zag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}
