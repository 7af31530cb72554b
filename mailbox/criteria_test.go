package mailbox_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

func TestCriteriaValidate(t *testing.T) {
	day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		c       mailbox.Criteria
		wantErr error  // sentinel, nil for none
		errText string // substring of the error, "" for none
	}{
		{name: "empty", c: mailbox.Criteria{}, wantErr: mailbox.ErrEmptyCriteria},
		{name: "empty nested", c: mailbox.Criteria{And: []mailbox.Criteria{{}}, Or: []mailbox.Criteria{{}}}, wantErr: mailbox.ErrEmptyCriteria},
		{name: "message id", c: mailbox.Criteria{MessageIDs: []string{"<a@example.com>"}}},
		{name: "sender", c: mailbox.Criteria{Senders: []string{"a@example.com"}}},
		{name: "sender domain", c: mailbox.Criteria{SenderDomains: []string{"example.com"}}},
		{name: "subject", c: mailbox.Criteria{Subject: "invoice"}},
		{name: "url", c: mailbox.Criteria{URLs: []string{"https://evil.example/"}}},
		{name: "attachment hash", c: mailbox.Criteria{AttachmentSHA256: []string{strings.Repeat("ab", 32)}}},
		{name: "recipient", c: mailbox.Criteria{Recipients: []string{"b@example.org"}}},
		{name: "folder only", c: mailbox.Criteria{Folders: []string{"INBOX"}}, wantErr: mailbox.ErrMatchesEverything},
		{name: "role only", c: mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleJunk}}, wantErr: mailbox.ErrMatchesEverything},
		{name: "time range only", c: mailbox.Criteria{Since: day}, wantErr: mailbox.ErrMatchesEverything},
		{name: "content in And narrows", c: mailbox.Criteria{Folders: []string{"INBOX"}, And: []mailbox.Criteria{{Subject: "x"}}}},
		{name: "Or with one branch that does not narrow", c: mailbox.Criteria{Or: []mailbox.Criteria{{Subject: "x"}, {Since: day}}}, wantErr: mailbox.ErrMatchesEverything},
		{name: "Or where every branch narrows", c: mailbox.Criteria{Or: []mailbox.Criteria{{Subject: "x"}, {Senders: []string{"a@example.com"}}}}},
		{name: "wildcard sender", c: mailbox.Criteria{Senders: []string{"*"}}, errText: "blank or a wildcard"},
		{name: "blank message id", c: mailbox.Criteria{MessageIDs: []string{"<>"}}, errText: "blank or a wildcard"},
		{name: "top-level domain", c: mailbox.Criteria{SenderDomains: []string{"com"}}, wantErr: mailbox.ErrMatchesEverything, errText: "top-level domain"},
		{name: "bad hash", c: mailbox.Criteria{AttachmentSHA256: []string{"abc"}}, errText: "not a hex SHA-256"},
		{name: "blank subject", c: mailbox.Criteria{Subject: "   "}, wantErr: mailbox.ErrMatchesEverything},
		{name: "empty time range", c: mailbox.Criteria{Subject: "x", Since: day, Before: day}, errText: "is empty"},
		{name: "bad value nested", c: mailbox.Criteria{Subject: "x", And: []mailbox.Criteria{{Senders: []string{""}}}}, errText: "blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.wantErr == nil && tt.errText == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			if tt.errText != "" {
				assert.Contains(t, err.Error(), tt.errText)
			}
		})
	}
}

// TestCriteriaValidateSelection: criteria that select copies to act on
// need a content selector besides recipients, which match every message
// of their own mailbox; reading a mailbox whole by its owner stays valid.
func TestCriteriaValidateSelection(t *testing.T) {
	day := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	owner := mailbox.Criteria{Recipients: []string{"b@example.org"}}
	require.NoError(t, owner.Validate(), "enumerating a mailbox by its owner")
	tests := []struct {
		name    string
		c       mailbox.Criteria
		wantErr error
	}{
		{"recipient", owner, mailbox.ErrMatchesEverything},
		{"recipient and time", mailbox.Criteria{Recipients: []string{"b@example.org"}, Since: day}, mailbox.ErrMatchesEverything},
		{"recipient in And", mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleInbox}, And: []mailbox.Criteria{owner}}, mailbox.ErrMatchesEverything},
		{"recipient in an Or branch", mailbox.Criteria{Or: []mailbox.Criteria{owner, {Subject: "x"}}}, mailbox.ErrMatchesEverything},
		{"recipient with a sender", mailbox.Criteria{Recipients: []string{"b@example.org"}, Senders: []string{"a@example.com"}}, nil},
		{"recipient with a subject in And", mailbox.Criteria{Recipients: []string{"b@example.org"}, And: []mailbox.Criteria{{Subject: "x"}}}, nil},
		{"still validates", mailbox.Criteria{}, mailbox.ErrEmptyCriteria},
		{"message id", mailbox.Criteria{MessageIDs: []string{"a@x"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.ValidateSelection()
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestCriteriaMatch(t *testing.T) {
	m := mailbox.Message{
		Address:      mailbox.Address{Mailbox: "owner@example.org", Folder: "INBOX", UIDValidity: 1, UID: 7},
		Role:         mailbox.RoleInbox,
		MessageID:    "Abc.123@Mail.Example.COM",
		EnvelopeFrom: "bounce@mailer.example.net",
		From:         "CEO@Corp.Example.com",
		Recipients:   []string{"alice@example.org", "bob@example.org"},
		Subject:      "Urgent: Wire Transfer",
		Date:         time.Date(2025, 6, 3, 12, 0, 0, 0, time.UTC),
	}
	parsed := &mailbox.Parsed{
		URLs:        []string{"HTTPS://Evil.Example:443/login#x", "www.other.example/path"},
		Attachments: []mailbox.Attachment{{SHA256: strings.Repeat("ab", 32)}},
	}
	content := func() (*mailbox.Parsed, error) { return parsed, nil }
	june := func(d int) time.Time { return time.Date(2025, 6, d, 0, 0, 0, 0, time.UTC) }

	tests := []struct {
		name string
		c    mailbox.Criteria
		want bool
	}{
		{"message id with brackets, any case", mailbox.Criteria{MessageIDs: []string{"<abc.123@mail.example.com>"}}, true},
		{"other message id", mailbox.Criteria{MessageIDs: []string{"other@example.com"}}, false},
		{"sender matches header From", mailbox.Criteria{Senders: []string{"ceo@corp.example.com"}}, true},
		{"sender matches envelope", mailbox.Criteria{Senders: []string{"<Bounce@Mailer.Example.net>"}}, true},
		{"sender does not match", mailbox.Criteria{Senders: []string{"ceo@example.com"}}, false},
		{"sender domain parent", mailbox.Criteria{SenderDomains: []string{"example.com"}}, true},
		{"sender domain exact envelope", mailbox.Criteria{SenderDomains: []string{"@mailer.example.net"}}, true},
		{"sender domain suffix is not a subdomain", mailbox.Criteria{SenderDomains: []string{"rp.example.com"}}, false},
		{"recipient in list", mailbox.Criteria{Recipients: []string{"BOB@example.org"}}, true},
		{"recipient is the mailbox owner", mailbox.Criteria{Recipients: []string{"owner@example.org"}}, true},
		{"recipient absent", mailbox.Criteria{Recipients: []string{"carol@example.org"}}, false},
		{"subject substring any case", mailbox.Criteria{Subject: "wire transfer"}, true},
		{"subject absent", mailbox.Criteria{Subject: "invoice"}, false},
		{"since inclusive", mailbox.Criteria{Subject: "wire", Since: m.Date}, true},
		{"before exclusive", mailbox.Criteria{Subject: "wire", Before: m.Date}, false},
		{"inside range", mailbox.Criteria{Subject: "wire", Since: june(1), Before: june(4)}, true},
		{"URL after normalisation", mailbox.Criteria{URLs: []string{"https://evil.example/login"}}, true},
		{"www URL", mailbox.Criteria{URLs: []string{"http://www.other.example/path"}}, true},
		{"other URL", mailbox.Criteria{URLs: []string{"https://evil.example/other"}}, false},
		{"attachment hash any case", mailbox.Criteria{AttachmentSHA256: []string{strings.Repeat("AB", 32)}}, true},
		{"attachment hash absent", mailbox.Criteria{AttachmentSHA256: []string{strings.Repeat("cd", 32)}}, false},
		{"folder by name", mailbox.Criteria{Subject: "wire", Folders: []string{"inbox"}}, true},
		{"folder elsewhere", mailbox.Criteria{Subject: "wire", Folders: []string{"Archive"}}, false},
		{"role", mailbox.Criteria{Subject: "wire", Roles: []mailbox.Role{mailbox.RoleInbox}}, true},
		{"fields AND", mailbox.Criteria{Subject: "wire", Senders: []string{"nobody@example.com"}}, false},
		{"list OR", mailbox.Criteria{Senders: []string{"nobody@example.com", "ceo@corp.example.com"}}, true},
		{"And all", mailbox.Criteria{And: []mailbox.Criteria{{Subject: "wire"}, {Recipients: []string{"alice@example.org"}}}}, true},
		{"And one fails", mailbox.Criteria{And: []mailbox.Criteria{{Subject: "wire"}, {Recipients: []string{"zed@example.org"}}}}, false},
		{"Or one", mailbox.Criteria{Or: []mailbox.Criteria{{Subject: "nothing"}, {Subject: "urgent"}}}, true},
		{"Or none", mailbox.Criteria{Or: []mailbox.Criteria{{Subject: "nothing"}, {Subject: "else"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Match(&m, content)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCriteriaMatchContent(t *testing.T) {
	m := &mailbox.Message{Subject: "hello"}
	calls := 0
	content := func() (*mailbox.Parsed, error) {
		calls++
		return &mailbox.Parsed{URLs: []string{"http://a.example/"}}, nil
	}
	c := mailbox.Criteria{Or: []mailbox.Criteria{{URLs: []string{"http://b.example/"}}, {URLs: []string{"http://a.example/"}}}}
	ok, err := c.Match(m, content)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 1, calls, "content is loaded at most once")

	calls = 0
	ok, err = (&mailbox.Criteria{Subject: "hello"}).Match(m, content)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Zero(t, calls, "content is not loaded when no URL or hash criterion needs it")

	boom := errors.New("fetch failed")
	_, err = (&mailbox.Criteria{URLs: []string{"http://a.example/"}}).Match(m, func() (*mailbox.Parsed, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)

	_, err = (&mailbox.Criteria{URLs: []string{"http://a.example/"}}).Match(m, nil)
	assert.Error(t, err, "a nil content function cannot evaluate a URL criterion")

	assert.True(t, (&mailbox.Criteria{Or: []mailbox.Criteria{{Subject: "x"}, {AttachmentSHA256: []string{"h"}}}}).NeedsContent())
	assert.False(t, (&mailbox.Criteria{Subject: "x"}).NeedsContent())
}

func TestCriteriaMatchFolder(t *testing.T) {
	tests := []struct {
		name   string
		c      mailbox.Criteria
		folder string
		role   mailbox.Role
		want   bool
	}{
		{"no restriction", mailbox.Criteria{Subject: "x"}, "Archive", mailbox.RoleNone, true},
		{"folder listed", mailbox.Criteria{Folders: []string{"Archive"}}, "Archive", mailbox.RoleNone, true},
		{"folder names are case-sensitive", mailbox.Criteria{Folders: []string{"archive"}}, "Archive", mailbox.RoleNone, false},
		{"INBOX in any case", mailbox.Criteria{Folders: []string{"Inbox"}}, "INBOX", mailbox.RoleInbox, true},
		{"role listed", mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleJunk}}, "Spam", mailbox.RoleJunk, true},
		{"role none never listed", mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleNone}}, "Archive", mailbox.RoleNone, false},
		{"folder or role", mailbox.Criteria{Folders: []string{"Archive"}, Roles: []mailbox.Role{mailbox.RoleJunk}}, "Spam", mailbox.RoleJunk, true},
		{"And restricts", mailbox.Criteria{And: []mailbox.Criteria{{Folders: []string{"Archive"}}}}, "INBOX", mailbox.RoleInbox, false},
		{"Or admits", mailbox.Criteria{Or: []mailbox.Criteria{{Folders: []string{"Archive"}}, {Roles: []mailbox.Role{mailbox.RoleInbox}}}}, "INBOX", mailbox.RoleInbox, true},
		{"Or without folders admits all", mailbox.Criteria{Or: []mailbox.Criteria{{Subject: "a"}, {Subject: "b"}}}, "Archive", mailbox.RoleNone, true},
		{"Or rejects", mailbox.Criteria{Or: []mailbox.Criteria{{Folders: []string{"Archive"}}, {Roles: []mailbox.Role{mailbox.RoleSent}}}}, "INBOX", mailbox.RoleInbox, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.c.MatchFolder(tt.folder, tt.role))
		})
	}
}

func TestAddressHelpers(t *testing.T) {
	assert.Equal(t, "abc@example.com", mailbox.NormalizeMessageID(" <ABC@Example.com> "))
	assert.Equal(t, "example.com", mailbox.AddressDomain("<A@Example.COM.>"))
	assert.Equal(t, "", mailbox.AddressDomain("no-at-sign"))
}

// Wildcard spellings of a top-level domain, and the hash of an empty
// file, would match mail of every sender: they are refused.
func TestValidateRefusesDisguisedMatchEverything(t *testing.T) {
	for _, d := range []string{"*.com", "@.com", "com.*", " .com", "*.", ".", "com", ".com", "ev*il.example"} {
		c := mailbox.Criteria{SenderDomains: []string{d}}
		assert.Error(t, c.Validate(), "sender domain %q", d)
	}
	for _, d := range []string{"evil.example", "@evil.example", "*.evil.example", ".evil.example"} {
		c := mailbox.Criteria{SenderDomains: []string{d}}
		assert.NoError(t, c.Validate(), "sender domain %q", d)
	}
	c := mailbox.Criteria{AttachmentSHA256: []string{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}
	assert.ErrorIs(t, c.Validate(), mailbox.ErrMatchesEverything)
}
