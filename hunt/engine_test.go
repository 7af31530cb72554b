package hunt_test

import (
	"context"
	"iter"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// TestEngineSelectsFromIndex: an action selected through the index opens
// the mailboxes holding copies and every mailbox the index cannot vouch
// for, finds the copies there on the server (also one delivered after
// the crawl to a stale mailbox), and its outcomes bring the index up to
// date: where each copy went, and what was done to it, by whom.
func TestEngineSelectsFromIndex(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 8, 6)
	for _, u := range []string{users[2], users[5]} {
		_, err := ten.Deliver(ctx, rawMessage(700, "payroll@evil-campaign.example", u, "payroll", "https://evil-campaign.example/x"), &mock.DeliverOptions{Recipients: []string{u}})
		require.NoError(t, err)
	}
	idx := openIndex(t)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	_, err := hunt.NewCrawler(ten, idx, &hunt.CrawlerOptions{Now: clock, Retention: -1}).Crawl(ctx)
	require.NoError(t, err)
	// users[7] is not crawled again in time: its index is stale, and the
	// campaign reaches it after the crawl.
	require.NoError(t, idx.SetCursor(ctx, hunt.Cursor{Mailbox: users[7], Fresh: now.Add(-3 * time.Hour)}))
	_, err = ten.Deliver(ctx, rawMessage(701, "payroll@evil-campaign.example", users[7], "payroll", "https://evil-campaign.example/x"), &mock.DeliverOptions{Recipients: []string{users[7]}})
	require.NoError(t, err)

	n := &hunt.Narrower{Index: idx, MaxAge: time.Hour, Now: clock}
	src := &searchCounter{Store: ten, searched: map[string]int{}}
	e, err := remediation.New(src, ten, journal.NewMemory(), &remediation.Options{Narrower: n, Now: clock})
	require.NoError(t, err)
	sel := remediation.Selection{Criteria: &mailbox.Criteria{URLs: []string{"https://evil-campaign.example/x"}}}
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst@corp.example", Selection: sel})
	require.NoError(t, err)
	assert.EqualValues(t, 3, rec.Counts.Succeeded, "both indexed copies and the one in the stale mailbox")
	src.mu.Lock()
	assert.ElementsMatch(t, []string{users[2], users[5], users[7]}, slices.Collect(maps.Keys(src.searched)),
		"the engine searched the mailboxes holding copies and the stale one")
	src.mu.Unlock()

	require.NoError(t, hunt.RecordAction(ctx, idx, rec, e.Outcomes(ctx, rec.ID)))
	require.NoError(t, hunt.RecordAction(ctx, idx, rec, e.Outcomes(ctx, rec.ID)), "recording again")
	var ids []string
	for cp, err := range idx.Copies(ctx, hunt.Query{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil-campaign.example"}}}) {
		require.NoError(t, err)
		assert.Equal(t, "Recoverable Items", cp.Address.Folder, "the index follows the action")
		assert.Equal(t, mailbox.RoleRecoverable, cp.Role, "with the folder's role")
		ids = append(ids, cp.Message.NetworkID)
	}
	require.Len(t, ids, 2, "the copy delivered after the crawl is not in the index yet")
	ent, err := idx.Entity(ctx, ids[0])
	require.NoError(t, err)
	require.Len(t, ent.Annotations, 1, "one action annotation, recorded once")
	a := ent.Annotations[0]
	assert.Equal(t, "soft_delete", a.Name)
	assert.Equal(t, rec.ID, a.Record)
	assert.Equal(t, "succeeded", a.Outcome)
	assert.Equal(t, "analyst@corp.example", a.Actor)

	// A hard delete purges: the index marks the copies removed.
	hard, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst@corp.example", Selection: sel})
	require.NoError(t, err)
	require.NoError(t, hunt.RecordAction(ctx, idx, hard, e.Outcomes(ctx, hard.ID)))
	ent, err = idx.Entity(ctx, ids[0])
	require.NoError(t, err)
	require.Len(t, ent.Copies, 1)
	assert.False(t, ent.Copies[0].Removed.IsZero(), "a purged copy is removed from the index's view")
	assert.Len(t, ent.Annotations, 2)
}

// searchCounter counts the searches of each mailbox.
type searchCounter struct {
	mailbox.Store
	mu       sync.Mutex
	searched map[string]int
}

func (s *searchCounter) Search(ctx context.Context, mb string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	s.mu.Lock()
	s.searched[mb]++
	s.mu.Unlock()
	return s.Store.Search(ctx, mb, c)
}
