package tap_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/postfix"
	"github.com/eradicate-dev/eradicate/internal/testenv/radicale"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
	"github.com/eradicate-dev/eradicate/tap"
)

// The sample configurations the README points operators to; the
// end-to-end test runs Postfix and Dovecot with them.
const (
	samplePostfix = "../docs/tap/postfix-main.cf"
	sampleDovecot = "../docs/tap/dovecot-lmtp.conf"
)

// sampleConfig reads a sample and makes the replacements (old, new, ...),
// each of which must apply.
func sampleConfig(t testing.TB, path string, oldNew ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(b)
	for i := 0; i < len(oldNew); i += 2 {
		require.Contains(t, s, oldNew[i], "%s no longer has %q", path, oldNew[i])
		s = strings.ReplaceAll(s, oldNew[i], oldNew[i+1])
	}
	return s
}

// e2eEnv is Postfix relaying through the tap into Dovecot's LMTP, with
// Radicale for the invites.
type e2eEnv struct {
	users []string
	dove  *dovecot.Server
	pf    *postfix.Server
	mail  *imapstore.Store
	cal   *caldavstore.Store
	tap   *tap.Server
	eng   *remediation.Engine
}

const e2eDomain = "corp.test"

// startE2E starts the servers and the tap with opts, after configure
// (which may be nil) had its say.
func startE2E(t *testing.T, n int, opts tap.Options, configure func(env *e2eEnv, opts *tap.Options)) *e2eEnv {
	t.Helper()
	log := testlog.Logger(t, slog.LevelWarn)
	env := &e2eEnv{}
	pw := map[string]string{}
	for i := 1; i <= n; i++ {
		u := fmt.Sprintf("u%02d@%s", i, e2eDomain)
		env.users = append(env.users, u)
		pw[u] = "pw-" + u
	}
	env.dove = dovecot.Start(t, &dovecot.Options{Users: pw, LMTP: true, LMTPConfig: func(port int) string {
		return sampleConfig(t, sampleDovecot, "port = 24", fmt.Sprintf("port = %d", port))
	}})
	rad := radicale.Start(t, nil)
	var err error
	env.mail, err = imapstore.New(imapstore.Config{
		Addr:      env.dove.Addr,
		Security:  imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: env.dove.MasterUser, Password: imapstore.Password(env.dove.MasterPassword)},
		Mailboxes: env.users,
		Logger:    log,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = env.mail.Close() })
	env.cal, err = caldavstore.New(rad.URL, caldavstore.Admin(radicale.AdminUser, rad.AdminPassword),
		&caldavstore.Options{AllowInsecure: true, Home: caldavstore.HomeUnder("/"), Logger: log, ProvenanceKey: []byte("tap e2e test key")})
	require.NoError(t, err)
	ctx := t.Context()
	for _, u := range env.users {
		_, err := env.cal.EnsureCalendar(ctx, u, "calendar", "Calendar")
		require.NoError(t, err)
	}

	down := tap.NewLMTP("tcp", env.dove.LMTPAddr, nil)
	t.Cleanup(func() { _ = down.Close() })
	opts.Downstream = down
	opts.Invites = tap.IMIP(imipproc.New(env.mail, env.cal, &imipproc.Options{Logger: log}))
	opts.Logger = log
	env.eng, err = remediation.New(env.mail, env.cal, journal.NewMemory(), &remediation.Options{Logger: log})
	require.NoError(t, err)
	if configure != nil {
		configure(env, &opts)
	}
	var l net.Listener
	env.tap, l = serveTap(t, opts)
	env.pf = postfix.Start(t, &postfix.Options{MainCF: sampleConfig(t, samplePostfix,
		"virtual_mailbox_domains = example.com", "virtual_mailbox_domains = "+e2eDomain,
		"lmtp:inet:127.0.0.1:10024", "lmtp:inet:"+l.Addr().String())})
	return env
}

// sent is one message sent in the end-to-end test.
type sent struct {
	id      string
	rcpts   []string
	raw     []byte
	inviteU string // the invite's UID, "" for none
	bad     bool   // part of the campaign
}

func plainTo(id, from, subject string, rcpts []string) []byte {
	return []byte(strings.ReplaceAll(fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\nDate: Mon, 07 Dec 2026 08:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain\n\nHello from %s.\n",
		from, strings.Join(rcpts, ", "), subject, id, from), "\n", "\r\n"))
}

func inviteTo(id, uid, organizer, subject string, rcpts []string) []byte {
	var att strings.Builder
	for _, r := range rcpts {
		att.WriteString("ATTENDEE;RSVP=TRUE:mailto:" + r + "\n")
	}
	ics := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:" + uid +
		"\nDTSTAMP:20261207T080000Z\nDTSTART:20261210T100000Z\nDTEND:20261210T110000Z\nSUMMARY:" + subject +
		"\nORGANIZER:mailto:" + organizer + "\n" + att.String() + "SEQUENCE:0\nEND:VEVENT\nEND:VCALENDAR\n"
	s := "From: " + organizer + "\nTo: " + strings.Join(rcpts, ", ") + "\nSubject: " + subject + "\nMessage-ID: <" + id +
		">\nDate: Mon, 07 Dec 2026 08:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nPlease accept.\n--b1\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\n\n" +
		ics + "--b1--\n"
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// TestEndToEndPostfixTapDovecot: mail for 20 users goes from a real
// Postfix through the tap into a real Dovecot's LMTP, with the invite
// processor writing to a real Radicale. An invite campaign is quarantined
// at delivery by a detection rule; Dovecot is stopped in the middle of the
// run and started again. Every message arrives exactly once, the
// campaign's in quarantine with none of its invites on a calendar, the
// legitimate invite on its attendees' calendars, and the rest in the
// inbox, with the bytes relayed; the action center says which rule holds
// each campaign message, and a release delivers one with its invite.
func TestEndToEndPostfixTapDovecot(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	const evil = "payroll-evil.example"
	idx := cluster.New(nil)
	env := startE2E(t, 20, tap.Options{Indexers: []tap.Indexer{tap.ClusterIndexer(idx)}}, func(env *e2eEnv, opts *tap.Options) {
		set := rules.New(env.eng, nil)
		require.NoError(t, set.Add(rules.Rule{
			Name: "payroll-invite-campaign", Description: "meeting invites from the payroll look-alike domain",
			Criteria: mailbox.Criteria{SenderDomains: []string{evil}}, Action: remediation.Quarantine, Mode: rules.ModeExecute,
		}))
		adapter := tap.NewRules(env.eng, set, nil)
		opts.Decider, opts.Recorder = adapter, adapter
	})
	users := env.users

	var msgs []sent
	for i, u := range users {
		id := fmt.Sprintf("hello-%02d@partner.example", i+1)
		msgs = append(msgs, sent{id: id, rcpts: []string{u}, raw: plainTo(id, "pm@partner.example", "Project update", []string{u})})
	}
	legit := sent{id: "planning-1@corp.test", rcpts: users[:5], inviteU: "planning-2026@corp.test"}
	legit.raw = inviteTo(legit.id, legit.inviteU, "boss@"+e2eDomain, "Quarterly planning", legit.rcpts)
	msgs = append(msgs, legit)
	var campaign []sent
	for i := 0; i < 10; i++ {
		c := sent{id: fmt.Sprintf("payroll-%d@%s", i, evil), rcpts: users[2*i : 2*i+2], inviteU: fmt.Sprintf("payroll-uid-%d@%s", i, evil), bad: true}
		c.raw = inviteTo(c.id, c.inviteU, "hr@"+evil, "Payroll update: action required", c.rcpts)
		campaign = append(campaign, c)
	}
	// A second wave of ordinary mail.
	var wave2 []sent
	for i, u := range users {
		id := fmt.Sprintf("digest-%02d@news.example", i+1)
		wave2 = append(wave2, sent{id: id, rcpts: []string{u}, raw: plainTo(id, "digest@news.example", "Weekly digest", []string{u})})
	}

	submit := func(ms []sent) {
		for _, m := range ms {
			require.NoError(t, env.pf.Send("sender@ext.test", m.rcpts, m.raw), m.id)
		}
	}
	queueEmpty := func() bool {
		n, err := env.pf.QueueLen(ctx)
		return err == nil && n == 0
	}

	// First half with Dovecot up.
	submit(msgs)
	submit(campaign[:5])
	require.Eventually(t, queueEmpty, time.Minute, 100*time.Millisecond, "postfix log:\n%s", env.pf.Log())

	// Dovecot goes away: the tap answers each recipient with a temporary
	// failure and Postfix keeps the mail.
	env.dove.Stop()
	submit(campaign[5:])
	submit(wave2)
	require.Eventually(t, func() bool { return env.tap.Stats().TempFailed > 0 }, time.Minute, 100*time.Millisecond)
	n, err := env.pf.QueueLen(ctx)
	require.NoError(t, err)
	assert.Positive(t, n, "postfix holds the mail Dovecot could not take")

	// Dovecot comes back: Postfix retries and everything lands.
	require.NoError(t, env.dove.Restart())
	require.Eventually(t, queueEmpty, 2*time.Minute, 200*time.Millisecond, "postfix log:\n%s", env.pf.Log())
	assert.NotRegexp(t, regexp.MustCompile(`status=bounced`), env.pf.Log(), "nothing bounced")

	all := append(append(append([]sent{}, msgs...), campaign...), wave2...)
	checkLanded(t, ctx, env, all)

	// Calendars: the legitimate invite is on its attendees' calendars;
	// no campaign invite is on any.
	for _, u := range legit.rcpts {
		got, err := env.cal.Find(ctx, u, calendar.Query{UID: legit.inviteU})
		require.NoError(t, err)
		require.Len(t, got, 1, u)
		assert.Equal(t, calendar.ProvenanceInvite, got[0].Provenance.Kind)
	}
	for _, c := range campaign {
		for _, u := range users {
			got, err := env.cal.Find(ctx, u, calendar.Query{UID: c.inviteU})
			require.NoError(t, err)
			assert.Empty(t, got, "%s on the calendar of %s", c.inviteU, u)
		}
	}
	// The action center says why each campaign message is held.
	held, err := env.eng.Held(ctx, &mailbox.Criteria{SenderDomains: []string{evil}})
	require.NoError(t, err)
	require.Len(t, held, len(campaign))
	for _, h := range held {
		require.Len(t, h.Reasons, 1, h.MessageID)
		assert.Equal(t, "payroll-invite-campaign", h.Reasons[0].RuleName)
		assert.Equal(t, remediation.SourceDetectionRule, h.Reasons[0].Source)
		assert.Len(t, h.Recipients, 2)
	}
	// A release delivers one to its first recipient, invite and all.
	c0 := campaign[0]
	rel, err := env.eng.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc@" + e2eDomain, Recipients: c0.rcpts[:1],
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{c0.id}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), rel.Counts.Succeeded)
	got, err := env.cal.Find(ctx, c0.rcpts[0], calendar.Query{UID: c0.inviteU})
	require.NoError(t, err)
	assert.Len(t, got, 1, "the released invite is on the calendar")
	got, err = env.cal.Find(ctx, c0.rcpts[1], calendar.Query{UID: c0.inviteU})
	require.NoError(t, err)
	assert.Empty(t, got, "the other recipient's copy is still held")

	st := env.tap.Stats()
	assert.Equal(t, int64(20), st.Quarantined)
	assert.Equal(t, int64(45), st.Delivered)
	assert.Zero(t, st.Failures)
	assert.Zero(t, st.AfterFailures)
	assert.Eventually(t, func() bool { return idx.Len() == len(all) }, 10*time.Second, 10*time.Millisecond, "every message indexed once")
}

// checkLanded checks that every message is in each recipient's mailbox
// exactly once, in quarantine for the campaign and in the inbox for the
// rest, with the bytes Postfix relayed unchanged (the body as sent).
func checkLanded(t *testing.T, ctx context.Context, env *e2eEnv, all []sent) {
	t.Helper()
	want := map[string]map[string]sent{} // owner -> id -> message
	for _, m := range all {
		for _, r := range m.rcpts {
			if want[r] == nil {
				want[r] = map[string]sent{}
			}
			want[r][m.id] = m
		}
	}
	for _, u := range env.users {
		ids := make([]string, 0, len(want[u]))
		for id := range want[u] {
			ids = append(ids, id)
		}
		seen := map[string]int{}
		for m, err := range env.mail.Search(ctx, u, mailbox.Criteria{MessageIDs: ids}) {
			require.NoError(t, err)
			id := mailbox.NormalizeMessageID(m.MessageID)
			seen[id]++
			exp, ok := want[u][id]
			require.True(t, ok, "unexpected message %s for %s", id, u)
			if exp.bad {
				assert.Equal(t, mailbox.RoleQuarantine, m.Role, "%s for %s", id, u)
			} else {
				assert.Equal(t, mailbox.RoleInbox, m.Role, "%s for %s", id, u)
			}
			raw, err := env.mail.Fetch(ctx, m.Address)
			require.NoError(t, err)
			_, body, _ := strings.Cut(string(exp.raw), "\r\n\r\n")
			assert.True(t, strings.HasSuffix(strings.ReplaceAll(string(raw), "\r\n", "\n"), strings.ReplaceAll(body, "\r\n", "\n")), "%s for %s: body altered", id, u)
		}
		for id := range want[u] {
			assert.Equal(t, 1, seen[id], "copies of %s for %s", id, u)
		}
	}
}

// TestEndToEndQuarantineAfterDelivery: a verdict that changes after
// delivery (zero-hour auto purge). An invite delivered through Postfix
// and the tap reaches a real Dovecot and its entries a real Radicale; a
// Quarantine with RemoveInvites holds the copies and takes the entries
// off the calendars, the action center says why; its undo puts both
// back; a second quarantine and a release deliver it again, invite and
// all.
func TestEndToEndQuarantineAfterDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	env := startE2E(t, 3, tap.Options{}, nil)
	users := env.users
	const id, uid = "offsite-7@partner.example", "offsite-7@partner.example"
	require.NoError(t, env.pf.Send("pm@partner.example", users, inviteTo(id, uid, "pm@partner.example", "Offsite planning", users)))
	require.Eventually(t, func() bool {
		n, err := env.pf.QueueLen(ctx)
		return err == nil && n == 0
	}, time.Minute, 100*time.Millisecond, "postfix log:\n%s", env.pf.Log())
	entries := func() int {
		n := 0
		for _, u := range users {
			got, err := env.cal.Find(ctx, u, calendar.Query{UID: uid})
			require.NoError(t, err)
			n += len(got)
		}
		return n
	}
	roles := func() map[mailbox.Role]int {
		out := map[mailbox.Role]int{}
		for _, u := range users {
			for m, err := range env.mail.Search(ctx, u, mailbox.Criteria{MessageIDs: []string{id}}) {
				require.NoError(t, err)
				out[m.Role]++
			}
		}
		return out
	}
	require.Equal(t, 3, entries(), "delivered: the invite is on every calendar")
	require.Equal(t, map[mailbox.Role]int{mailbox.RoleInbox: 3}, roles())

	sel := remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{id}}}
	q, err := env.eng.Execute(ctx, remediation.Request{Action: remediation.Quarantine, Name: "Look-alike partner", RemoveInvites: true,
		Description: "the partner's domain was registered yesterday", Actor: "soc@" + e2eDomain, Selection: sel})
	require.NoError(t, err)
	require.Equal(t, remediation.StatusCompleted, q.Status, q.Error)
	assert.Equal(t, map[mailbox.Role]int{mailbox.RoleQuarantine: 3}, roles())
	assert.Zero(t, entries(), "held: the entries are off the calendars")
	held, err := env.eng.Held(ctx, sel.Criteria)
	require.NoError(t, err)
	require.Len(t, held, 1)
	require.Len(t, held[0].Reasons, 1)
	assert.Equal(t, "the partner's domain was registered yesterday", held[0].Reasons[0].Description)

	_, err = env.eng.Undo(ctx, q.ID, "soc@"+e2eDomain)
	require.NoError(t, err)
	assert.Equal(t, map[mailbox.Role]int{mailbox.RoleInbox: 3}, roles())
	assert.Equal(t, 3, entries(), "the undo puts the entries back")

	q2, err := env.eng.Execute(ctx, remediation.Request{Action: remediation.Quarantine, RemoveInvites: true, Actor: "soc@" + e2eDomain, Selection: sel})
	require.NoError(t, err)
	require.Equal(t, remediation.StatusCompleted, q2.Status, q2.Error)
	assert.Zero(t, entries())
	rel, err := env.eng.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc@" + e2eDomain, Selection: sel})
	require.NoError(t, err)
	assert.Equal(t, int64(3), rel.Counts.Succeeded)
	assert.Equal(t, map[mailbox.Role]int{mailbox.RoleInbox: 3}, roles())
	assert.Equal(t, 3, entries(), "the release applies the invite again")
}

// TestLMTPDownstreamDovecot: the LMTP downstream against a real Dovecot,
// one pooled connection: per-recipient refusals (an unknown user) beside
// deliveries, a transaction in which no recipient is accepted, and the
// connection still in step after it.
func TestLMTPDownstreamDovecot(t *testing.T) {
	ctx := t.Context()
	known := "u01@" + e2eDomain
	dove := dovecot.Start(t, &dovecot.Options{Users: map[string]string{known: "pw"}, LMTP: true, LMTPConfig: func(port int) string {
		return sampleConfig(t, sampleDovecot, "port = 24", fmt.Sprintf("port = %d", port))
	}})
	lm := tap.NewLMTP("tcp", dove.LMTPAddr, &tap.LMTPOptions{MaxIdle: 1})
	t.Cleanup(func() { _ = lm.Close() })
	target := func(addr string, v tap.Verdict) tap.Target {
		return tap.Target{Recipient: tap.Recipient{Address: addr, Owner: addr}, Verdict: v}
	}
	unknown := "nobody@" + e2eDomain
	sts := lm.Deliver(ctx, &tap.Envelope{From: "x@ext.test", To: []tap.Target{target(known, tap.Deliver), target(unknown, tap.Deliver), target(known, tap.Quarantine)}},
		message("d1@ext.test", "one", "x"))
	require.Len(t, sts, 3)
	assert.NoError(t, sts[0])
	var se *smtp.SMTPError
	require.ErrorAs(t, sts[1], &se)
	assert.Equal(t, 550, se.Code, se.Message)
	assert.NoError(t, sts[2])

	sts = lm.Deliver(ctx, &tap.Envelope{From: "x@ext.test", To: []tap.Target{target(unknown, tap.Deliver)}}, message("d2@ext.test", "two", "x"))
	require.Len(t, sts, 1)
	require.ErrorAs(t, sts[0], &se)
	assert.Equal(t, 550, se.Code)

	sts = lm.Deliver(ctx, &tap.Envelope{From: "x@ext.test", To: []tap.Target{target(known, tap.Junk)}}, message("d3@ext.test", "three", "x"))
	require.Len(t, sts, 1)
	require.NoError(t, sts[0])
	for folder, want := range map[string]string{"INBOX": "messages=1", dovecot.QuarantineFolder: "messages=1", "Junk": "messages=1"} {
		out, err := dove.Doveadm(ctx, "mailbox", "status", "-u", known, "messages", folder)
		require.NoError(t, err)
		assert.Equal(t, want, strings.TrimPrefix(strings.TrimSpace(string(out)), folder+" "), folder)
	}
}
