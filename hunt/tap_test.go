package hunt_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/tap"
)

// lmtpSend sends raw from from to rcpts over LMTP to addr; every
// recipient must be accepted.
func lmtpSend(t *testing.T, addr, from string, rcpts []string, raw []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	require.NoError(t, c.Hello("mta.test"))
	require.NoError(t, c.Mail(from, nil))
	for _, r := range rcpts {
		require.NoError(t, c.Rcpt(r, nil))
	}
	w, err := c.Data()
	require.NoError(t, err)
	_, err = w.Write(raw)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, c.Quit())
}

// TestTapFeedsIndex: a message through the delivery tap (to a real
// Dovecot over LMTP) is in the index before any crawl, as pending copies
// in its recipients' mailboxes: a hunt finds it, and a Narrower that
// trusts the mailboxes' last crawl still names them, so that an action
// finds the copies on the server. The next crawl fills in each copy's
// folder and UID, once.
func TestTapFeedsIndex(t *testing.T) {
	ctx := t.Context()
	// Dovecot's LMTP takes the local part of an address as the user,
	// which the tap names as the mailbox owner.
	users := []string{"tap0", "tap1", "tap2"}
	pw := map[string]string{}
	for _, u := range users {
		pw[u] = "pw-" + u
	}
	srv := dovecot.Start(t, &dovecot.Options{Users: pw, LMTP: true})
	store, err := imapstore.New(imapstore.Config{
		Addr:      srv.Addr,
		Security:  imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: srv.MasterUser, Password: imapstore.Password(srv.MasterPassword)},
		Mailboxes: users,
		Logger:    testlog.Logger(t, slog.LevelWarn),
	})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })

	idx := openIndex(t)
	crawler := hunt.NewCrawler(store, idx, &hunt.CrawlerOptions{Retention: -1})
	_, err = crawler.Crawl(ctx)
	require.NoError(t, err)

	lm := tap.NewLMTP("tcp", srv.LMTPAddr, nil)
	t.Cleanup(func() { _ = lm.Close() })
	// Under TempFail a message is delivered only once it is indexed.
	owner := func(rcpt string) (string, error) {
		addr, err := tap.BareAddress(rcpt)
		local, _, _ := strings.Cut(addr, "@")
		return local, err
	}
	ts, err := tap.New(tap.Options{Downstream: lm, Indexers: []tap.Indexer{tap.AnnounceIndexer(hunt.Pending{Index: idx})}, OnFailure: tap.TempFail, Owner: owner,
		Logger: testlog.Logger(t, slog.LevelWarn)})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- ts.Serve(l) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, ts.Shutdown(sctx))
		assert.NoError(t, <-served)
	})

	before := time.Now()
	lmtpSend(t, l.Addr().String(), "payroll@evil-campaign.example", []string{"tap0@example.test", "tap1@example.test"},
		rawMessage(900, "payroll@evil-campaign.example", "tap0@example.test, tap1@example.test", "payroll", "https://evil-campaign.example/x"))
	after := time.Now()

	byURL := mailbox.Criteria{URLs: []string{"https://evil-campaign.example/x"}}
	copies := func(removed bool) []hunt.Copy {
		var out []hunt.Copy
		for cp, err := range idx.Copies(ctx, hunt.Query{Criteria: &byURL, Removed: removed}) {
			require.NoError(t, err)
			out = append(out, cp)
		}
		return out
	}
	cps := copies(false)
	require.Len(t, cps, 2, "found by a hunt before any crawl")
	var mbs []string
	for _, cp := range cps {
		assert.True(t, cp.Pending(), "%s: pending", cp.Mailbox)
		assert.False(t, cp.Delivered.Before(before.Truncate(time.Second)) || cp.Delivered.After(after), "delivered at the tap's time: %v", cp.Delivered)
		mbs = append(mbs, cp.Mailbox)
	}
	assert.ElementsMatch(t, users[:2], mbs)

	// Every mailbox was crawled a moment ago: without the tap's copies the
	// Narrower would name none.
	n := &hunt.Narrower{Index: idx, MaxAge: time.Hour}
	got, err := n.Mailboxes(ctx, byURL, users)
	require.NoError(t, err)
	assert.Equal(t, users[:2], got, "the pending recipients' mailboxes are searched")
	e, err := remediation.New(store, nil, journal.NewMemory(), &remediation.Options{Narrower: n})
	require.NoError(t, err)
	p, err := e.DryRun(ctx, remediation.Selection{Criteria: &byURL})
	require.NoError(t, err)
	assert.EqualValues(t, 2, p.Total, "an action selected through the index finds the new mail")

	// The crawl fills the copies in, and adds none.
	st, err := crawler.Crawl(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Fetched)
	cps = copies(true)
	require.Len(t, cps, 2, "one row per copy")
	for _, cp := range cps {
		assert.False(t, cp.Pending(), "%s: filled in", cp.Mailbox)
		assert.True(t, cp.Removed.IsZero())
		assert.Equal(t, "INBOX", cp.Address.Folder)
		assert.Equal(t, "INBOX", cp.DeliveredFolder)
		assert.NotZero(t, cp.Address.UID)
		assert.NotZero(t, cp.Address.UIDValidity)
		assert.False(t, cp.Delivered.After(after), "the tap's delivery time is kept: %v", cp.Delivered)
	}
	_, err = crawler.Crawl(ctx)
	require.NoError(t, err)
	assert.Len(t, copies(true), 2, "a further crawl adds nothing")
}
