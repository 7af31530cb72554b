package remediation_test

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// searchCounter is a mock tenant whose searches are counted per mailbox
// and take a moment, so that parallel ones overlap.
type searchCounter struct {
	*mock.Tenant
	mu       sync.Mutex
	searches map[string]int
	active   atomic.Int64
	peak     atomic.Int64
}

func (s *searchCounter) Search(ctx context.Context, mb string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	return func(yield func(mailbox.Message, error) bool) {
		s.mu.Lock()
		s.searches[mb]++
		s.mu.Unlock()
		n := s.active.Add(1)
		for {
			p := s.peak.Load()
			if n <= p || s.peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		s.active.Add(-1)
		for m, err := range s.Tenant.Search(ctx, mb, c) {
			if !yield(m, err) {
				return
			}
		}
	}
}

func (s *searchCounter) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.searches {
		out[k] = v
	}
	clear(s.searches)
	return out
}

func newSearchCounter(t *testing.T, nMailboxes int) (*searchCounter, []string) {
	t.Helper()
	tn := mock.New(nil)
	var users []string
	for i := range nMailboxes {
		u := fmt.Sprintf("user%02d@corp.example", i)
		require.NoError(t, tn.AddUser(u))
		users = append(users, u)
	}
	ctx := context.Background()
	for i, u := range users {
		_, err := tn.Deliver(ctx, msg(fmt.Sprintf("camp-%d@x", i), "evil@bad.example", "Invoice", u), &mock.DeliverOptions{Recipients: []string{u}})
		require.NoError(t, err)
		_, err = tn.Deliver(ctx, msg(fmt.Sprintf("ok-%d@x", i), "friend@good.example", "Lunch", u), &mock.DeliverOptions{Recipients: []string{u}})
		require.NoError(t, err)
	}
	return &searchCounter{Tenant: tn, searches: map[string]int{}}, users
}

// TestDryRunParallel checks that a dry run searches Workers mailboxes at
// a time, never more, and still counts every copy.
func TestDryRunParallel(t *testing.T) {
	st, users := newSearchCounter(t, 24)
	e, err := remediation.New(st, nil, journal.NewMemory(), &remediation.Options{Workers: 4, Logger: testLogger(t)})
	require.NoError(t, err)
	p, err := e.DryRun(context.Background(), remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}})
	require.NoError(t, err)
	assert.EqualValues(t, len(users), p.Total)
	assert.Equal(t, len(users), p.Mailboxes)
	for _, u := range users {
		assert.Equal(t, map[string]int64{"INBOX": 1}, p.Folders[u])
	}
	assert.Greater(t, st.peak.Load(), int64(1), "mailboxes searched in parallel")
	assert.LessOrEqual(t, st.peak.Load(), int64(4), "at most Workers at a time")
	counts := st.counts()
	for _, u := range users {
		assert.Equal(t, 1, counts[u], "%s searched once", u)
	}
}

// TestBlastRadiusCountIsTheSearch checks that an action under the blast
// radius searches each mailbox once: the count's results are what it acts
// on. Above the limit it is refused after one pass that stops early.
func TestBlastRadiusCountIsTheSearch(t *testing.T) {
	ctx := context.Background()
	st, users := newSearchCounter(t, 12)
	e, err := remediation.New(st, nil, journal.NewMemory(), &remediation.Options{Workers: 3, BlastRadius: 100, Logger: testLogger(t)})
	require.NoError(t, err)
	sel := remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}}

	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst", Selection: sel})
	require.NoError(t, err)
	assert.EqualValues(t, len(users), rec.Counts.Succeeded)
	counts := st.counts()
	for _, u := range users {
		assert.Equal(t, 1, counts[u], "%s searched once", u)
	}
	for i, u := range users {
		got := where(t, st.Tenant, fmt.Sprintf("camp-%d@x", i))
		assert.Equal(t, []string{u + ":Recoverable Items"}, got)
	}
	st.counts()

	// Above the limit: refused, and no mailbox searched twice.
	e2, err := remediation.New(st, nil, journal.NewMemory(), &remediation.Options{Workers: 3, BlastRadius: 2, Logger: testLogger(t)})
	require.NoError(t, err)
	_, err = e2.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"good.example"}}}})
	require.ErrorIs(t, err, remediation.ErrNeedsConfirmation)
	for u, n := range st.counts() {
		assert.Equal(t, 1, n, "%s searched once", u)
	}
}
