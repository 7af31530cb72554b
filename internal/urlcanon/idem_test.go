package urlcanon

import (
	"errors"
	"strings"
	"testing"
)

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

// Escaping can triple a host's length: an input within MaxLen whose
// canonical form is longer is refused, or its canonical form would not
// canonicalise again (fuzz finding).
func TestCanonicalFormLongerThanMaxLenIsRefused(t *testing.T) {
	in := "http://" + strings.Repeat("\xcc", MaxLen/2) + "/"
	c, err := Canonicalize(in)
	if err == nil {
		_, err2 := Canonicalize(c)
		t.Fatalf("canonical form of %d bytes from %d bytes accepted; canonicalising it again: %v", len(c), len(in), err2)
	}
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
}
