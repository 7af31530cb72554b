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

// callCounter counts, per mailbox, the searches and the searches of
// given copies.
type callCounter struct {
	*mock.Tenant
	mu             sync.Mutex
	search, copies map[string]int
}

func (s *callCounter) Search(ctx context.Context, mb string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	s.mu.Lock()
	s.search[mb]++
	s.mu.Unlock()
	return s.Tenant.Search(ctx, mb, c)
}

func (s *callCounter) SearchCopies(ctx context.Context, mb string, c mailbox.Criteria, addrs []mailbox.Address) iter.Seq2[mailbox.Message, error] {
	s.mu.Lock()
	s.copies[mb]++
	s.mu.Unlock()
	return s.Tenant.SearchCopies(ctx, mb, c, addrs)
}

// TestEngineActsOnIndexedCopies: through a Locator, the engine matches
// the criteria against the copies the index holds in each mailbox it
// vouches for, without searching those mailboxes; a mailbox where a copy
// moved since the crawl, one whose index is stale, and one with a copy
// the tap announced are searched; the action leaves exactly what a scan
// leaves.
func TestEngineActsOnIndexedCopies(t *testing.T) {
	ctx := t.Context()
	build := func() (*mock.Tenant, []string) {
		ten, users := tenant(t, 6, 4)
		deliverCampaign(t, ten, 700, users[1:5]...)
		return ten, users
	}
	c := mailbox.Criteria{URLs: []string{"https://evil-campaign.example/x"}, Roles: []mailbox.Role{mailbox.RoleInbox, mailbox.RoleJunk}}
	left := func(ten *mock.Tenant, users []string) []string {
		var out []string
		for _, u := range users {
			for m, err := range ten.Search(ctx, u, mailbox.Criteria{Recipients: []string{u}}) {
				require.NoError(t, err)
				out = append(out, u+" "+m.Address.Folder+" "+m.MessageID)
			}
		}
		slices.Sort(out)
		return out
	}
	changes := func(ten *mock.Tenant, users []string) {
		// users[2] moves the campaign to Junk; users[5] gets it late.
		var moved []mailbox.Address
		for m, err := range ten.Search(ctx, users[2], mailbox.Criteria{MessageIDs: []string{"m700@sender.example"}}) {
			require.NoError(t, err)
			moved = append(moved, m.Address)
		}
		_, err := ten.Move(ctx, moved, mailbox.In(mailbox.RoleJunk))
		require.NoError(t, err)
		deliverCampaign(t, ten, 700, users[5])
	}

	// The scan, for reference.
	ten, users := build()
	changes(ten, users)
	scan, err := remediation.New(ten, nil, journal.NewMemory(), nil)
	require.NoError(t, err)
	want, err := scan.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &c}})
	require.NoError(t, err)
	require.EqualValues(t, 5, want.Counts.Succeeded)
	wantLeft := left(ten, users)

	ten, users = build()
	idx := openIndex(t)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	_, err = hunt.NewCrawler(ten, idx, &hunt.CrawlerOptions{Now: func() time.Time { return now }, Retention: -1}).Crawl(ctx)
	require.NoError(t, err)
	changes(ten, users)
	// users[5]'s copy reached the index through the tap; users[4]'s
	// index is stale.
	require.NoError(t, idx.Ingest(ctx, []hunt.Delivery{{Address: mailbox.Address{Mailbox: users[5]}, At: now,
		Message: hunt.Message{NetworkID: "00000000-0000-8000-8000-0000000000aa", URLs: c.URLs}}}))
	require.NoError(t, idx.SetCursor(ctx, hunt.Cursor{Mailbox: users[4], Fresh: now.Add(-3 * time.Hour)}))

	n := &hunt.Narrower{Index: idx, MaxAge: time.Hour, Now: func() time.Time { return now.Add(time.Minute) }}
	ls, err := n.Locate(ctx, c, users)
	require.NoError(t, err)
	exact := map[string]int{}
	for _, l := range ls {
		exact[l.Mailbox] = len(l.Copies)
	}
	assert.Equal(t, map[string]int{users[1]: 1, users[2]: 1, users[3]: 1, users[4]: 0, users[5]: 0}, exact)

	src := &callCounter{Tenant: ten, search: map[string]int{}, copies: map[string]int{}}
	e, err := remediation.New(src, nil, journal.NewMemory(), &remediation.Options{Narrower: n})
	require.NoError(t, err)
	got, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &c}})
	require.NoError(t, err)
	assert.Equal(t, want.Counts, got.Counts)
	assert.Equal(t, wantLeft, left(ten, users), "exactly what the scan leaves")
	src.mu.Lock()
	defer src.mu.Unlock()
	assert.ElementsMatch(t, []string{users[1], users[2], users[3]}, slices.Collect(maps.Keys(src.copies)), "the indexed copies are matched alone")
	assert.ElementsMatch(t, []string{users[2], users[4], users[5]}, slices.Collect(maps.Keys(src.search)),
		"searched: where a copy moved, the stale mailbox, the one with a pending copy")
}
