package rules_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/internal/rtenv"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// rtEnv is a tenant with the test users and an engine over it.
type rtEnv struct{ *rtenv.Env }

func newRTEnv(t *testing.T, opts *remediation.Options) *rtEnv {
	return &rtEnv{rtenv.New(t, opts)}
}

func (v *rtEnv) rules(opts *rules.Options) *rules.Set {
	v.T.Helper()
	if opts == nil {
		opts = &rules.Options{}
	}
	opts.Logger = rtenv.Logger(v.T)
	if opts.FolderRole == nil {
		opts.FolderRole = v.Tenant.FolderRole
	}
	rs := rules.New(v.Engine, opts)
	v.T.Cleanup(func() { _ = rs.Close(context.Background()) })
	v.Tenant.OnDeliver(rs.OnDeliver)
	return rs
}

func evilRule(name string, mode rules.Mode, a remediation.Action) rules.Rule {
	return rules.Rule{
		Name:     name,
		Severity: remediation.SeverityHigh,
		Criteria: mailbox.Criteria{SenderDomains: []string{"evil.example"}},
		Action:   a,
		Mode:     mode,
	}
}

func TestRuleValidate(t *testing.T) {
	good := evilRule("evil", rules.ModeExecute, remediation.SoftDelete)
	tests := []struct {
		name   string
		change func(r *rules.Rule)
		want   []error // nil: valid
	}{
		{"valid", func(*rules.Rule) {}, nil},
		{"valid propose hard delete", func(r *rules.Rule) { r.Mode = rules.ModePropose; r.Action = remediation.HardDelete }, nil},
		{"no name", func(r *rules.Rule) { r.Name = "  " }, []error{rules.ErrInvalid}},
		{"unknown action", func(r *rules.Rule) { r.Action = "shred" }, []error{rules.ErrInvalid}},
		{"undo is not a rule action", func(r *rules.Rule) { r.Action = remediation.Undo }, []error{rules.ErrInvalid}},
		{"no mode", func(r *rules.Rule) { r.Mode = "" }, []error{rules.ErrInvalid}},
		{"empty criteria", func(r *rules.Rule) { r.Criteria = mailbox.Criteria{} },
			[]error{rules.ErrInvalid, mailbox.ErrEmptyCriteria}},
		{"folder only matches everything", func(r *rules.Rule) {
			r.Criteria = mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleInbox}}
		}, []error{rules.ErrInvalid, mailbox.ErrMatchesEverything}},
		{"time range only matches everything", func(r *rules.Rule) {
			r.Criteria = mailbox.Criteria{Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		}, []error{rules.ErrInvalid, mailbox.ErrMatchesEverything}},
		{"recipient only matches the recipient's whole mailbox", func(r *rules.Rule) {
			r.Criteria = mailbox.Criteria{Recipients: []string{"ceo@corp.example"}}
		}, []error{rules.ErrInvalid, mailbox.ErrMatchesEverything}},
		{"top-level domain matches everything", func(r *rules.Rule) {
			r.Criteria = mailbox.Criteria{SenderDomains: []string{"com"}}
		}, []error{rules.ErrInvalid, mailbox.ErrMatchesEverything}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			r.Criteria = mailbox.Criteria{SenderDomains: []string{"evil.example"}}
			tt.change(&r)
			err := r.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			for _, w := range tt.want {
				require.ErrorIs(t, err, w)
			}
			// Add refuses what Validate refuses.
			v := newRTEnv(t, nil)
			rs := v.rules(nil)
			require.ErrorIs(t, rs.Add(r), tt.want[0])
			assert.Empty(t, rs.Rules())
		})
	}
}

func TestRulesManage(t *testing.T) {
	v := newRTEnv(t, nil)
	rs := v.rules(nil)
	r := evilRule("evil", rules.ModeExecute, remediation.SoftDelete)
	require.NoError(t, rs.Add(r))
	require.ErrorIs(t, rs.Add(r), rules.ErrExists)
	require.NoError(t, rs.Add(evilRule("second", rules.ModePropose, remediation.MoveToJunk)))

	// The rule set holds a copy: changing the caller's criteria changes
	// nothing.
	r.Criteria.SenderDomains[0] = "corp.example"
	got, err := rs.Rule("evil")
	require.NoError(t, err)
	assert.Equal(t, []string{"evil.example"}, got.Criteria.SenderDomains)

	names := func() []string {
		var out []string
		for _, r := range rs.Rules() {
			out = append(out, fmt.Sprintf("%s:%v", r.Name, !r.Disabled))
		}
		return out
	}
	assert.Equal(t, []string{"evil:true", "second:true"}, names())
	require.NoError(t, rs.Enable("evil", false))
	assert.Equal(t, []string{"evil:false", "second:true"}, names())
	require.NoError(t, rs.Enable("evil", true))
	require.NoError(t, rs.Remove("second"))
	assert.Equal(t, []string{"evil:true"}, names())

	require.ErrorIs(t, rs.Remove("second"), rules.ErrNotFound)
	require.ErrorIs(t, rs.Enable("nope", true), rules.ErrNotFound)
	_, err = rs.Rule("nope")
	require.ErrorIs(t, err, rules.ErrNotFound)
}

func TestRulesOnDeliver(t *testing.T) {
	ctx := context.Background()
	phishTo := rtenv.Users()[:3]
	tests := []struct {
		name string
		rule rules.Rule
		// header recipients (default phishTo) and deliver options of the
		// campaign message
		phishTo []string
		opts    *mock.DeliverOptions
		// where the campaign's copies end, and the status of each record
		want     []string
		status   remediation.Status
		recorded int
	}{
		{
			name:     "execute soft delete",
			rule:     evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete),
			want:     rtenv.In(mock.FolderRecoverable, phishTo...),
			status:   remediation.StatusCompleted,
			recorded: 3,
		},
		{
			name:     "propose move to junk",
			rule:     evilRule("evil sender", rules.ModePropose, remediation.MoveToJunk),
			want:     rtenv.In(mock.FolderInbox, phishTo...),
			status:   remediation.StatusPending,
			recorded: 3,
		},
		{
			name: "URL needs the content",
			rule: rules.Rule{
				Name: "pay link", Action: remediation.MoveToJunk, Mode: rules.ModeExecute,
				Criteria: mailbox.Criteria{URLs: []string{"HTTP://PAY.evil.example/login"}},
			},
			want:     rtenv.In(mock.FolderJunk, phishTo...),
			status:   remediation.StatusCompleted,
			recorded: 3,
		},
		{
			name: "attachment hash",
			rule: rules.Rule{
				Name: "invoice file", Action: remediation.HardDelete, Mode: rules.ModeExecute,
				Criteria: mailbox.Criteria{AttachmentSHA256: []string{rtenv.AttachmentSHA(t)}},
			},
			want:     nil,
			status:   remediation.StatusCompleted,
			recorded: 3,
		},
		{
			name: "recipient narrows to one copy",
			rule: rules.Rule{
				Name: "ben only", Action: remediation.MoveToDeleted, Mode: rules.ModeExecute,
				Criteria: mailbox.Criteria{And: []mailbox.Criteria{
					{SenderDomains: []string{"evil.example"}},
					{Recipients: []string{"BEN@corp.example"}},
				}},
			},
			// Sent to ann, Bcc to ben and cat: only ben's copy is his.
			phishTo:  rtenv.Users()[:1],
			opts:     &mock.DeliverOptions{Recipients: phishTo},
			want:     []string{"ann@corp.example:INBOX", "ben@corp.example:" + mock.FolderDeleted, "cat@corp.example:INBOX"},
			status:   remediation.StatusCompleted,
			recorded: 1,
		},
		{
			name: "role restriction matches the junk copies",
			rule: rules.Rule{
				Name: "junked evil", Action: remediation.MoveToDeleted, Mode: rules.ModeExecute,
				Criteria: mailbox.Criteria{SenderDomains: []string{"evil.example"}, Roles: []mailbox.Role{mailbox.RoleJunk}},
			},
			opts:     &mock.DeliverOptions{Role: mailbox.RoleJunk},
			want:     rtenv.In(mock.FolderDeleted, phishTo...),
			status:   remediation.StatusCompleted,
			recorded: 3,
		},
		{
			name: "role restriction skips the inbox copies",
			rule: rules.Rule{
				Name: "junked evil", Action: remediation.MoveToDeleted, Mode: rules.ModeExecute,
				Criteria: mailbox.Criteria{SenderDomains: []string{"evil.example"}, Roles: []mailbox.Role{mailbox.RoleJunk}},
			},
			want:     rtenv.In(mock.FolderInbox, phishTo...),
			recorded: 0,
		},
		{
			name: "disabled rule does not fire",
			rule: func() rules.Rule {
				r := evilRule("off", rules.ModeExecute, remediation.SoftDelete)
				r.Disabled = true
				return r
			}(),
			want:     rtenv.In(mock.FolderInbox, phishTo...),
			recorded: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newRTEnv(t, nil)
			rs := v.rules(nil)
			require.NoError(t, rs.Add(tt.rule))

			to := phishTo
			if tt.phishTo != nil {
				to = tt.phishTo
			}
			v.Deliver(rtenv.Phish("p1@evil.example", to...), tt.opts)
			v.Deliver(rtenv.Benign("b1@corp.example", rtenv.Users()...), nil)

			assert.Equal(t, tt.want, v.Folders("p1@evil.example"))
			assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()...), v.Folders("b1@corp.example"), "benign mail untouched")
			errs, dropped := rs.Errors()
			assert.Empty(t, errs)
			assert.Zero(t, dropped)

			recs := v.Records(remediation.SourceDetectionRule)
			require.Len(t, recs, tt.recorded)
			for _, r := range recs {
				assert.Equal(t, tt.rule.Name, r.RuleName)
				assert.Equal(t, tt.rule.Name, r.Name)
				assert.Equal(t, tt.rule.Action, r.Action)
				assert.Equal(t, tt.status, r.Status)
				assert.Equal(t, "detection-rules", r.Actor)
				require.Len(t, r.Selection.Copies, 1, "one action per copy without coalescing")
				assert.Contains(t, r.Description, "p1@evil.example")
				if tt.status == remediation.StatusCompleted {
					assert.Equal(t, int64(1), r.Counts.Succeeded)
					assert.Equal(t, "detection-rules", r.DecidedBy)
				}
			}
			if tt.status == remediation.StatusPending {
				// An approver approves one proposal: only its copy moves.
				done, err := v.Engine.Approve(ctx, recs[0].ID, "secops@corp.example")
				require.NoError(t, err)
				assert.Equal(t, remediation.StatusCompleted, done.Status)
				assert.Equal(t, "secops@corp.example", done.DecidedBy)
				c := recs[0].Selection.Copies[0]
				assert.Contains(t, v.Folders("p1@evil.example"), c.Mailbox+":"+mock.FolderJunk)
			}
		})
	}
}

func TestRulesDefaultRoleWithoutFolderRole(t *testing.T) {
	// Without FolderRole a copy in INBOX still has the inbox role.
	v := newRTEnv(t, nil)
	rs := rules.New(v.Engine, &rules.Options{Logger: rtenv.Logger(t)})
	v.Tenant.OnDeliver(rs.OnDeliver)
	require.NoError(t, rs.Add(rules.Rule{
		Name: "inbox evil", Action: remediation.SoftDelete, Mode: rules.ModeExecute,
		Criteria: mailbox.Criteria{SenderDomains: []string{"evil.example"}, Roles: []mailbox.Role{mailbox.RoleInbox}},
	}))
	v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[0]), nil)
	assert.Equal(t, rtenv.In(mock.FolderRecoverable, rtenv.Users()[0]), v.Folders("p1@evil.example"))
}

func TestRulesEveryMatchingRuleActs(t *testing.T) {
	v := newRTEnv(t, nil)
	rs := v.rules(nil)
	require.NoError(t, rs.Add(evilRule("first", rules.ModeExecute, remediation.MoveToJunk)))
	require.NoError(t, rs.Add(evilRule("second", rules.ModeExecute, remediation.SoftDelete)))
	v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[0]), nil)

	// Rules act in order on the delivered address: the second finds the
	// copy gone, moved away by the first.
	recs := v.Records(remediation.SourceDetectionRule)
	require.Len(t, recs, 2)
	byRule := map[string]*remediation.Record{}
	for _, r := range recs {
		byRule[r.RuleName] = r
	}
	assert.Equal(t, int64(1), byRule["first"].Counts.Succeeded)
	assert.Equal(t, int64(1), byRule["second"].Counts.NotFound)
	assert.Equal(t, rtenv.In(mock.FolderJunk, rtenv.Users()[0]), v.Folders("p1@evil.example"))
}

func TestRulesCoalesce(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		maxBatch int
		// copies per record, sorted, before and after Flush
		before, after []int
	}{
		{"one action per message", 0, nil, []int{1, 4}},
		{"full batch runs at once", 2, []int{2, 2}, []int{1, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newRTEnv(t, nil)
			rs := v.rules(&rules.Options{Coalesce: time.Hour, MaxBatch: tt.maxBatch})
			require.NoError(t, rs.Add(evilRule("evil sender", rules.ModePropose, remediation.SoftDelete)))

			v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()...), nil)
			v.Deliver(rtenv.Phish("p2@evil.example", rtenv.Users()[1]), nil)
			v.Deliver(rtenv.Benign("b1@corp.example", rtenv.Users()...), nil)

			sizes := func() []int {
				var out []int
				for _, r := range v.Records(remediation.SourceDetectionRule) {
					out = append(out, len(r.Selection.Copies))
					assert.Equal(t, remediation.StatusPending, r.Status)
				}
				slices.Sort(out)
				return out
			}
			assert.Equal(t, tt.before, sizes())
			require.NoError(t, rs.Flush(ctx))
			assert.Equal(t, tt.after, sizes())
			require.NoError(t, rs.Flush(ctx))
			assert.Equal(t, tt.after, sizes(), "a second flush has nothing to do")
		})
	}
}

func TestRulesCoalesceTimer(t *testing.T) {
	v := newRTEnv(t, nil)
	rs := v.rules(&rules.Options{Coalesce: 20 * time.Millisecond})
	require.NoError(t, rs.Add(evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)))
	v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()...), nil)

	require.Eventually(t, func() bool {
		recs := v.Records(remediation.SourceDetectionRule)
		return len(recs) == 1 && recs[0].Status.Final()
	}, 5*time.Second, 5*time.Millisecond)
	r := v.Records(remediation.SourceDetectionRule)[0]
	assert.Len(t, r.Selection.Copies, len(rtenv.Users()))
	assert.Equal(t, int64(len(rtenv.Users())), r.Counts.Succeeded)
	assert.Equal(t, rtenv.In(mock.FolderRecoverable, rtenv.Users()...), v.Folders("p1@evil.example"))
}

func TestRulesCoalescedBatchOfDisabledRule(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	rs := v.rules(&rules.Options{Coalesce: time.Hour})
	require.NoError(t, rs.Add(evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)))
	v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()...), nil)
	require.NoError(t, rs.Enable("evil sender", false))
	require.NoError(t, rs.Flush(ctx))
	assert.Empty(t, v.Records(remediation.SourceDetectionRule))
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()...), v.Folders("p1@evil.example"))
}

func TestRulesErrorsAreKept(t *testing.T) {
	v := newRTEnv(t, nil)
	rs := v.rules(&rules.Options{MaxErrors: 2})
	require.NoError(t, rs.Add(evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)))
	v.Tenant.FailOp(mock.OpMove, nil)

	// The delivery itself succeeds; every failed action is kept.
	addrs := v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[:3]...), nil)
	require.Len(t, addrs, 3)
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()[:3]...), v.Folders("p1@evil.example"))

	errs, dropped := rs.Errors()
	require.Len(t, errs, 2, "MaxErrors keeps the most recent")
	assert.Equal(t, 1, dropped)
	for i, e := range errs {
		assert.Equal(t, "evil sender", e.Rule)
		assert.Equal(t, addrs[i+1], e.Copy)
		assert.Equal(t, "p1@evil.example", e.MessageID)
		assert.NotEmpty(t, e.RecordID, "the engine recorded the failed action")
		assert.ErrorIs(t, &e, mock.ErrInjected)
		assert.Contains(t, e.Error(), `detection rule "evil sender" on `+addrs[i+1].String())
	}
	for _, r := range v.Records(remediation.SourceDetectionRule) {
		assert.Equal(t, remediation.StatusFailed, r.Status)
	}
}

func TestRulesClosed(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	rs := v.rules(&rules.Options{Coalesce: time.Hour})
	require.NoError(t, rs.Add(evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)))
	v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[0]), nil)
	require.NoError(t, rs.Close(ctx))
	assert.Equal(t, rtenv.In(mock.FolderRecoverable, rtenv.Users()[0]), v.Folders("p1@evil.example"), "Close flushes")
	require.NoError(t, rs.Close(ctx), "idempotent")

	v.Deliver(rtenv.Phish("p2@evil.example", rtenv.Users()[1]), nil)
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()[1]), v.Folders("p2@evil.example"))
	errs, _ := rs.Errors()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, &errs[0], rules.ErrClosed)

	// Runs on demand still work.
	rec, err := rs.Run(ctx, "evil sender")
	require.NoError(t, err)
	assert.Equal(t, int64(1), rec.Counts.Succeeded)
}

func TestRulesNilParsed(t *testing.T) {
	v := newRTEnv(t, nil)
	rs := v.rules(nil)
	require.NoError(t, rs.Add(evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)))
	addr := mailbox.Address{Mailbox: rtenv.Users()[0], Folder: "INBOX", UIDValidity: 1, UID: 1}
	require.NotPanics(t, func() { rs.OnDeliver(context.Background(), addr, nil) })
	errs, _ := rs.Errors()
	require.Len(t, errs, 1)
	assert.Equal(t, addr, errs[0].Copy)
}

func TestRulesRunOnDemand(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mode   rules.Mode
		status remediation.Status
		where  string
	}{
		{"execute", rules.ModeExecute, remediation.StatusCompleted, mock.FolderRecoverable},
		{"propose", rules.ModePropose, remediation.StatusPending, mock.FolderInbox},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newRTEnv(t, nil)
			// Mail delivered before the rule existed.
			v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[:3]...), nil)
			v.Deliver(rtenv.Phish("p2@evil.example", rtenv.Users()[3]), nil)
			v.Deliver(rtenv.Benign("b1@corp.example", rtenv.Users()...), nil)

			rs := v.rules(nil)
			r := evilRule("evil sender", tt.mode, remediation.SoftDelete)
			r.Disabled = true // on demand runs disabled rules too
			require.NoError(t, rs.Add(r))
			rec, err := rs.Run(ctx, "evil sender")
			require.NoError(t, err)
			assert.Equal(t, remediation.SourceDetectionRule, rec.Source)
			assert.Equal(t, "evil sender", rec.RuleName)
			assert.Equal(t, tt.status, rec.Status)
			require.NotNil(t, rec.Selection.Criteria)
			assert.Equal(t, []string{"evil.example"}, rec.Selection.Criteria.SenderDomains)
			if tt.status == remediation.StatusCompleted {
				assert.Equal(t, int64(4), rec.Counts.Succeeded)
			}
			assert.Equal(t, rtenv.In(tt.where, rtenv.Users()[:3]...), v.Folders("p1@evil.example"))
			assert.Equal(t, rtenv.In(tt.where, rtenv.Users()[3]), v.Folders("p2@evil.example"))
			assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()...), v.Folders("b1@corp.example"))
			require.Len(t, v.Records(remediation.SourceDetectionRule), 1, "one action over all mailboxes")

			_, err = rs.Run(ctx, "nope")
			require.ErrorIs(t, err, rules.ErrNotFound)
			_, err = rs.RunRule(ctx, rules.Rule{Name: "bad", Action: remediation.SoftDelete, Mode: rules.ModeExecute})
			require.ErrorIs(t, err, mailbox.ErrEmptyCriteria)
		})
	}
}

func TestRulesRunOnDemandBlastRadius(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, &remediation.Options{BlastRadius: 2})
	v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()...), nil)
	rs := v.rules(nil)
	r := evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)
	_, err := rs.RunRule(ctx, r)
	require.ErrorIs(t, err, remediation.ErrNeedsConfirmation)
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()...), v.Folders("p1@evil.example"))

	r.Confirm = true
	rec, err := rs.RunRule(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, int64(len(rtenv.Users())), rec.Counts.Succeeded)
}

func TestRulesConcurrentDeliveries(t *testing.T) {
	ctx := context.Background()
	for _, coalesce := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint("coalesce ", coalesce), func(t *testing.T) {
			v := newRTEnv(t, nil)
			rs := v.rules(&rules.Options{Coalesce: coalesce})
			require.NoError(t, rs.Add(evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)))
			const n = 12
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := v.Tenant.Deliver(ctx, rtenv.Phish(fmt.Sprintf("c%d@evil.example", i), rtenv.Users()...), nil)
					assert.NoError(t, err)
				}()
			}
			wg.Wait()
			require.NoError(t, rs.Flush(ctx))
			for i := range n {
				assert.Equal(t, rtenv.In(mock.FolderRecoverable, rtenv.Users()...), v.Folders(fmt.Sprintf("c%d@evil.example", i)))
			}
			want := n * len(rtenv.Users())
			if coalesce > 0 {
				want = n
			}
			assert.Len(t, v.Records(remediation.SourceDetectionRule), want)
			errs, _ := rs.Errors()
			assert.Empty(t, errs)
		})
	}
}

// BenchmarkRulesOnDeliver measures the cost detection rules add to each
// delivered copy when none of 100 rules matches (the common case): the
// criteria are evaluated exactly, URL and attachment criteria against the
// parsed content.
func BenchmarkRulesOnDeliver(b *testing.B) {
	tn := mock.New(nil)
	require.NoError(b, tn.AddUser(rtenv.Users()[0]))
	e, err := remediation.New(tn, tn, journal.NewMemory(), nil)
	require.NoError(b, err)
	rs := rules.New(e, &rules.Options{FolderRole: tn.FolderRole})
	for i := range 100 {
		c := mailbox.Criteria{SenderDomains: []string{fmt.Sprintf("bad%d.example", i)}}
		switch i % 3 {
		case 1:
			c = mailbox.Criteria{URLs: []string{fmt.Sprintf("http://bad%d.example/login", i)}}
		case 2:
			c = mailbox.Criteria{Subject: fmt.Sprintf("urgent wire %d", i), Roles: []mailbox.Role{mailbox.RoleInbox}}
		}
		require.NoError(b, rs.Add(rules.Rule{Name: fmt.Sprint("rule ", i), Criteria: c, Action: remediation.SoftDelete, Mode: rules.ModeExecute}))
	}
	p, err := mailbox.Parse(rtenv.Phish("p1@evil.example", rtenv.Users()[0]))
	require.NoError(b, err)
	addr := mailbox.Address{Mailbox: rtenv.Users()[0], Folder: "INBOX", UIDValidity: 1, UID: 1}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs.OnDeliver(ctx, addr, p)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "copies/s")
	errs, _ := rs.Errors()
	require.Empty(b, errs)
}

// A delivery that races Close is kept as ErrClosed: no batch starts
// after Close returned.
func TestRulesDeliveryRacingClose(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	entered, proceed := make(chan struct{}), make(chan struct{})
	rs := rules.New(v.Engine, &rules.Options{Logger: rtenv.Logger(t), Coalesce: 20 * time.Millisecond,
		FolderRole: func(owner, folder string) (mailbox.Role, error) {
			close(entered)
			<-proceed
			return v.Tenant.FolderRole(owner, folder)
		}})
	v.Tenant.OnDeliver(rs.OnDeliver)
	require.NoError(t, rs.Add(evilRule("evil sender", rules.ModeExecute, remediation.SoftDelete)))
	done := make(chan struct{})
	go func() { defer close(done); v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[0]), nil) }()
	<-entered
	require.NoError(t, rs.Close(ctx))
	close(proceed)
	<-done
	time.Sleep(100 * time.Millisecond) // a timer started by mistake would fire
	errs, _ := rs.Errors()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, &errs[0], rules.ErrClosed)
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()[0]), v.Folders("p1@evil.example"))
	assert.Empty(t, v.Records(remediation.SourceDetectionRule))
}

// First evaluates without acting: the first enabled rule that matches, in
// order; a disabled one is passed over, and nothing moves.
func TestRulesFirst(t *testing.T) {
	v := newRTEnv(t, nil)
	rs := rules.New(v.Engine, nil)
	require.NoError(t, rs.Add(evilRule("a-disabled", rules.ModeExecute, remediation.SoftDelete)))
	require.NoError(t, rs.Enable("a-disabled", false))
	require.NoError(t, rs.Add(rules.Rule{Name: "b-subject", Criteria: mailbox.Criteria{Subject: "invoice"}, Action: remediation.Quarantine, Mode: rules.ModeExecute}))
	require.NoError(t, rs.Add(evilRule("c-evil", rules.ModePropose, remediation.Quarantine)))

	p, err := mailbox.Parse([]byte("From: billing@evil.example\r\nSubject: Your invoice\r\nMessage-ID: <f1@evil.example>\r\n\r\nhi\r\n"))
	require.NoError(t, err)
	m := p.Summary()
	m.Address = mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX"}
	m.Role = mailbox.RoleInbox
	content := func() (*mailbox.Parsed, error) { return p, nil }
	r, ok, err := rs.First(&m, content)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "b-subject", r.Name)

	m.Subject = "hello"
	r, ok, err = rs.First(&m, content)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "c-evil", r.Name)

	m.From, m.EnvelopeFrom = "friend@partner.example", ""
	_, ok, err = rs.First(&m, content)
	require.NoError(t, err)
	assert.False(t, ok)
	for _, err := range v.Engine.Query(context.Background(), remediation.Filter{}) {
		require.NoError(t, err)
		t.Fatal("First recorded an action")
	}
}
