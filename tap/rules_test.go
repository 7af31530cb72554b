package tap_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
	"github.com/eradicate-dev/eradicate/tap"
)

const (
	alice = "alice@corp.test"
	bob   = "bob@corp.test"
	carol = "carol@corp.test"
)

// rulesEnv is an in-memory tenant behind a tap whose decider and
// recorder are detection rules.
type rulesEnv struct {
	tenant *mock.Tenant
	eng    *remediation.Engine
	rules  *rules.Set
	srv    *tap.Server
	addr   string
}

func newRulesEnv(t *testing.T, rs ...rules.Rule) *rulesEnv {
	t.Helper()
	tn := mock.New(nil)
	for _, u := range []string{alice, bob, carol} {
		require.NoError(t, tn.AddUser(u))
	}
	eng, err := remediation.New(tn, tn, journal.NewMemory(), nil)
	require.NoError(t, err)
	set := rules.New(eng, nil)
	for _, r := range rs {
		require.NoError(t, set.Add(r))
	}
	adapter := tap.NewRules(eng, set, nil)
	srv, addr := startTap(t, tap.Options{
		Downstream: tap.Append(tn),
		Decider:    adapter,
		Recorder:   adapter,
		Invites:    tap.IMIP(imipproc.New(tn, tn, nil)),
	})
	return &rulesEnv{tenant: tn, eng: eng, rules: set, srv: srv, addr: addr}
}

func (v *rulesEnv) where(t *testing.T, id string) map[string]mailbox.Role {
	t.Helper()
	out := map[string]mailbox.Role{}
	for _, u := range []string{alice, bob, carol} {
		for m, err := range v.tenant.Search(context.Background(), u, mailbox.Criteria{MessageIDs: []string{id}}) {
			require.NoError(t, err)
			out[u] = m.Role
		}
	}
	return out
}

var payrollRule = rules.Rule{
	Name: "payroll-invites", Description: "payroll invite campaign",
	Criteria: mailbox.Criteria{SenderDomains: []string{"evil.test"}},
	Action:   remediation.Quarantine, Mode: rules.ModeExecute,
}

// A rule that quarantines: the message lands in quarantine, never in the
// inbox, its invite reaches no calendar, the action center says why, and
// a release delivers it to the inbox with its invite.
func TestRulesQuarantineAtDelivery(t *testing.T) {
	ctx := context.Background()
	v := newRulesEnv(t, payrollRule)
	res, err := send(t, v.addr, "hr@evil.test", []string{alice, bob}, invite("pay-1@evil.test", "uid-pay-1", alice))
	require.NoError(t, err)
	assert.Nil(t, res[alice])
	assert.Nil(t, res[bob])
	_, err = send(t, v.addr, "pm@partner.test", []string{alice}, inviteTo("plan-1@partner.test", "uid-plan-1", "pm@partner.test", "Planning", []string{alice}))
	require.NoError(t, err)

	assert.Equal(t, map[string]mailbox.Role{alice: mailbox.RoleQuarantine, bob: mailbox.RoleQuarantine}, v.where(t, "pay-1@evil.test"))
	assert.Equal(t, map[string]mailbox.Role{alice: mailbox.RoleInbox}, v.where(t, "plan-1@partner.test"))
	got, err := v.tenant.Find(ctx, alice, calendar.Query{UID: "uid-pay-1"})
	require.NoError(t, err)
	assert.Empty(t, got, "a quarantined invite reaches no calendar")
	got, err = v.tenant.Find(ctx, alice, calendar.Query{UID: "uid-plan-1"})
	require.NoError(t, err)
	assert.Len(t, got, 1, "a delivered invite does")

	held, err := v.eng.Held(ctx, nil)
	require.NoError(t, err)
	require.Len(t, held, 1)
	assert.Equal(t, []string{alice, bob}, held[0].Recipients)
	require.Len(t, held[0].Reasons, 1)
	why := held[0].Reasons[0]
	assert.Equal(t, "payroll-invites", why.RuleName)
	assert.Equal(t, "payroll invite campaign", why.Description)
	assert.Equal(t, remediation.SourceDetectionRule, why.Source)
	assert.Equal(t, "detection-rules", why.Actor)
	rec, err := v.eng.Get(ctx, why.RecordID)
	require.NoError(t, err)
	assert.Equal(t, remediation.Quarantine, rec.Action)
	assert.Equal(t, int64(2), rec.Counts.AlreadyInDestination)

	rel, err := v.eng.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc@corp.test", Recipients: []string{alice},
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"pay-1@evil.test"}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), rel.Counts.Succeeded)
	assert.Equal(t, map[string]mailbox.Role{alice: mailbox.RoleInbox, bob: mailbox.RoleQuarantine}, v.where(t, "pay-1@evil.test"))
	got, err = v.tenant.Find(ctx, alice, calendar.Query{UID: "uid-pay-1"})
	require.NoError(t, err)
	assert.Len(t, got, 1, "the released invite is applied as a fresh delivery")
	st := v.srv.Stats()
	assert.Equal(t, int64(2), st.Quarantined)
	assert.Zero(t, st.AfterFailures)
}

// A junking rule delivers to Junk and records the move; a proposing
// quarantine rule delivers to the inbox and proposes; a soft-deleting
// rule acts after delivery.
func TestRulesOtherActions(t *testing.T) {
	ctx := context.Background()
	v := newRulesEnv(t,
		rules.Rule{Name: "deals", Criteria: mailbox.Criteria{Subject: "deals"}, Action: remediation.MoveToJunk, Mode: rules.ModeExecute},
		rules.Rule{Name: "maybe-phish", Criteria: mailbox.Criteria{Subject: "verify your account"}, Action: remediation.Quarantine, Mode: rules.ModePropose},
		rules.Rule{Name: "old-lure", Criteria: mailbox.Criteria{Subject: "lottery"}, Action: remediation.SoftDelete, Mode: rules.ModeExecute},
	)
	for _, m := range []struct{ id, subject string }{{"d@shop.test", "Weekly deals"}, {"v@bank.test", "Please verify your account"}, {"l@lot.test", "You won the lottery"}} {
		_, err := send(t, v.addr, "x@ext.test", []string{carol}, message(m.id, m.subject, "body"))
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]mailbox.Role{carol: mailbox.RoleJunk}, v.where(t, "d@shop.test"))
	assert.Equal(t, map[string]mailbox.Role{carol: mailbox.RoleInbox}, v.where(t, "v@bank.test"))
	assert.Equal(t, map[string]mailbox.Role{carol: mailbox.RoleRecoverable}, v.where(t, "l@lot.test"))

	byRule := map[string]*remediation.Record{}
	for r, err := range v.eng.Query(ctx, remediation.Filter{Sources: []remediation.Source{remediation.SourceDetectionRule}}) {
		require.NoError(t, err)
		byRule[r.RuleName] = r
	}
	require.Len(t, byRule, 3)
	assert.Equal(t, remediation.StatusCompleted, byRule["deals"].Status)
	assert.Equal(t, int64(1), byRule["deals"].Counts.AlreadyInDestination)
	assert.Equal(t, remediation.StatusPending, byRule["maybe-phish"].Status)
	assert.Equal(t, remediation.Quarantine, byRule["maybe-phish"].Action)
	assert.Equal(t, int64(1), byRule["old-lure"].Counts.Succeeded)

	// Approved, the proposal quarantines the copy.
	_, err := v.eng.Approve(ctx, byRule["maybe-phish"].ID, "lead@corp.test")
	require.NoError(t, err)
	assert.Equal(t, map[string]mailbox.Role{carol: mailbox.RoleQuarantine}, v.where(t, "v@bank.test"))
}

// A message without a Message-ID is quarantined all the same; the record
// cannot select it and counts as a failure after delivery.
func TestRulesQuarantineWithoutMessageID(t *testing.T) {
	v := newRulesEnv(t, payrollRule)
	raw := []byte("From: hr@evil.test\r\nTo: alice@corp.test\r\nSubject: no id\r\n\r\nhello\r\n")
	_, err := send(t, v.addr, "hr@evil.test", []string{alice}, raw)
	require.NoError(t, err)
	held, err := v.eng.Held(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, held, 1)
	assert.Empty(t, held[0].Reasons)
	assert.Equal(t, int64(1), v.srv.Stats().AfterFailures)
}

// The Append downstream stores what a final delivery agent would: the
// message under a Return-Path naming the envelope sender (the first
// Return-Path wins over one the sender wrote), so that a crawl of the
// mailbox reads the envelope sender the tap saw.
func TestAppendAddsReturnPath(t *testing.T) {
	ctx := context.Background()
	v := newRulesEnv(t)
	msg := "Return-Path: <forged@elsewhere.test>\r\nFrom: hr@corp.test\r\nTo: alice@corp.test\r\nMessage-ID: <rp-1@corp.test>\r\nSubject: hi\r\n\r\nhello\r\n"
	_, err := send(t, v.addr, "bounces@mailer.test", []string{alice}, []byte(msg))
	require.NoError(t, err)
	var found int
	for m, err := range v.tenant.Search(ctx, alice, mailbox.Criteria{MessageIDs: []string{"rp-1@corp.test"}}) {
		require.NoError(t, err)
		raw, err := v.tenant.Fetch(ctx, m.Address)
		require.NoError(t, err)
		p, err := mailbox.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, "bounces@mailer.test", p.EnvelopeFrom)
		found++
	}
	assert.Equal(t, 1, found)
}
