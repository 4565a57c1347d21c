package schemas

import "github.com/linkedin/goavro/v2"

// maxBlockCount bounds the number of items goavro accepts in one array block.
// goavro allocates a block's items before reading them, and its default
// bound is 2^31-1: without a lower one, a six-byte record could make it
// allocate 32 GiB and crash the process. No cart, order or list of ours comes
// near 65536 items (and a default 1 MB Kafka message could not carry that
// many carts lines anyway).
const maxBlockCount = 1 << 16

// init lowers goavro's process-wide bound, never raises it. It runs before
// any importer can decode, so the write does not race with goavro's reads.
func init() {
	if goavro.MaxBlockCount > maxBlockCount {
		goavro.MaxBlockCount = maxBlockCount
	}
}
