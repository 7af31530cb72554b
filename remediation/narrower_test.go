package remediation_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// fakeNarrower names a fixed set of mailboxes (or fails) and records what
// it was asked.
type fakeNarrower struct {
	mu    sync.Mutex
	keep  []string
	err   error
	asked [][]string
}

func (n *fakeNarrower) Mailboxes(ctx context.Context, c mailbox.Criteria, mbs []string) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.asked = append(n.asked, slices.Clone(mbs))
	if n.err != nil {
		return nil, n.err
	}
	var out []string
	for _, mb := range mbs {
		if slices.Contains(n.keep, mb) {
			out = append(out, mb)
		}
	}
	return out, nil
}

func TestNarrowerSearchesOnlyWhatItNames(t *testing.T) {
	ctx := t.Context()
	users := []string{"a@corp.example", "b@corp.example", "c@corp.example", "d@corp.example"}
	f := newFixture(t, users...)
	f.deliver(msg("camp@evil.example", "x@evil.example", "Payroll", users[1], users[3]), mailbox.RoleInbox, users[1], users[3])
	// A copy the narrower does not know about (delivered after its index
	// was built): the action does not see it, which is the narrower's
	// contract to avoid; the test shows that the engine searches exactly
	// the mailboxes named.
	f.deliver(msg("camp@evil.example", "x@evil.example", "Payroll", users[2]), mailbox.RoleInbox, users[2])
	n := &fakeNarrower{keep: []string{users[1], users[3]}}
	e := f.engine(nil, &remediation.Options{Narrower: n})
	sel := remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"camp@evil.example"}}}

	p, err := e.DryRun(ctx, sel)
	require.NoError(t, err)
	assert.EqualValues(t, 2, p.Total, "the dry run searched the named mailboxes only")
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: sel})
	require.NoError(t, err)
	assert.EqualValues(t, 2, rec.Counts.Succeeded)
	assert.Equal(t, []string{users[1] + ":Recoverable Items", users[2] + ":INBOX", users[3] + ":Recoverable Items"}, f.where("camp@evil.example"))
	require.NotEmpty(t, n.asked)
	assert.Equal(t, users, n.asked[0], "the narrower chooses among every mailbox")
}

func TestNarrowerFailureSearchesEverything(t *testing.T) {
	ctx := t.Context()
	users := []string{"a@corp.example", "b@corp.example", "c@corp.example"}
	f := newFixture(t, users...)
	f.deliver(msg("camp@evil.example", "x@evil.example", "Payroll", users...), mailbox.RoleInbox, users...)
	e := f.engine(nil, &remediation.Options{Narrower: &fakeNarrower{err: errors.New("index unavailable")}})
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"camp@evil.example"}}}})
	require.NoError(t, err)
	assert.EqualValues(t, 3, rec.Counts.Succeeded, "a failed narrowing searches every mailbox")
}
