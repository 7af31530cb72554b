package tlsh

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchInput is size pseudo-random bytes of mixed text and binary.
func benchInput(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, size)
	for i := range b {
		if i/4096%2 == 0 {
			b[i] = byte('a' + r.IntN(26))
		} else {
			b[i] = byte(r.Uint32())
		}
	}
	return b
}

func BenchmarkHash(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
		data := benchInput(size)
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Hash(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDiff(b *testing.B) {
	x, err := Hash(benchInput(10000))
	if err != nil {
		b.Fatal(err)
	}
	data := benchInput(20000)
	data[5000] ^= 0xFF
	y, err := Hash(data[:12000])
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		n += Diff(x, y)
	}
	_ = n
}

func BenchmarkSum(b *testing.B) {
	var h Hasher
	h.Write(benchInput(64 << 10))
	for b.Loop() {
		if _, err := h.Sum(); err != nil {
			b.Fatal(err)
		}
	}
}
