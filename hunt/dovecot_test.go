package hunt_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// startDovecot starts a Dovecot with n users, each holding perUser messages
// written to their INBOX, and returns it with a store that reaches it.
func startDovecot(t testing.TB, n, perUser int) (*dovecot.Server, *imapstore.Store, []string) {
	t.Helper()
	users := map[string]string{}
	var owners []string
	for i := range n {
		name := fmt.Sprintf("crawl%03d@example.test", i)
		users[name] = "pw-" + name
		owners = append(owners, name)
	}
	srv := dovecot.Start(t, &dovecot.Options{Users: users})
	for _, o := range owners {
		raws := make([][]byte, perUser)
		for i := range raws {
			from, link := "news@good.example", fmt.Sprintf("https://good.example/n/%d", i)
			if i%10 == 0 {
				from, link = "attacker@evil.example", "https://evil.example/login"
			}
			raws[i] = rawMessage(i, from, o, fmt.Sprintf("note %d", i), link)
		}
		require.NoError(t, srv.WriteMaildir(o, "INBOX", raws))
	}
	_, err := srv.Doveadm(context.Background(), "force-resync", "-A", "*")
	require.NoError(t, err)
	store, err := imapstore.New(imapstore.Config{
		Addr:      srv.Addr,
		Security:  imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: srv.MasterUser, Password: imapstore.Password(srv.MasterPassword)},
		Mailboxes: owners,
		MaxConns:  16,
		Logger:    testlog.Logger(t, slog.LevelWarn),
	})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	return srv, store, owners
}

// TestCrawlerDovecotMovedMessageFollows: on a real Dovecot, a user moves a
// message to Junk and deletes another between crawls (with doveadm, as
// any mail client would through the server); the next crawl follows the
// moved copy without reading it again and marks the deleted one removed.
func TestCrawlerDovecotMovedMessageFollows(t *testing.T) {
	ctx := t.Context()
	srv, store, owners := startDovecot(t, 3, 20)
	idx := openIndex(t)
	cr := hunt.NewCrawler(store, idx, nil)

	st, err := cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, CrawlCounts{Mailboxes: 3, Listed: 60, Fetched: 60}, counts(st))
	requireSameAsStore(t, store, idx, owners, huntCriteria...)

	st, err = cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, CrawlCounts{Mailboxes: 3, Unchanged: 3}, counts(st), "STATUS shows nothing changed: nothing is listed")

	user := owners[1]
	before := indexCopies(t, idx, user, "m4@sender.example")
	require.Len(t, before, 1)
	_, err = srv.Doveadm(ctx, "move", "-u", user, "Junk", "mailbox", "INBOX", "header", "Message-ID", "<m4@sender.example>")
	require.NoError(t, err)
	_, err = srv.Doveadm(ctx, "expunge", "-u", user, "mailbox", "INBOX", "header", "Message-ID", "<m5@sender.example>")
	require.NoError(t, err)

	st, err = cr.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, CrawlCounts{Mailboxes: 3, Unchanged: 2, Listed: 19, Moved: 1, Removed: 1}, counts(st))
	after := indexCopies(t, idx, user, "m4@sender.example")
	require.Len(t, after, 1, "still one copy")
	assert.Equal(t, "Junk", after[0].Address.Folder, "the index follows the copy")
	assert.Equal(t, mailbox.RoleJunk, after[0].Role)
	assert.Equal(t, "INBOX", after[0].DeliveredFolder)
	assert.Equal(t, before[0].Message.NetworkID, after[0].Message.NetworkID)
	removed := indexCopies(t, idx, user, "m5@sender.example")
	require.Len(t, removed, 1)
	assert.False(t, removed[0].Removed.IsZero())
	requireSameAsStore(t, store, idx, owners, append(huntCriteria, mailbox.Criteria{Subject: "note", Roles: []mailbox.Role{mailbox.RoleJunk}})...)
}

// indexCopies returns the copies of a Message-ID the index holds in
// mailbox mb, removed ones included.
func indexCopies(t *testing.T, idx hunt.Store, mb, id string) []hunt.Copy {
	t.Helper()
	var out []hunt.Copy
	for cp, err := range idx.Copies(t.Context(), hunt.Query{Criteria: &mailbox.Criteria{MessageIDs: []string{id}}, Mailboxes: []string{mb}, Removed: true}) {
		require.NoError(t, err)
		out = append(out, cp)
	}
	return out
}

// BenchmarkCrawlerDovecot crawls a real Dovecot: the backfill of every
// mailbox (reported in messages/s), then passes over the same mailboxes
// with no new mail (reported in ms per pass, one pass per iteration).
// ERADICATE_CRAWL_BENCH_MAILBOXES (100) and ERADICATE_CRAWL_BENCH_MESSAGES
// (200 per mailbox) set the size.
//
// Run: go test -run '^$' -bench BenchmarkCrawlerDovecot -benchtime 20x ./hunt
func BenchmarkCrawlerDovecot(b *testing.B) {
	n := benchEnv(b, "ERADICATE_CRAWL_BENCH_MAILBOXES", 100)
	per := benchEnv(b, "ERADICATE_CRAWL_BENCH_MESSAGES", 200)
	_, store, owners := startDovecot(b, n, per)
	idx := openIndex(b)
	cr := hunt.NewCrawler(store, idx, &hunt.CrawlerOptions{Workers: 8})
	ctx := context.Background()
	t0 := time.Now()
	st, err := cr.Crawl(ctx)
	require.NoError(b, err)
	require.Equal(b, n*per, st.Fetched)
	backfill := time.Since(t0)
	for b.Loop() {
		st, err := cr.Crawl(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if st.Unchanged != len(owners) {
			b.Fatalf("%d of %d mailboxes unchanged", st.Unchanged, len(owners))
		}
	}
	b.ReportMetric(float64(n*per)/backfill.Seconds(), "backfill-msgs/s")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "idle-pass-ms")
	b.ReportMetric(0, "ns/op")
}

func benchEnv(b testing.TB, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, name)
		return n
	}
	return def
}

// TestNarrowerDovecotFolderStates: on a real Dovecot, a Narrower with
// the store's STATUS as its Stater trusts a mailbox whose folders hold
// what its last crawl saw, also after the user read its mail (which
// moves HIGHESTMODSEQ), and searches one that received mail since.
func TestNarrowerDovecotFolderStates(t *testing.T) {
	ctx := t.Context()
	srv, store, owners := startDovecot(t, 3, 10)
	idx := openIndex(t)
	_, err := hunt.NewCrawler(store, idx, nil).Crawl(ctx)
	require.NoError(t, err)
	late := mailbox.Criteria{MessageIDs: []string{"m900@sender.example"}}
	n := &hunt.Narrower{Index: idx, Stater: store} // MaxAge 0: the folder states alone vouch
	got, err := n.Mailboxes(ctx, late, owners)
	require.NoError(t, err)
	assert.Empty(t, got, "unchanged since the crawl")

	before, err := store.FolderStatus(ctx, owners[1])
	require.NoError(t, err)
	_, err = srv.Doveadm(ctx, "flags", "add", "-u", owners[1], `\Seen`, "mailbox", "INBOX", "all")
	require.NoError(t, err)
	after, err := store.FolderStatus(ctx, owners[1])
	require.NoError(t, err)
	require.NotEqual(t, before, after, "reading mail changes the folder's state")
	got, err = n.Mailboxes(ctx, late, owners)
	require.NoError(t, err)
	assert.Empty(t, got, "read mail is still where the index has it")

	require.NoError(t, srv.WriteMaildir(owners[2], "INBOX", [][]byte{rawMessage(900, "payroll@evil-campaign.example", owners[2], "payroll", "https://evil-campaign.example/x")}))
	_, err = srv.Doveadm(ctx, "force-resync", "-u", owners[2], "INBOX")
	require.NoError(t, err)
	got, err = n.Mailboxes(ctx, late, owners)
	require.NoError(t, err)
	assert.Equal(t, []string{owners[2]}, got, "new mail since the crawl: searched")
	requireSameCopies(t, store, late, owners, got)
}

// TestSearchCopiesDovecot: imapstore's SearchCopies matches criteria
// against given copies of a real Dovecot, applies the criteria's folders,
// and reports a copy gone, or a stale UIDVALIDITY, instead of matching.
func TestSearchCopiesDovecot(t *testing.T) {
	ctx := t.Context()
	srv, store, owners := startDovecot(t, 1, 20)
	o := owners[0]
	var evil, good, all []mailbox.Address
	for m, err := range store.Search(ctx, o, mailbox.Criteria{Recipients: []string{o}}) {
		require.NoError(t, err)
		all = append(all, m.Address)
		if m.From == "attacker@evil.example" {
			evil = append(evil, m.Address)
		} else {
			good = append(good, m.Address)
		}
	}
	require.Len(t, evil, 2)
	c := mailbox.Criteria{URLs: []string{"https://evil.example/login"}}
	got := func(c mailbox.Criteria, addrs []mailbox.Address) ([]mailbox.Address, error) {
		var out []mailbox.Address
		for m, err := range store.SearchCopies(ctx, o, c, addrs) {
			if err != nil {
				return out, err
			}
			out = append(out, m.Address)
		}
		return out, nil
	}
	found, err := got(c, all)
	require.NoError(t, err)
	assert.Equal(t, evil, found, "of every copy, those the criteria select")
	found, err = got(c, good)
	require.NoError(t, err)
	assert.Empty(t, found, "only the copies given are matched")
	found, err = got(mailbox.Criteria{URLs: c.URLs, Roles: []mailbox.Role{mailbox.RoleJunk}}, evil)
	require.NoError(t, err)
	assert.Empty(t, found, "the criteria's roles apply")

	stale := evil[0]
	stale.UIDValidity++
	_, err = got(c, []mailbox.Address{stale})
	require.ErrorIs(t, err, mailbox.ErrUIDValidity)
	_, err = srv.Doveadm(ctx, "expunge", "-u", o, "mailbox", "INBOX", "header", "Message-ID", "<m10@sender.example>")
	require.NoError(t, err)
	found, err = got(c, evil)
	require.ErrorIs(t, err, mailbox.ErrNotFound, "a copy is gone")
	assert.Empty(t, found, "nothing is yielded before the error")
}
