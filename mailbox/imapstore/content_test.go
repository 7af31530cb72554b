package imapstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBatch(t *testing.T) {
	sized := func(sizes ...int64) []candidate {
		out := make([]candidate, len(sizes))
		for i, s := range sizes {
			out[i] = candidate{uid: 1, size: s}
		}
		return out
	}
	unknown := func(n int) []candidate {
		out := make([]candidate, n)
		for i := range out {
			out[i] = candidate{uid: 1, size: -1}
		}
		return out
	}
	assert.Equal(t, 500, batch(sized(make([]int64, 600)...), 0, 0), "at most 500 messages")
	assert.Equal(t, 2, batch(sized(4<<20, 4<<20, 1), 0, 0), "at most 8 MiB")
	assert.Equal(t, 1, batch(sized(20<<20, 1), 0, 0), "a big message alone")
	assert.Equal(t, 1, batch(sized(1, 20<<20), 0, 0), "a big message waits for the next batch")
	assert.Equal(t, 16, batch(unknown(100), 0, 0), "16 messages before any size is known")
	assert.Equal(t, 8, batch(unknown(100), 10, 10<<20), "1 MiB messages so far: 8")
	assert.Equal(t, 500, batch(unknown(1000), 100, 200<<10), "2 KiB messages so far: 500")
	assert.Equal(t, 3, batch(unknown(3), 100, 200<<10))
}
