package calendar_test

import (
	"testing"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// calendar and mailbox follow one Message-ID rule: two ids are the same
// message for calendar.EqualMessageID exactly when their
// mailbox.NormalizeMessageID forms are equal and not empty. Unicode case
// folding ("ſ" folds to "s", but does not lower-case to it) used to make
// the calendar see one message where mailbox saw two.
func TestMessageIDRuleAgreesAcrossPackages(t *testing.T) {
	ids := []string{"<ABC@x>", "abc@X", " <abc@x> ", "xabc@x", "", "<>", "ſ@x", "s@x", "S@x",
		"\u212a@x", "k@x", "K@X", "ǅ@x", "ǆ@x", "Ǆ@x", "<a b@x>", "a b@x"}
	for _, a := range ids {
		for _, b := range ids {
			na, nb := mailbox.NormalizeMessageID(a), mailbox.NormalizeMessageID(b)
			want := na != "" && na == nb
			if got := calendar.NormalizeMessageID(a); got != na {
				t.Errorf("calendar.NormalizeMessageID(%q) = %q; mailbox's is %q", a, got, na)
			}
			if got := calendar.EqualMessageID(a, b); got != want {
				t.Errorf("EqualMessageID(%q, %q) = %v; mailbox normalizes them to %q and %q", a, b, got, na, nb)
			}
		}
	}
}
