package hunt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// openIndex opens a SQLite index in the test's temporary directory.
func openIndex(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "index.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// rawMessage returns a message with a link and an attachment.
func rawMessage(i int, from, to, subject, link string) []byte {
	return fmt.Appendf(nil, "Message-ID: <m%d@sender.example>\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 2 Nov 2026 10:%02d:00 +0000\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nPlease see %s now.\r\n"+
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\nattachment %d of the crawler test, with enough bytes to digest\r\n--b--\r\n",
		i, from, to, subject, i%60, link, i%3, i%3)
}

// tenant returns a mock tenant with users, each holding n messages.
func tenant(t testing.TB, users, n int) (*mock.Tenant, []string) {
	t.Helper()
	ten := mock.New(nil)
	var names []string
	for u := range users {
		name := fmt.Sprintf("user%02d@corp.example", u)
		require.NoError(t, ten.AddUser(name))
		names = append(names, name)
	}
	ctx := context.Background()
	for i := range n {
		for _, u := range names {
			from := "news@good.example"
			link := fmt.Sprintf("https://good.example/n/%d", i)
			if i%10 == 0 {
				from, link = "attacker@evil.example", "https://evil.example/login"
			}
			_, err := ten.Deliver(ctx, rawMessage(i, from, u, fmt.Sprintf("note %d", i), link), &mock.DeliverOptions{Recipients: []string{u}, EnvelopeFrom: from})
			require.NoError(t, err)
		}
	}
	return ten, names
}

// requireSameAsStore checks that hunts from the index return exactly the
// copies a search of the store returns.
func requireSameAsStore(t *testing.T, src mailbox.Store, idx hunt.Store, users []string, cs ...mailbox.Criteria) {
	t.Helper()
	ctx := t.Context()
	for _, c := range cs {
		var want []mailbox.Address
		for _, u := range users {
			for m, err := range src.Search(ctx, u, c) {
				require.NoError(t, err)
				want = append(want, m.Address)
			}
		}
		var got []mailbox.Address
		for cp, err := range idx.Copies(ctx, hunt.Query{Criteria: &c}) {
			require.NoError(t, err)
			got = append(got, cp.Address)
		}
		key := func(a mailbox.Address) string { return a.String() }
		slices.SortFunc(want, func(a, b mailbox.Address) int { return strings.Compare(key(a), key(b)) })
		slices.SortFunc(got, func(a, b mailbox.Address) int { return strings.Compare(key(a), key(b)) })
		require.Equal(t, want, got, "criteria %+v: the index and the store disagree", c)
	}
}

var huntCriteria = []mailbox.Criteria{
	{SenderDomains: []string{"evil.example"}},
	{URLs: []string{"https://evil.example/login"}},
	{Subject: "note 1"},
	{MessageIDs: []string{"m3@sender.example"}},
	{Senders: []string{"news@good.example"}, Roles: []mailbox.Role{mailbox.RoleJunk}},
}

// storeOnly hides every capability of a store beyond mailbox.Store.
type storeOnly struct{ mailbox.Store }

func TestCrawlerBackfillAndIncremental(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*mock.Tenant) mailbox.Store
	}{
		{"FolderStatus", func(m *mock.Tenant) mailbox.Store { return m }},
		{"StoreOnly", func(m *mock.Tenant) mailbox.Store { return storeOnly{m} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			ten, users := tenant(t, 5, 30)
			src := tc.wrap(ten)
			idx := openIndex(t)
			cr := hunt.NewCrawler(src, idx, nil)

			st, err := cr.Crawl(ctx)
			require.NoError(t, err)
			assert.Equal(t, CrawlCounts{Mailboxes: 5, Listed: 150, Fetched: 150}, counts(st))
			requireSameAsStore(t, src, idx, users, huntCriteria...)
			for _, u := range users {
				c, err := idx.Cursor(ctx, u)
				require.NoError(t, err)
				assert.False(t, c.Fresh.IsZero(), "%s is fresh after its crawl", u)
			}

			// Nothing changed: nothing is fetched, and with folder states
			// nothing is even listed.
			st, err = cr.Crawl(ctx)
			require.NoError(t, err)
			if _, ok := src.(mailbox.FolderStater); ok {
				assert.Equal(t, CrawlCounts{Mailboxes: 5, Unchanged: 5}, counts(st))
			} else {
				assert.Equal(t, CrawlCounts{Mailboxes: 5, Listed: 150}, counts(st))
			}

			// New mail in one mailbox is all that is read.
			_, err = ten.Deliver(ctx, rawMessage(1000, "attacker@evil.example", users[2], "late", "https://evil.example/login"), &mock.DeliverOptions{Recipients: []string{users[2]}})
			require.NoError(t, err)
			st, err = cr.Crawl(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, st.Fetched)
			if _, ok := src.(mailbox.FolderStater); ok {
				assert.Equal(t, CrawlCounts{Mailboxes: 5, Unchanged: 4, Listed: 31, Fetched: 1}, counts(st))
			}
			requireSameAsStore(t, src, idx, users, huntCriteria...)
		})
	}
}

// CrawlCounts are the counts of CrawlStats a test compares.
type CrawlCounts struct{ Mailboxes, Unchanged, Listed, Fetched, Moved, Removed int }

func counts(s hunt.CrawlStats) CrawlCounts {
	return CrawlCounts{s.Mailboxes, s.Unchanged, s.Listed, s.Fetched, s.Moved, s.Removed}
}

// TestCrawlerMovedMessageFollows: a user moves a message to another
// folder between crawls, and deletes another; the index follows the
// first (same copy, new location, delivery folder and history kept) and
// marks the second removed.
func TestCrawlerMovedMessageFollows(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 2, 10)
	require.NoError(t, ten.CreateFolder(users[0], "Projects"))
	idx := openIndex(t)
	cr := hunt.NewCrawler(ten, idx, nil)
	_, err := cr.Crawl(ctx)
	require.NoError(t, err)

	copies := func(id string) []hunt.Copy {
		var out []hunt.Copy
		for cp, err := range idx.Copies(ctx, hunt.Query{Criteria: &mailbox.Criteria{MessageIDs: []string{id}}, Mailboxes: []string{users[0]}, Removed: true}) {
			require.NoError(t, err)
			out = append(out, cp)
		}
		return out
	}
	before := copies("m4@sender.example")
	require.Len(t, before, 1)
	require.NoError(t, idx.Annotate(ctx, []hunt.Annotation{{Kind: hunt.AnnotateCluster, Address: before[0].Address, NetworkID: before[0].Message.NetworkID, Name: "cluster-7"}}))
	gone := copies("m5@sender.example")
	require.Len(t, gone, 1)

	moved, err := ten.Move(ctx, []mailbox.Address{before[0].Address}, mailbox.InFolder("Projects"))
	require.NoError(t, err)
	require.NoError(t, moved[0].Err)
	errs, err := ten.Expunge(ctx, []mailbox.Address{gone[0].Address})
	require.NoError(t, err)
	require.NoError(t, errs[0])

	st, err := cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, CrawlCounts{Mailboxes: 2, Unchanged: 1, Listed: 9, Moved: 1, Removed: 1}, counts(st), "a move is followed, not read again")

	after := copies("m4@sender.example")
	require.Len(t, after, 1, "still one copy")
	assert.Equal(t, moved[0].To, after[0].Address, "the index follows the copy")
	assert.Equal(t, "INBOX", after[0].DeliveredFolder, "the delivery folder stays")
	assert.Equal(t, before[0].Message.NetworkID, after[0].Message.NetworkID)
	ent, err := idx.Entity(ctx, after[0].Message.NetworkID)
	require.NoError(t, err)
	require.Len(t, ent.Annotations, 1, "the copy's history moved with it")

	removed := copies("m5@sender.example")
	require.Len(t, removed, 1)
	assert.False(t, removed[0].Removed.IsZero(), "an expunged copy is marked removed")
	requireSameAsStore(t, ten, idx, users, huntCriteria...)
}

// TestCrawlerUIDValidityChange: a folder renumbered by the server is read
// as moves, not as new mail.
func TestCrawlerUIDValidityChange(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 1, 8)
	idx := openIndex(t)
	cr := hunt.NewCrawler(ten, idx, nil)
	_, err := cr.Crawl(ctx)
	require.NoError(t, err)
	require.NoError(t, ten.ResetUIDValidity(users[0], "INBOX"))
	st, err := cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, CrawlCounts{Mailboxes: 1, Listed: 8, Moved: 8}, counts(st))
	requireSameAsStore(t, ten, idx, users, huntCriteria...)
}

// TestCrawlerFetchFailureRetried: a copy that cannot be read leaves the
// mailbox not fresh, and the next crawl reads it.
func TestCrawlerFetchFailureRetried(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 1, 5)
	idx := openIndex(t)
	cr := hunt.NewCrawler(ten, idx, nil)
	ten.FailNth(6, errors.New("disk on fire")) // Mailboxes, FolderStatus, Search, then the third Fetch
	st, err := cr.Crawl(ctx)
	require.ErrorContains(t, err, "disk on fire")
	assert.Equal(t, 4, st.Fetched)
	c, err := idx.Cursor(ctx, users[0])
	require.NoError(t, err)
	assert.True(t, c.Fresh.IsZero(), "a mailbox crawled with errors is not fresh")
	st, err = cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Fetched, "the copy that failed is read by the next crawl")
	requireSameAsStore(t, ten, idx, users, huntCriteria...)
}

// TestDeliveryFeedAndCrawlerAgree: copies indexed at delivery (the tap's
// feed) are not read again by the crawler: both feeds give the same
// network id.
func TestDeliveryFeedAndCrawlerAgree(t *testing.T) {
	ctx := t.Context()
	ten := mock.New(nil)
	users := []string{"a@corp.example", "b@corp.example"}
	for _, u := range users {
		require.NoError(t, ten.AddUser(u))
	}
	idx := openIndex(t)
	ix := hunt.StoreIndexer(idx)
	var feedErr error
	ten.OnDeliver(func(ctx context.Context, addr mailbox.Address, p *mailbox.Parsed) {
		feedErr = errors.Join(feedErr, ix.Index(ctx, addr, mailbox.RoleInbox, p))
	})
	for i := range 6 {
		_, err := ten.Deliver(ctx, rawMessage(i, "x@evil.example", strings.Join(users, ", "), "hello", "https://evil.example/x"), &mock.DeliverOptions{EnvelopeFrom: "bounce@evil.example"})
		require.NoError(t, err)
	}
	require.NoError(t, feedErr)
	st, err := hunt.NewCrawler(ten, idx, nil).Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, CrawlCounts{Mailboxes: 2, Listed: 12}, counts(st), "nothing read twice")
	var ids []string
	for cp, err := range idx.Copies(ctx, hunt.Query{Criteria: &mailbox.Criteria{Senders: []string{"bounce@evil.example"}}}) {
		require.NoError(t, err)
		ids = append(ids, cp.Message.NetworkID)
	}
	require.Len(t, ids, 12, "the envelope sender of the delivery is indexed")
	slices.Sort(ids)
	assert.Len(t, slices.Compact(ids), 6, "one network id per message, shared by its copies")
}

// TestCrawlerRetention: a copy that left its mailbox more than the
// retention ago is expired; copies still in the mailbox stay indexed
// however old, so that a narrowed selection still finds them.
func TestCrawlerRetention(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 1, 4)
	idx := openIndex(t)
	now := time.Now()
	cr := hunt.NewCrawler(ten, idx, &hunt.CrawlerOptions{Now: func() time.Time { return now }, Retention: time.Hour})
	_, err := cr.Crawl(ctx)
	require.NoError(t, err)
	var first []mailbox.Message
	for m, err := range ten.Search(ctx, users[0], mailbox.Criteria{Recipients: users}) {
		require.NoError(t, err)
		first = append(first, m)
	}
	require.Len(t, first, 4)
	errs, err := ten.Expunge(ctx, []mailbox.Address{first[0].Address})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	now = now.Add(time.Minute)
	st, err := cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Removed)
	assert.Zero(t, st.Expired, "removed less than the retention ago")

	now = now.Add(2 * time.Hour)
	_, err = ten.Deliver(ctx, rawMessage(99, "a@b.example", users[0], "new", "https://b.example/"), &mock.DeliverOptions{Recipients: users})
	require.NoError(t, err)
	st, err = cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), st.Expired, "the copy removed more than the retention ago is expired")
	var present []mailbox.Address
	for cp, err := range idx.Copies(ctx, hunt.Query{Mailboxes: users, Removed: true}) {
		require.NoError(t, err)
		assert.True(t, cp.Removed.IsZero())
		present = append(present, cp.Address)
	}
	assert.Len(t, present, 4, "the three old copies still in the mailbox and the new one")
	assert.NotContains(t, present, first[0].Address)
}
