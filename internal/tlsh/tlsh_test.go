package tlsh

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readTSV returns the non-comment lines of a tab-separated file in
// testdata, split into fields.
func readTSV(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows, name)
	return rows
}

// TestVectors checks digests of the files in testdata against those the
// reference implementation printed for them (see make_vectors.py).
func TestVectors(t *testing.T) {
	for _, row := range readTSV(t, "vectors.tsv") {
		name, want := row[0], row[1]
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			require.NoError(t, err)
			got, err := Hash(data)
			if want == "-" {
				require.ErrorIs(t, err, ErrNotComplex)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Version+want, got.String())

			// The same input written in pieces gives the same digest.
			var h Hasher
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)%7)
				_, err := h.Write(rest[:n])
				require.NoError(t, err)
				rest = rest[n:]
			}
			streamed, err := h.Sum()
			require.NoError(t, err)
			assert.Equal(t, got, streamed)
		})
	}
}

// TestDistances checks Diff and DiffNoLength against the reference's
// distances between every pair of vectors.
func TestDistances(t *testing.T) {
	digests := map[string]Digest{}
	for _, row := range readTSV(t, "vectors.tsv") {
		if row[1] == "-" {
			continue
		}
		d, err := Parse(row[1])
		require.NoError(t, err)
		digests[row[0]] = d
	}
	rows := readTSV(t, "distances.tsv")
	for _, row := range rows {
		a, ok := digests[row[0]]
		require.True(t, ok, row[0])
		b, ok := digests[row[1]]
		require.True(t, ok, row[1])
		want, err := strconv.Atoi(row[2])
		require.NoError(t, err)
		wantX, err := strconv.Atoi(row[3])
		require.NoError(t, err)
		assert.Equal(t, want, Diff(a, b), "%s %s", row[0], row[1])
		assert.Equal(t, want, Diff(b, a), "%s %s", row[1], row[0])
		assert.Equal(t, wantX, DiffNoLength(a, b), "%s %s", row[0], row[1])
	}
	t.Logf("%d pairs", len(rows))
}

func TestHashErrors(t *testing.T) {
	random := func(n int) []byte {
		r := rand.New(rand.NewPCG(uint64(n), 7))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{name: "empty", data: nil, want: ErrTooShort},
		{name: "4 bytes", data: random(4), want: ErrTooShort},
		{name: "49 bytes", data: random(49), want: ErrTooShort},
		{name: "50 bytes", data: random(50)},
		{name: "256 bytes", data: random(256)},
		{name: "uniform", data: make([]byte, 10000), want: ErrNotComplex},
		{name: "two bytes repeated", data: []byte(strings.Repeat("ab", 5000)), want: ErrNotComplex},
		{name: "50 uniform bytes", data: []byte(strings.Repeat("x", 50)), want: ErrNotComplex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Hash(tt.data)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				assert.Equal(t, Digest{}, d)
				return
			}
			require.NoError(t, err)
			assert.Len(t, d.String(), 72)
		})
	}
}

func TestHasherTooLong(t *testing.T) {
	// Pretend 4 GiB were written: only the length matters for the bound.
	h := Hasher{n: MaxLength}
	h.counts[0] = 1
	_, err := h.Sum()
	require.NotErrorIs(t, err, ErrTooLong)
	h.n++
	_, err = h.Sum()
	require.ErrorIs(t, err, ErrTooLong)
}

func TestHasherSumThenWrite(t *testing.T) {
	data := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40))
	var h Hasher
	_, _ = h.Write(data[:300])
	first, err := h.Sum()
	require.NoError(t, err)
	again, err := h.Sum()
	require.NoError(t, err)
	assert.Equal(t, first, again, "Sum must not change the state")
	_, _ = h.Write(data[300:])
	assert.Equal(t, uint64(len(data)), h.Len())
	whole, err := Hash(data)
	require.NoError(t, err)
	got, err := h.Sum()
	require.NoError(t, err)
	assert.Equal(t, whole, got)

	h.Reset()
	assert.Equal(t, uint64(0), h.Len())
	_, err = h.Sum()
	require.ErrorIs(t, err, ErrTooShort)
	_, _ = New().Write(data)
	_, _ = h.Write(data)
	got, err = h.Sum()
	require.NoError(t, err)
	assert.Equal(t, whole, got)
}

func TestParse(t *testing.T) {
	const legacy = "BC51391C6A04067790D38293F039CA76FF38E56A13437D4AC4AB430C31B5D7A6BB10AE"
	tests := []struct {
		name    string
		in      string
		want    string // String() of the result; "" when an error is expected
		wantErr bool
	}{
		{name: "T1", in: "T1" + legacy, want: "T1" + legacy},
		{name: "legacy 70 hex", in: legacy, want: "T1" + legacy},
		{name: "lower case", in: "t1" + strings.ToLower(legacy), want: "T1" + legacy},
		{name: "empty", in: "", wantErr: true},
		{name: "T1 only", in: "T1", wantErr: true},
		{name: "short", in: legacy[:68], wantErr: true},
		{name: "long", in: legacy + "00", wantErr: true},
		{name: "T2 version", in: "T2" + legacy, wantErr: true},
		{name: "non-hex", in: "T1" + legacy[:69] + "G", wantErr: true},
		{name: "space", in: " " + legacy[1:], wantErr: true},
		{name: "72 chars without prefix", in: "00" + legacy, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidDigest)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.String())
		})
	}
}

func TestDigestFields(t *testing.T) {
	// bin_256.bin: 256 bytes have length code 13 (194 < 256 <= 291).
	d, err := Parse("39D09530055E58D6FF7119BAC50075D22DF774241FD455F07CD1CCD4544731180395C1")
	require.NoError(t, err)
	assert.Equal(t, byte(0x93), d.checksum, "checksum nibbles are swapped in the hex")
	assert.Equal(t, byte(13), d.lvalue, "length code nibbles are swapped in the hex")
	assert.Equal(t, byte(9), d.q1)
	assert.Equal(t, byte(5), d.q2)
	assert.Equal(t, byte(0xC1), d.code[0], "the body is written last byte first")
	assert.Equal(t, byte(0x30), d.code[codeSize-1])
}

func TestTextMarshaling(t *testing.T) {
	d, err := Parse("T1BC51391C6A04067790D38293F039CA76FF38E56A13437D4AC4AB430C31B5D7A6BB10AE")
	require.NoError(t, err)
	b, err := json.Marshal(map[string]Digest{"tlsh": d})
	require.NoError(t, err)
	assert.JSONEq(t, `{"tlsh":"T1BC51391C6A04067790D38293F039CA76FF38E56A13437D4AC4AB430C31B5D7A6BB10AE"}`, string(b))
	var back map[string]Digest
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, d, back["tlsh"])
	require.ErrorIs(t, json.Unmarshal([]byte(`{"tlsh":"nope"}`), &back), ErrInvalidDigest)
}

func TestMixTable(t *testing.T) {
	salts := [7]byte{0, 2, 3, 5, 7, 11, 13}
	for k, s := range salts {
		for b := range 256 {
			require.Equal(t, pearson[pearson[s]^byte(b)], mixBytes[k][b], "salt %d byte %d", s, b)
		}
	}
	seen := map[byte]bool{}
	for _, v := range pearson {
		seen[v] = true
	}
	require.Len(t, seen, 256, "pearson must be a permutation")
}

func TestLengthCode(t *testing.T) {
	assert.Equal(t, byte(0), lengthCode(0))
	assert.Equal(t, byte(0), lengthCode(1))
	for i, top := range lengthTop {
		require.Equal(t, byte(i), lengthCode(top), "top of code %d", i)
		if top < MaxLength {
			require.Equal(t, byte(i+1), lengthCode(top+1), "after code %d", i)
		}
	}
	assert.Equal(t, byte(170), lengthCode(MaxLength))
}

// naiveBodyDiff is the body distance spelled out pair by pair.
func naiveBodyDiff(a, b *[codeSize]byte) int {
	n := 0
	for i := range a {
		for j := 0; j < 8; j += 2 {
			x, y := int(a[i]>>j&3), int(b[i]>>j&3)
			d := x - y
			if d < 0 {
				d = -d
			}
			if d == 3 {
				d = 6
			}
			n += d
		}
	}
	return n
}

func TestBodyDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var a, b [codeSize]byte
	check := func() {
		t.Helper()
		require.Equal(t, naiveBodyDiff(&a, &b), bodyDiff(&a, &b), "%x %x", a, b)
	}
	for x := range 4 {
		for y := range 4 {
			a, b = [codeSize]byte{}, [codeSize]byte{}
			a[5], b[5] = byte(x<<4), byte(y<<4)
			check()
		}
	}
	for range 10000 {
		for i := range a {
			a[i], b[i] = byte(r.Uint32()), byte(r.Uint32())
		}
		check()
	}
	for i := range a {
		a[i], b[i] = 0, 0xFF
	}
	check()
	assert.Equal(t, 6*128, bodyDiff(&a, &b))
}

func TestDiffHeader(t *testing.T) {
	base := Digest{checksum: 7, lvalue: 100, q1: 3, q2: 9}
	tests := []struct {
		name      string
		change    func(d *Digest)
		want      int
		wantNoLen int
	}{
		{name: "same", change: func(*Digest) {}, want: 0, wantNoLen: 0},
		{name: "checksum", change: func(d *Digest) { d.checksum = 8 }, want: 1, wantNoLen: 1},
		{name: "length +1", change: func(d *Digest) { d.lvalue = 101 }, want: 1, wantNoLen: 0},
		{name: "length +2", change: func(d *Digest) { d.lvalue = 102 }, want: 24, wantNoLen: 0},
		{name: "length wraps", change: func(d *Digest) { d.lvalue = 100 + 200 - 256 }, want: 56 * 12, wantNoLen: 0},
		{name: "q1 +1", change: func(d *Digest) { d.q1 = 4 }, want: 1, wantNoLen: 1},
		{name: "q1 +3", change: func(d *Digest) { d.q1 = 6 }, want: 24, wantNoLen: 24},
		{name: "q2 wraps", change: func(d *Digest) { d.q2 = 1 }, want: 12 * 7, wantNoLen: 12 * 7},
		{name: "body 0 vs 3", change: func(d *Digest) { d.code[31] = 0xC0 }, want: 6, wantNoLen: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := base
			tt.change(&other)
			assert.Equal(t, tt.want, Diff(base, other))
			assert.Equal(t, tt.want, Diff(other, base))
			assert.Equal(t, tt.wantNoLen, DiffNoLength(base, other))
		})
	}
}
