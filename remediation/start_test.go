package remediation_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// gate is a Progress callback that holds an action after its first batch
// until opened.
type gate struct {
	reached chan struct{} // closed at the first batch
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{reached: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) progress(remediation.Progress) {
	g.once.Do(func() { close(g.reached) })
	<-g.open
}

// startFixture is three users holding a copy each of a phish, and an
// engine whose actions work one copy at a time, held by g.
func startFixture(t *testing.T, j remediation.Journal, g *gate) (*fixture, *remediation.Engine) {
	users := []string{"a@corp.example", "b@corp.example", "c@corp.example"}
	f := newFixture(t, users...)
	f.deliver(msg("phish@evil.example", "x@evil.example", "Reset", users...), mailbox.RoleInbox, users...)
	f.deliver(msg("keep@good.example", "friend@good.example", "Lunch", users...), mailbox.RoleInbox, users...)
	return f, f.engine(j, &remediation.Options{Workers: 1, BatchSize: 1, Progress: g.progress})
}

var phishReq = remediation.Request{Action: remediation.SoftDelete, Actor: "soar",
	Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}}}

func TestStartRecordsBeforeActing(t *testing.T) {
	ctx := context.Background()
	g := newGate()
	f, e := startFixture(t, nil, g)
	rec, err := e.Start(ctx, phishReq)
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusRunning, rec.Status)
	assert.False(t, rec.Started.IsZero())

	// Readable while the action is held, by Get and by Query.
	<-g.reached
	got, err := e.Get(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusRunning, got.Status)
	var ids []string
	for r, err := range e.Query(ctx, remediation.Filter{Actors: []string{"soar"}}) {
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{rec.ID}, ids)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = e.Wait(wctx, rec.ID)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "Wait returned while the action was held")

	close(g.open)
	done, err := e.Wait(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, done.Status, done.Error)
	assert.Equal(t, remediation.Counts{Succeeded: 3}, done.Counts)
	assert.Equal(t, []string{"a@corp.example:Recoverable Items", "b@corp.example:Recoverable Items", "c@corp.example:Recoverable Items"}, f.where("phish@evil.example"))
	assert.Equal(t, []string{"a@corp.example:INBOX", "b@corp.example:INBOX", "c@corp.example:INBOX"}, f.where("keep@good.example"))
	require.NoError(t, e.Close(ctx))
}

func TestStartRefusesAsExecute(t *testing.T) {
	ctx := context.Background()
	g := newGate()
	close(g.open)
	_, e := startFixture(t, nil, g)
	sel := phishReq.Selection
	cases := []struct {
		name string
		req  remediation.Request
		want error
	}{
		{"no actor", remediation.Request{Action: remediation.SoftDelete, Selection: sel}, remediation.ErrInvalidRequest},
		{"unknown action", remediation.Request{Action: "shred", Actor: "soar", Selection: sel}, remediation.ErrInvalidRequest},
		{"empty selection", remediation.Request{Action: remediation.SoftDelete, Actor: "soar"}, remediation.ErrEmptySelection},
		{"match everything", remediation.Request{Action: remediation.SoftDelete, Actor: "soar",
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{}}}, mailbox.ErrEmptyCriteria},
		{"blast radius", remediation.Request{Action: remediation.SoftDelete, Actor: "soar", MaxCopies: 2, Selection: sel}, remediation.ErrNeedsConfirmation},
		{"not a recipient", remediation.Request{Action: remediation.Release, Actor: "soar", Recipients: []string{"nobody@corp.example"},
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"phish@evil.example"}}}}, remediation.ErrNotRecipient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, xerr := e.Execute(ctx, c.req)
			require.ErrorIs(t, xerr, c.want)
			rec, err := e.Start(ctx, c.req)
			require.ErrorIs(t, err, c.want)
			assert.Nil(t, rec)
			assert.Equal(t, xerr.Error(), err.Error())
		})
	}
	for r, err := range e.Query(ctx, remediation.Filter{}) {
		require.NoError(t, err)
		t.Errorf("a refused request was recorded: %s %s", r.ID, r.Status)
	}
	// A journal that refuses the record: Start says so, nothing runs.
	fj := &failingJournal{Memory: journal.NewMemory(), fail: func(remediation.Entry) bool { return true }}
	_, e2 := startFixture(t, fj, g)
	_, err := e2.Start(ctx, phishReq)
	require.Error(t, err)
	require.NoError(t, e2.Close(ctx))
}

func TestCloseWaitsForStarted(t *testing.T) {
	ctx := context.Background()
	g := newGate()
	_, e := startFixture(t, nil, g)
	rec, err := e.Start(ctx, phishReq)
	require.NoError(t, err)
	<-g.reached
	closed := make(chan error, 1)
	go func() { closed <- e.Close(ctx) }()
	// Closed to new actions at once, while the started one goes on. The
	// probe is a request Start refuses anyway (no action), so that a
	// probe before Close begins starts nothing: Start checks Close first.
	require.Eventually(t, func() bool {
		_, err := e.Start(ctx, remediation.Request{Actor: "soar", Selection: phishReq.Selection})
		return errors.Is(err, remediation.ErrEngineClosed)
	}, 5*time.Second, time.Millisecond)
	_, err = e.Start(ctx, phishReq)
	require.ErrorIs(t, err, remediation.ErrEngineClosed, "a valid request is refused too")
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a started action was held", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(g.open)
	require.NoError(t, <-closed)
	got, err := e.Get(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, got.Status, got.Error)
	assert.Equal(t, remediation.Counts{Succeeded: 3}, got.Counts)
	require.NoError(t, e.Close(ctx), "a second Close")
}

func TestCloseStopsStartedThenResume(t *testing.T) {
	ctx := context.Background()
	g := newGate()
	j := journal.NewMemory()
	f, e := startFixture(t, j, g)
	rec, err := e.Start(ctx, phishReq)
	require.NoError(t, err)
	<-g.reached
	cctx, cancel := context.WithCancel(ctx)
	closed := make(chan error, 1)
	go func() { closed <- e.Close(cctx) }()
	cancel()
	// Close stops the action, then waits for it to stop.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the action stopped", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(g.open)
	require.ErrorIs(t, <-closed, context.Canceled)
	got, err := e.Get(ctx, rec.ID)
	require.NoError(t, err)
	assert.True(t, got.Incomplete, "a stopped action is incomplete")
	assert.Less(t, got.Counts.Succeeded, int64(3))
	assert.Contains(t, got.Error, "interrupted")

	// Resume finishes it: each copy acted on once.
	recs, err := e.Resume(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, rec.ID, recs[0].ID)
	assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
	assert.Equal(t, remediation.Counts{Succeeded: 3}, recs[0].Counts)
	assert.Len(t, outcomes(t, e, rec.ID), 3)
	assert.Equal(t, []string{"a@corp.example:Recoverable Items", "b@corp.example:Recoverable Items", "c@corp.example:Recoverable Items"}, f.where("phish@evil.example"))
}
