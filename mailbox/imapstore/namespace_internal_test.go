package imapstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestOtherUsersNames checks the names of an admin login in Cyrus's form,
// with and without virtual domains, and what the mapping leaves out:
// other owners' folders and Cyrus's calendar and contact collections.
func TestOtherUsersNames(t *testing.T) {
	withDomain := &otherUsers{base: "user/alice", delim: "/", domain: "@example.com"}
	plain := &otherUsers{base: "user/bob", delim: "/"}
	for _, c := range []struct {
		o      *otherUsers
		folder string
		server string
	}{
		{withDomain, "INBOX", "user/alice@example.com"},
		{withDomain, "Sent", "user/alice/Sent@example.com"},
		{withDomain, "Archive/2024", "user/alice/Archive/2024@example.com"},
		{withDomain, "Recoverable Items", "user/alice/Recoverable Items@example.com"},
		{plain, "INBOX", "user/bob"},
		{plain, "Junk", "user/bob/Junk"},
	} {
		assert.Equal(t, c.server, c.o.server(c.folder))
		got, ok := c.o.folder(c.server)
		assert.True(t, ok, c.server)
		assert.Equal(t, c.folder, got)
	}
	for _, s := range []string{
		"user/alice/#calendars/Default@example.com",
		"user/alice/#calendars@example.com",
		"user/alicia/Sent@example.com",
		"user/alice/Sent@example.org",
		"user/alice/@example.com",
		"user/alice/Sent",
	} {
		_, ok := withDomain.folder(s)
		assert.False(t, ok, s)
	}
	for _, s := range []string{"user/bobby", "user/bobby/Sent", "user/bob/#addressbooks/Default"} {
		_, ok := plain.folder(s)
		assert.False(t, ok, s)
	}
	assert.Equal(t, "user/alice*@example.com", withDomain.pattern())
}
