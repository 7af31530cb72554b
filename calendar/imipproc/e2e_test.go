package imipproc_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/radicale"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// TestEndToEndDovecotRadicale: a malicious invite reaches 20 users on a
// real Dovecot; the invite processor creates their entries on a real
// Radicale; 3 users also import the invite's .ics themselves. A hard
// delete through the remediation engine purges the 20 copies, removes the
// 17 invite-created entries and keeps the 3 imported ones, and the action
// center says why. A separate CalDAV client checks the server.
func TestEndToEndDovecotRadicale(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	log := testlog.Logger(t, slog.LevelWarn)

	var users []string
	imapUsers := map[string]string{}
	for i := 1; i <= 20; i++ {
		u := fmt.Sprintf("e2e%02d@example.test", i)
		users = append(users, u)
		imapUsers[u] = "pw-" + u
	}
	importers := users[:3]
	dove := dovecot.Start(t, &dovecot.Options{Users: imapUsers})
	rad := radicale.Start(t, nil)

	mail, err := imapstore.New(imapstore.Config{
		Addr:      dove.Addr,
		Security:  imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: dove.MasterUser, Password: imapstore.Password(dove.MasterPassword)},
		Mailboxes: users,
		Logger:    log,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mail.Close() })
	cal, err := caldavstore.New(rad.URL, caldavstore.Admin(radicale.AdminUser, rad.AdminPassword),
		&caldavstore.Options{AllowInsecure: true, Home: caldavstore.HomeUnder("/"), Logger: log, ProvenanceKey: []byte("imipproc e2e test key")})
	require.NoError(t, err)

	const (
		msgID = "payroll-campaign-7@evil.example"
		uid   = "payroll-7@evil.example"
	)
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, u := range users {
		_, err := cal.EnsureCalendar(ctx, u, "calendar", "Calendar")
		require.NoError(t, err)
		// Each user also has an event of their own, which nothing may touch.
		_, err = cal.Put(ctx, u, calendar.Entry{Calendar: "calendar", UID: "standup-" + u,
			Master:     &calendar.Occurrence{Summary: "Standup", Start: start, End: start.Add(15 * time.Minute)},
			Provenance: calendar.Provenance{Kind: calendar.ProvenanceUser}})
		require.NoError(t, err)
	}

	// Delivery: the invite reaches every user's INBOX, and a benign
	// message too; the delivery hook hands each invite copy to the processor.
	raw := inviteMail(msgID, organizer, users, inviteICS("REQUEST", uid, organizer, 0, users), "REQUEST")
	proc := imipproc.New(mail, cal, &imipproc.Options{Logger: log})
	copies := map[string]mailbox.Address{}
	for _, u := range users {
		_, err := mail.Append(ctx, u, mailbox.In(mailbox.RoleInbox), plainMail("lunch-"+u+"@example.test", "friend@example.org", u), nil)
		require.NoError(t, err)
		addr, err := mail.Append(ctx, u, mailbox.In(mailbox.RoleInbox), raw, nil)
		require.NoError(t, err)
		copies[u] = addr
		out, err := proc.Deliver(ctx, addr)
		require.NoError(t, err)
		require.Len(t, out, 1)
		require.Equal(t, calendar.ActionCreated, out[0].Action, u)
	}

	// 3 users add the attached invite.ics to their calendar themselves.
	for _, u := range importers {
		got, err := mail.Fetch(ctx, copies[u])
		require.NoError(t, err)
		p, err := mailbox.Parse(got)
		require.NoError(t, err)
		i := slices.IndexFunc(p.Calendars, func(c mailbox.CalendarPart) bool { return c.Attachment })
		require.GreaterOrEqual(t, i, 0, "the message has an .ics attachment")
		imported, err := calendar.Import(ctx, cal, u, p.Calendars[i].Raw, p.MessageID, p.Calendars[i].Filename)
		require.NoError(t, err)
		require.Len(t, imported, 1)
		assert.Equal(t, calendar.ProvenanceImported, imported[0].Provenance.Kind)
	}

	// Hard delete of the campaign through the engine.
	eng, err := remediation.New(mail, cal, journal.NewMemory(), &remediation.Options{Logger: log})
	require.NoError(t, err)
	rec, err := eng.Execute(ctx, remediation.Request{
		Action: remediation.HardDelete, Name: "Payroll invite campaign", Actor: "soc@example.test",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{msgID}}},
	})
	require.NoError(t, err)
	require.NotNil(t, rec)
	assert.Equal(t, int64(20), rec.Counts.Succeeded)
	assert.Equal(t, int64(0), rec.Counts.Failed)

	// The action center reports both kinds of decision, with reasons.
	removed, kept := map[string]remediation.CalendarDecision{}, map[string]remediation.CalendarDecision{}
	for _, d := range rec.Calendar {
		switch d.Verdict {
		case remediation.VerdictRemoved:
			removed[d.Owner] = d
		case remediation.VerdictKept:
			kept[d.Owner] = d
		default:
			t.Errorf("unexpected calendar decision %+v", d)
		}
	}
	assert.Len(t, removed, 17)
	assert.Len(t, kept, 3)
	for _, u := range users {
		if slices.Contains(importers, u) {
			d, ok := kept[u]
			if assert.True(t, ok, u) {
				assert.Equal(t, string(calendar.ReasonImported), d.Reason)
				assert.NotEmpty(t, d.Detail)
				assert.Equal(t, uid, d.UID)
			}
			continue
		}
		d, ok := removed[u]
		if assert.True(t, ok, u) {
			assert.Contains(t, []string{string(calendar.ReasonInviteMessage), string(calendar.ReasonInviteSeries)}, d.Reason)
			assert.NotEmpty(t, d.Detail)
			assert.Equal(t, uid, d.UID)
		}
	}

	// The mail is gone everywhere; the benign message stays.
	for _, u := range users {
		n := 0
		for _, err := range mail.Search(ctx, u, mailbox.Criteria{MessageIDs: []string{msgID}}) {
			require.NoError(t, err)
			n++
		}
		assert.Zero(t, n, u)
		n = 0
		for _, err := range mail.Search(ctx, u, mailbox.Criteria{MessageIDs: []string{"lunch-" + u + "@example.test"}}) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 1, n, u)
	}

	// A separate CalDAV client (go-webdav's, with its own HTTP client)
	// reads every calendar on Radicale.
	hc := webdav.HTTPClientWithBasicAuth(&http.Client{Timeout: time.Minute}, radicale.AdminUser, rad.AdminPassword)
	client, err := caldav.NewClient(hc, rad.URL)
	require.NoError(t, err)
	for _, u := range users {
		objs, err := client.QueryCalendar(ctx, "/"+u+"/calendar/", &caldav.CalendarQuery{
			CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
			CompFilter:  caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{{Name: "VEVENT"}}},
		})
		require.NoError(t, err)
		uids := map[string]*ical.Calendar{}
		for _, o := range objs {
			for _, ev := range o.Data.Events() {
				id, _ := ev.Props.Text(ical.PropUID)
				uids[id] = o.Data
			}
		}
		assert.Contains(t, uids, "standup-"+u, "the user's own event stays")
		if !slices.Contains(importers, u) {
			assert.NotContains(t, uids, uid, "%s: the invite-created entry is removed", u)
			assert.Len(t, uids, 1, u)
			continue
		}
		require.Contains(t, uids, uid, "%s: the imported entry stays", u)
		var buf bytes.Buffer
		require.NoError(t, ical.NewEncoder(&buf).Encode(uids[uid]))
		assert.Contains(t, buf.String(), "X-ERADICATE-PROVENANCE:v=1&kind=imported&message-id="+strings.ReplaceAll(msgID, "@", "%40"))
		assert.Len(t, uids, 2, u)
	}
}
