package imapstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

const (
	phishID   = "invoice-7731@evil-campaign.example"
	inviteID  = "meeting-7731@evil-campaign.example"
	benignID  = "standup-notes@corp.example"
	heldID    = "newsletter-42@bulk.example"
	inviteUID = "evil-meeting-7731@evil-campaign.example"
)

func phishRaw(to string) []byte {
	return []byte("Return-Path: <bounce@evil-campaign.example>\r\nFrom: Accounts <accounts@evil-campaign.example>\r\n" +
		"To: " + to + "\r\nSubject: Invoice overdue\r\nDate: Mon, 04 Mar 2024 08:00:00 +0000\r\n" +
		"Message-ID: <" + phishID + ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Pay now at https://evil-campaign.example/pay?id=7731\r\n")
}

func inviteRaw(to string) []byte {
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//evil//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n" +
		"UID:" + inviteUID + "\r\nDTSTAMP:20240304T080000Z\r\nDTSTART:20240311T090000Z\r\nDTEND:20240311T100000Z\r\n" +
		"SUMMARY:Payroll update - action required\r\nORGANIZER:mailto:accounts@evil-campaign.example\r\n" +
		"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + to + "\r\nSEQUENCE:0\r\n" +
		"DESCRIPTION:Join at https://evil-campaign.example/meet\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	return []byte("From: Accounts <accounts@evil-campaign.example>\r\nTo: " + to + "\r\n" +
		"Subject: Invitation: Payroll update\r\nDate: Mon, 04 Mar 2024 08:05:00 +0000\r\n" +
		"Message-ID: <" + inviteID + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYou are invited.\r\n" +
		"--b1\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n" + ics +
		"--b1--\r\n")
}

// session is a separate IMAP session per owner (master login), used to
// check what the engine did, independently of the store.
type session struct {
	t *testing.T
	d *dovecotEnv
	c map[string]*imapclient.Client
}

// ids returns the Message-IDs in a folder of owner's mailbox.
func (s *session) ids(owner, folder string) []string {
	s.t.Helper()
	c := s.c[owner]
	if c == nil {
		c = s.d.masterClient(s.t, owner)
		s.c[owner] = c
	}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(s.t, err)
	if sel.NumMessages == 0 {
		return nil
	}
	msgs, err := c.Fetch(seqAll(), &imap.FetchOptions{Envelope: true}).Collect()
	require.NoError(s.t, err)
	var out []string
	for _, m := range msgs {
		out = append(out, strings.Trim(m.Envelope.MessageID, "<>"))
	}
	return out
}

// everywhere returns, per folder, the owners holding a copy of id.
func (s *session) everywhere(owners []string, id string) map[string][]string {
	s.t.Helper()
	out := map[string][]string{}
	for _, o := range owners {
		for _, f := range []string{"INBOX", "Junk", "Trash", "Sent", "Drafts", "Quarantine", "Recoverable Items", "Evidence"} {
			for _, got := range s.ids(o, f) {
				if got == id {
					out[f] = append(out[f], o)
				}
			}
		}
	}
	return out
}

// TestEndToEndDovecot delivers a campaign (a phishing message and a
// meeting invite) to 20 users of a real Dovecot and remediates it through
// the engine with the IMAP store and the file journal: hunt, soft delete
// and undo, release from quarantine, hard delete (which also removes the
// calendar entries the invite created). A separate IMAP session checks
// every step.
func TestEndToEndDovecot(t *testing.T) {
	d := startDovecot(t, nil)
	owners := d.newUsers(t, 20)
	store := d.store(t, owners, nil)
	cal := mock.New(nil)
	ctx := context.Background()

	for _, o := range owners {
		require.NoError(t, cal.AddUser(o))
		for _, raw := range [][]byte{phishRaw(o), inviteRaw(o), rawMessage(benignID, "lead@corp.example", o, "Standup notes")} {
			_, err := store.Append(ctx, o, mailbox.In(mailbox.RoleInbox), raw, nil)
			require.NoError(t, err)
		}
		// The mail client processes the invite on delivery.
		p, _ := mailbox.Parse(inviteRaw(o))
		require.Len(t, p.Calendars, 1)
		inv, err := calendar.ParseInvite(p.Calendars[0].Raw, p.Calendars[0].Method)
		require.NoError(t, err)
		_, err = calendar.ApplyInvite(ctx, cal, o, inv, inviteID)
		require.NoError(t, err)
	}
	// The mail gateway quarantined a newsletter for the first 8 users.
	for _, o := range owners[:8] {
		_, err := store.Append(ctx, o, mailbox.In(mailbox.RoleQuarantine), rawMessage(heldID, "news@bulk.example", o, "Weekly news"), nil)
		require.NoError(t, err)
	}

	j, err := journal.OpenFile(filepath.Join(t.TempDir(), "journal"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	e, err := remediation.New(store, cal, j, &remediation.Options{Workers: 8})
	require.NoError(t, err)
	s := &session{t: t, d: d, c: map[string]*imapclient.Client{}}
	campaign := &mailbox.Criteria{SenderDomains: []string{"evil-campaign.example"}}

	t.Run("hunt", func(t *testing.T) {
		preview, err := e.DryRun(ctx, remediation.Selection{Criteria: campaign})
		require.NoError(t, err)
		assert.EqualValues(t, 40, preview.Total, "20 phishing copies and 20 invites")
		assert.Equal(t, 20, len(s.everywhere(owners, phishID)["INBOX"]))
	})

	t.Run("soft delete and undo", func(t *testing.T) {
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst@corp.example",
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{phishID}}}})
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, rec.Status)
		assert.EqualValues(t, 20, rec.Counts.Succeeded)
		where := s.everywhere(owners, phishID)
		assert.Empty(t, where["INBOX"])
		assert.ElementsMatch(t, owners, where["Recoverable Items"])

		undo, err := e.Undo(ctx, rec.ID, "analyst@corp.example")
		require.NoError(t, err)
		assert.EqualValues(t, 20, undo.Counts.Succeeded)
		where = s.everywhere(owners, phishID)
		assert.ElementsMatch(t, owners, where["INBOX"])
		assert.Empty(t, where["Recoverable Items"])
	})

	t.Run("release from quarantine", func(t *testing.T) {
		held, err := e.Held(ctx, &mailbox.Criteria{MessageIDs: []string{heldID}})
		require.NoError(t, err)
		require.Len(t, held, 1)
		assert.ElementsMatch(t, owners[:8], held[0].Recipients)

		// Never to someone who was not a recipient.
		_, err = e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "admin@corp.example",
			Selection:  remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{heldID}}},
			Recipients: []string{owners[19]}})
		require.ErrorIs(t, err, remediation.ErrNotRecipient)

		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "admin@corp.example",
			Selection:  remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{heldID}}},
			Recipients: owners[:3]})
		require.NoError(t, err)
		assert.EqualValues(t, 3, rec.Counts.Succeeded)
		where := s.everywhere(owners, heldID)
		assert.ElementsMatch(t, owners[:3], where["INBOX"])
		assert.ElementsMatch(t, owners[3:8], where["Quarantine"])
	})

	t.Run("hard delete", func(t *testing.T) {
		for _, o := range owners {
			entries, err := cal.Find(ctx, o, calendar.Query{UID: inviteUID})
			require.NoError(t, err)
			require.Len(t, entries, 1, "the invite created an entry for %s", o)
		}
		start := time.Now()
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst@corp.example",
			Selection: remediation.Selection{Criteria: campaign}})
		require.NoError(t, err)
		t.Logf("hard delete of %d copies in %d mailboxes: %s", rec.Counts.Succeeded, len(owners), time.Since(start))
		assert.Equal(t, remediation.StatusCompleted, rec.Status)
		assert.EqualValues(t, 40, rec.Counts.Succeeded)
		assert.Empty(t, s.everywhere(owners, phishID), "no copy left in any folder")
		assert.Empty(t, s.everywhere(owners, inviteID))
		assert.ElementsMatch(t, owners, s.everywhere(owners, benignID)["INBOX"], "other mail untouched")
		for _, o := range owners {
			entries, err := cal.Find(ctx, o, calendar.Query{UID: inviteUID})
			require.NoError(t, err)
			assert.Empty(t, entries, "the invite's entry is removed for %s", o)
		}
		removed := 0
		for _, dcs := range rec.Calendar {
			if dcs.Verdict == remediation.VerdictRemoved {
				removed++
			}
		}
		assert.Equal(t, 20, removed, fmt.Sprintf("calendar decisions: %+v", rec.Calendar))
	})
}
