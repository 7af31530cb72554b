package mailbox_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// A sender domain that is a public suffix, ICANN ("co.uk", "com.au") or
// private ("github.io"), matches every sender registered under it: it is
// refused like a top-level domain, in any spelling.
func TestValidateRefusesPublicSuffixSenderDomains(t *testing.T) {
	for _, d := range []string{"co.uk", "CO.UK", "*.com.au", "@com.au", ".co.uk.", "github.io", "*.github.io",
		"s3.amazonaws.com", "blogspot.com", "foo.ck"} {
		c := mailbox.Criteria{SenderDomains: []string{d}}
		assert.ErrorIs(t, c.Validate(), mailbox.ErrMatchesEverything, "sender domain %q", d)
		assert.ErrorIs(t, c.ValidateSelection(), mailbox.ErrMatchesEverything, "sender domain %q", d)
		nested := mailbox.Criteria{Or: []mailbox.Criteria{{Subject: "x"}, {SenderDomains: []string{d}}}}
		assert.ErrorIs(t, nested.Validate(), mailbox.ErrMatchesEverything, "nested sender domain %q", d)
	}
	for _, d := range []string{"example.co.uk", "*.evil.com.au", "attacker.github.io", "evil.example", "bbc.co.uk"} {
		c := mailbox.Criteria{SenderDomains: []string{d}}
		assert.NoError(t, c.ValidateSelection(), "sender domain %q", d)
	}
}
