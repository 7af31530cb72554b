package tlsh

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzHash(f *testing.F) {
	f.Add([]byte(strings.Repeat("Please verify your account at https://example.com/login today. ", 3)), []byte("x"))
	f.Add(bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 8), []byte{0xFF})
	f.Add(make([]byte, 100), []byte("abc"))
	f.Add([]byte("short"), []byte{})
	f.Fuzz(func(t *testing.T, data, extra []byte) {
		d, err := Hash(data)
		if err != nil {
			if len(data) >= MinLength && err != ErrNotComplex {
				t.Fatalf("Hash(%d bytes): %v", len(data), err)
			}
			return
		}
		s := d.String()
		back, err := Parse(s)
		if err != nil || back != d {
			t.Fatalf("Parse(%q) = %v, %v; want %v", s, back, err, d)
		}
		if legacy, err := Parse(s[len(Version):]); err != nil || legacy != d {
			t.Fatalf("Parse of the legacy form %q = %v, %v", s[len(Version):], legacy, err)
		}
		if Diff(d, d) != 0 || DiffNoLength(d, d) != 0 {
			t.Fatalf("distance of %s to itself is %d/%d", d, Diff(d, d), DiffNoLength(d, d))
		}

		var h Hasher
		_, _ = h.Write(data[:len(data)/2])
		_, _ = h.Write(data[len(data)/2:])
		if streamed, err := h.Sum(); err != nil || streamed != d {
			t.Fatalf("streamed %v, %v; want %v", streamed, err, d)
		}

		e, err := Hash(append(bytes.Clone(data), extra...))
		if err != nil {
			return
		}
		if Diff(d, e) != Diff(e, d) || DiffNoLength(d, e) != DiffNoLength(e, d) {
			t.Fatalf("distance not symmetric between %s and %s", d, e)
		}
		if DiffNoLength(d, e) > Diff(d, e) {
			t.Fatalf("distance without length %d above distance %d", DiffNoLength(d, e), Diff(d, e))
		}
		if d != e && Diff(d, e) == 0 {
			t.Fatalf("different digests %s and %s at distance 0", d, e)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("T1BC51391C6A04067790D38293F039CA76FF38E56A13437D4AC4AB430C31B5D7A6BB10AE")
	f.Add("bc51391c6a04067790d38293f039ca76ff38e56a13437d4ac4ab430c31b5d7a6bb10ae")
	f.Add("T2BC51391C6A04067790D38293F039CA76FF38E56A13437D4AC4AB430C31B5D7A6BB10AE")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(d.String()[len(Version):], s[len(s)-hexLen:]) {
			t.Fatalf("Parse(%q).String() = %q", s, d.String())
		}
		back, err := Parse(d.String())
		if err != nil || back != d {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}
