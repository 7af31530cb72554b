package hunt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

func TestNarrowerMailboxes(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 6, 5)
	// The campaign reaches users 1 and 4 only.
	deliverCampaign(t, ten, 500, users[1], users[4])
	idx := openIndex(t)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	cr := hunt.NewCrawler(ten, idx, &hunt.CrawlerOptions{Now: func() time.Time { return now }, Retention: -1})
	_, err := cr.Crawl(ctx, users[:5]...) // users[5] is never crawled
	require.NoError(t, err)
	require.NoError(t, idx.SetCursor(ctx, hunt.Cursor{Mailbox: users[3], Fresh: now.Add(-2 * time.Hour)})) // stale
	c := mailbox.Criteria{SenderDomains: []string{"evil-campaign.example"}}

	n := &hunt.Narrower{Index: idx, MaxAge: time.Hour, Now: func() time.Time { return now.Add(10 * time.Minute) }}
	got, err := n.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	assert.Equal(t, []string{users[1], users[3], users[4], users[5]}, got,
		"the mailboxes holding copies, the stale one and the one never crawled")

	got, err = n.Mailboxes(ctx, mailbox.Criteria{MessageIDs: []string{"nothing@nowhere.example"}}, users[:3])
	require.NoError(t, err)
	assert.Empty(t, got, "fresh mailboxes without a copy are not searched")

	n.MaxAge = 0
	got, err = n.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	assert.Equal(t, users, got, "with no MaxAge every mailbox is searched")

	// Whatever the narrower names, searching those mailboxes finds every
	// copy a search of all of them finds.
	n.MaxAge = time.Hour
	got, err = n.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	requireSameCopies(t, ten, c, users, got)

	// A user moves a copy to Junk after the crawl: a selection of the
	// campaign in Junk still searches that mailbox.
	var moved []mailbox.Address
	for m, err := range ten.Search(ctx, users[1], c) {
		require.NoError(t, err)
		moved = append(moved, m.Address)
	}
	require.Len(t, moved, 1)
	_, err = ten.Move(ctx, moved, mailbox.In(mailbox.RoleJunk))
	require.NoError(t, err)
	inJunk := mailbox.Criteria{SenderDomains: c.SenderDomains, Roles: []mailbox.Role{mailbox.RoleJunk}}
	got, err = n.Mailboxes(ctx, inJunk, users[:3])
	require.NoError(t, err)
	assert.Equal(t, []string{users[1]}, got, "the index still places the copy in INBOX")
	requireSameCopies(t, ten, inJunk, users, append(got, users[3:]...))
}

// requireSameCopies checks that searching some mailboxes finds every copy
// that searching all finds.
func requireSameCopies(t *testing.T, src mailbox.Store, c mailbox.Criteria, all, some []string) {
	t.Helper()
	search := func(mbs []string) []mailbox.Address {
		var out []mailbox.Address
		for _, mb := range mbs {
			for m, err := range src.Search(t.Context(), mb, c) {
				require.NoError(t, err)
				out = append(out, m.Address)
			}
		}
		return out
	}
	want := search(all)
	require.NotEmpty(t, want)
	assert.Equal(t, want, search(some))
}

// failingStater fails to read the folder states of one mailbox.
type failingStater struct {
	mailbox.FolderStater
	fail string
}

func (f failingStater) FolderStatus(ctx context.Context, mb string) ([]mailbox.FolderStatus, error) {
	if mb == f.fail {
		return nil, errors.New("status refused")
	}
	return f.FolderStater.FolderStatus(ctx, mb)
}

// TestNarrowerFolderStates: mailboxes crawled longer ago than MaxAge are
// not searched when their folders are exactly as the crawl saw them; one
// that received mail, or where a user moved a message, since, or whose
// state cannot be read, or that was never crawled, is.
func TestNarrowerFolderStates(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 6, 5)
	deliverCampaign(t, ten, 500, users[1], users[4])
	idx := openIndex(t)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	_, err := hunt.NewCrawler(ten, idx, &hunt.CrawlerOptions{Now: func() time.Time { return now }, Retention: -1}).Crawl(ctx, users[:5]...)
	require.NoError(t, err)
	c := mailbox.Criteria{SenderDomains: []string{"evil-campaign.example"}}
	later := func() time.Time { return now.Add(3 * time.Hour) } // every crawl is older than MaxAge

	byAge := &hunt.Narrower{Index: idx, MaxAge: time.Hour, Now: later}
	got, err := byAge.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	assert.Equal(t, users, got, "without folder states, every stale mailbox is searched")

	n := &hunt.Narrower{Index: idx, MaxAge: time.Hour, Now: later, Stater: ten}
	got, err = n.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	assert.Equal(t, []string{users[1], users[4], users[5]}, got, "unchanged mailboxes are fresh; users[5] was never crawled")
	n.MaxAge = 0
	got, err = n.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	assert.Equal(t, []string{users[1], users[4], users[5]}, got, "with no MaxAge, the folder states alone vouch")
	n.MaxAge = time.Hour

	// New mail since the crawl (not in the index), and a user's move.
	deliverCampaign(t, ten, 501, users[2])
	var some []mailbox.Address
	for m, err := range ten.Search(ctx, users[3], mailbox.Criteria{SenderDomains: []string{"good.example"}}) {
		require.NoError(t, err)
		some = append(some, m.Address)
		break
	}
	_, err = ten.Move(ctx, some, mailbox.In(mailbox.RoleJunk))
	require.NoError(t, err)
	got, err = n.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	assert.Equal(t, []string{users[1], users[2], users[3], users[4], users[5]}, got, "changed mailboxes are searched")
	requireSameCopies(t, ten, c, users, got)

	n.Stater = failingStater{FolderStater: ten, fail: users[0]}
	got, err = n.Mailboxes(ctx, c, users)
	require.NoError(t, err)
	assert.Contains(t, got, users[0], "a mailbox whose state cannot be read is searched")
}

// deliverCampaign delivers message i of the payroll campaign (its link
// https://evil-campaign.example/x) to each of users.
func deliverCampaign(t *testing.T, ten *mock.Tenant, i int, users ...string) {
	t.Helper()
	for _, u := range users {
		_, err := ten.Deliver(t.Context(), rawMessage(i, "payroll@evil-campaign.example", u, "payroll", "https://evil-campaign.example/x"), &mock.DeliverOptions{Recipients: []string{u}})
		require.NoError(t, err)
	}
}
