// Package secretfmt helps types that hold secrets format without them.
package secretfmt

import (
	"fmt"
	"io"
	"strconv"
)

// Format writes s, a description without secrets, for any verb: quoted
// for %q, as it is for every other one (%v, %+v, %#v, %s, %d, %x...).
// Widths and flags are ignored. A type that holds a secret calls it from
// its Format method, so that no verb falls back to printing its fields.
func Format(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}
