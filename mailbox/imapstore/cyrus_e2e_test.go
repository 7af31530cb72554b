package imapstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// cyrusIDs returns the Message-IDs in a folder of owner's mailbox, read by
// the admin in a session of its own, independently of the store.
func (c *cyrusEnv) ids(t *testing.T, owner, folder string) []string {
	t.Helper()
	a := c.srv.Dial(t, c.srv.AdminUser, c.srv.AdminPassword)
	defer a.Close()
	sel, err := a.Select(c.srv.AdminFolder(owner, folder), &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	if sel.NumMessages == 0 {
		return nil
	}
	msgs, err := a.Fetch(seqAll(), &imap.FetchOptions{Envelope: true}).Collect()
	require.NoError(t, err)
	var out []string
	for _, m := range msgs {
		out = append(out, strings.Trim(m.Envelope.MessageID, "<>"))
	}
	return out
}

// TestEndToEndCyrus runs the hard delete of a campaign with a meeting
// invite on Cyrus alone: the mail in Cyrus IMAP (the admin in the other
// users' namespace), the calendars in the same server's CalDAV (each
// user's own credential). The invite's entries are created from the
// delivered mail, as a calendar client does; each user also has an entry
// of their own with the same organizer. The hard delete purges every
// copy, removes the entries the invite created and keeps the users' own.
func TestEndToEndCyrus(t *testing.T) {
	c := startCyrus(t)
	owners := c.newUsers(t, 10)
	store := c.store(t, owners, nil)
	ctx := context.Background()
	creds := map[string]caldavstore.Credential{}
	for _, o := range owners {
		creds[o] = caldavstore.Credential{Username: o, Password: c.srv.Users[o]}
	}
	cal, err := caldavstore.New(c.srv.URL, caldavstore.PerUser(creds),
		&caldavstore.Options{AllowInsecure: true, ProvenanceKey: caldavstore.SecretKey("e2e-cyrus-provenance-key-0123456789")})
	require.NoError(t, err)

	start := time.Date(2024, 3, 12, 9, 0, 0, 0, time.UTC)
	for _, o := range owners {
		for _, raw := range [][]byte{phishRaw(o), inviteRaw(o), rawMessage(benignID, "lead@corp.example", o, "Standup notes")} {
			_, err := store.Append(ctx, o, mailbox.In(mailbox.RoleInbox), raw, nil)
			require.NoError(t, err)
		}
		p, err := mailbox.Parse(inviteRaw(o))
		require.NoError(t, err)
		require.Len(t, p.Calendars, 1)
		inv, err := calendar.ParseInvite(p.Calendars[0].Raw, p.Calendars[0].Method)
		require.NoError(t, err)
		_, err = calendar.ApplyInvite(ctx, cal, o, inv, inviteID)
		require.NoError(t, err)
		def, err := calendar.DefaultCalendar(ctx, cal, o)
		require.NoError(t, err)
		_, err = cal.Put(ctx, o, calendar.Entry{Calendar: def, UID: "own-" + o,
			Organizer:  "accounts@evil-campaign.example",
			Master:     &calendar.Occurrence{Summary: "My own note about the payroll scam", Start: start, End: start.Add(time.Hour)},
			Provenance: calendar.Provenance{Kind: calendar.ProvenanceUser}})
		require.NoError(t, err)
	}

	j, err := journal.OpenFile(filepath.Join(t.TempDir(), "journal"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	e, err := remediation.New(store, cal, j, &remediation.Options{Workers: 4})
	require.NoError(t, err)

	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil-campaign.example"}}}})
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, rec.Status)
	assert.EqualValues(t, 20, rec.Counts.Succeeded, "10 phishing copies and 10 invites")
	removed := 0
	for _, d := range rec.Calendar {
		if d.Verdict == remediation.VerdictRemoved {
			removed++
		}
	}
	assert.Equal(t, len(owners), removed, fmt.Sprintf("calendar decisions: %+v", rec.Calendar))

	for _, o := range owners {
		for _, f := range []string{"INBOX", "Junk", "Trash", "Quarantine", "Recoverable Items", "Evidence"} {
			for _, id := range c.ids(t, o, f) {
				assert.NotContains(t, []string{phishID, inviteID}, id, "a copy is left in %s of %s", f, o)
			}
		}
		assert.Contains(t, c.ids(t, o, "INBOX"), benignID, "other mail untouched")
		entries, err := cal.Find(ctx, o, calendar.Query{UID: inviteUID})
		require.NoError(t, err)
		assert.Empty(t, entries, "the invite's entry is removed for %s", o)
		own, err := cal.Find(ctx, o, calendar.Query{UID: "own-" + o})
		require.NoError(t, err)
		assert.Len(t, own, 1, "the user's own entry stays for %s", o)
	}
}
