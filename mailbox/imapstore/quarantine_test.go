package imapstore_test

import (
	"context"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// listAttrs returns each folder's attributes as a fresh session lists
// them, with the subscription state.
func listAttrs(t *testing.T, c *imapclient.Client) map[string][]imap.MailboxAttr {
	t.Helper()
	l, err := c.List("", "*", &imap.ListOptions{ReturnSubscribed: true}).Collect()
	require.NoError(t, err)
	out := map[string][]imap.MailboxAttr{}
	for _, d := range l {
		out[d.Mailbox] = d.Attrs
	}
	return out
}

func fetchAll(t *testing.T, c *imapclient.Client, folder string) [][]byte {
	t.Helper()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	if sel.NumMessages == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(seqAll(), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	require.NoError(t, err)
	var out [][]byte
	for _, m := range msgs {
		out = append(out, m.FindBodySection(section))
	}
	return out
}

// TestQuarantineReleaseDovecot quarantines a message into the owner's
// admin-only Quarantine folder on Dovecot and releases it to INBOX, and
// checks every step with a separate IMAP session: the folder is not
// subscribed, the message leaves INBOX, and comes back byte for byte.
func TestQuarantineReleaseDovecot(t *testing.T) {
	d := startDovecot(t, nil)
	owner := d.newUsers(t, 1)[0]
	s := d.store(t, []string{owner}, nil)
	ctx := context.Background()
	raw := rawMessage("held-1@phish.example", "it@phish.example", owner, "Your password expires")
	a, err := s.Append(ctx, owner, mailbox.In(mailbox.RoleInbox), raw, nil)
	require.NoError(t, err)

	moved, err := s.Move(ctx, []mailbox.Address{a}, mailbox.In(mailbox.RoleQuarantine))
	require.NoError(t, err)
	require.NoError(t, moved[0].Err)
	assert.Equal(t, imapstore.DefaultQuarantineFolder, moved[0].To.Folder)

	c := d.masterClient(t, owner)
	attrs := listAttrs(t, c)
	require.Contains(t, attrs, "Quarantine")
	assert.NotContains(t, attrs["Quarantine"], imap.MailboxAttrSubscribed, "the quarantine is not subscribed")
	assert.Contains(t, attrs["Junk"], imap.MailboxAttrSubscribed, "ordinary special-use folders are")
	assert.Empty(t, fetchAll(t, c, "INBOX"))
	assert.Equal(t, [][]byte{raw}, fetchAll(t, c, "Quarantine"))

	got := collect(t, s, owner, mailbox.Criteria{MessageIDs: []string{"held-1@phish.example"}})
	require.Len(t, got, 1)
	assert.Equal(t, mailbox.RoleQuarantine, got[0].Role)

	released, err := s.Move(ctx, []mailbox.Address{moved[0].To}, mailbox.In(mailbox.RoleInbox))
	require.NoError(t, err)
	require.NoError(t, released[0].Err)
	assert.Equal(t, "INBOX", released[0].To.Folder)
	assert.Empty(t, fetchAll(t, c, "Quarantine"))
	assert.Equal(t, [][]byte{raw}, fetchAll(t, c, "INBOX"), "released byte for byte")
}

// TestCreateAdminFolders checks that a mailbox without a quarantine folder
// refuses a move there by default, and that CreateAdminFolders creates
// it, unsubscribed.
func TestCreateAdminFolders(t *testing.T) {
	owner := "alice@example.com"
	srv := startMem(t, fullCaps())
	u := imapmemserver.NewUser(owner, "pw")
	for _, f := range []string{"INBOX", "Junk", "Trash"} {
		require.NoError(t, u.Create(f, nil))
	}
	srv.mu.Lock()
	srv.users[owner] = u
	srv.Passwords[owner] = "pw"
	srv.mu.Unlock()
	ctx := context.Background()

	plain := srv.store(t, []string{owner}, nil)
	a, err := plain.Append(ctx, owner, mailbox.In(mailbox.RoleInbox), rawMessage("q@x.example", "a@x.example", owner, "q"), nil)
	require.NoError(t, err)
	_, err = plain.Move(ctx, []mailbox.Address{a}, mailbox.In(mailbox.RoleQuarantine))
	require.ErrorIs(t, err, mailbox.ErrNoFolder)

	creating := srv.store(t, []string{owner}, func(c *imapstore.Config) { c.CreateAdminFolders = true; c.QuarantineFolder = "Held" })
	moved, err := creating.Move(ctx, []mailbox.Address{a}, mailbox.In(mailbox.RoleQuarantine))
	require.NoError(t, err)
	require.NoError(t, moved[0].Err)
	assert.Equal(t, "Held", moved[0].To.Folder)
	attrs := listAttrs(t, client(t, srv.Addr, owner, "pw"))
	require.Contains(t, attrs, "Held")
	assert.NotContains(t, attrs["Held"], imap.MailboxAttrSubscribed)
	got := collect(t, creating, owner, mailbox.Criteria{MessageIDs: []string{"q@x.example"}})
	require.Len(t, got, 1)
	assert.Equal(t, mailbox.RoleQuarantine, got[0].Role)
}
