package urlcanon

import "testing"

// A host that IDNA mapping turns into a numeric one (a soft hyphen is
// mapped to nothing) is read as an IPv4 address in the same pass, so a
// second canonicalisation changes nothing.
func TestCanonicalizeSoftHyphenBeforeNumericHostIsIdempotent(t *testing.T) {
	for _, in := range []string{"http://\u00ad2130706433/", "http://0x7f.\u00ad1/", "http://\u00ad127.0.0.1/"} {
		c, err := Canonicalize(in)
		if err != nil {
			t.Fatalf("Canonicalize(%q): %v", in, err)
		}
		again, err := Canonicalize(c)
		if err != nil {
			t.Fatalf("Canonicalize(%q): %v", c, err)
		}
		if c != "http://127.0.0.1/" || again != c {
			t.Errorf("%q -> %q -> %q, want http://127.0.0.1/ both times", in, c, again)
		}
	}
}
