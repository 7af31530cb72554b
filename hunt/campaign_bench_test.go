package hunt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/internal/testenv/cputime"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// BenchmarkIndexedCampaign hard-deletes a campaign of 1,000 copies (one
// Message-ID per copy) that reached 50 of the mailboxes of a real Dovecot,
// three times per iteration: selected by today's scan of every mailbox;
// narrowed by the index to the mailboxes holding copies, each searched
// on the server by the criteria (hunt.Narrower as a plain
// remediation.Narrower); and located by the index (hunt.Narrower as a
// remediation.Locator: the criteria are matched on the server against
// the copies the index holds, by UID, without searching the folders).
// Each time the campaign is planted afresh and the index learns it by an
// incremental crawl (untimed, as the delivery tap or the background
// crawler would); after each delete the benchmark checks that exactly
// the mail that was there before the campaign is left, in every case.
// Wall time and this process's CPU time are reported per way.
//
// Default size: 1,000 mailboxes of 50 messages; the 500 messages
// per mailbox with ERADICATE_CAMPAIGN_BENCH_MESSAGES=500 (setup then
// takes long: the index is built by crawling every message).
//
// Run: go test -run '^$' -bench BenchmarkIndexedCampaign -benchtime 2x ./hunt
func BenchmarkIndexedCampaign(b *testing.B) {
	nMailboxes := benchEnv(b, "ERADICATE_CAMPAIGN_BENCH_MAILBOXES", 1000)
	nMessages := benchEnv(b, "ERADICATE_CAMPAIGN_BENCH_MESSAGES", 50)
	const campaignCopies, holders = 1000, 50
	require.GreaterOrEqual(b, nMailboxes, holders)

	setup := time.Now()
	srv, store, owners := startDovecot(b, nMailboxes, nMessages)
	ctx := context.Background()
	before := snapshot(b, store, owners)
	idx := openIndex(b)
	cr := hunt.NewCrawler(store, idx, &hunt.CrawlerOptions{Workers: 8, Retention: -1})
	st, err := cr.Crawl(ctx)
	require.NoError(b, err)
	require.Equal(b, nMailboxes*nMessages, st.Fetched)
	b.Logf("setup: %d mailboxes x %d messages, indexed in %s", nMailboxes, nMessages, time.Since(setup).Round(time.Second))

	scan, err := remediation.New(store, nil, journal.NewMemory(), &remediation.Options{Workers: 8})
	require.NoError(b, err)
	nar := &hunt.Narrower{Index: idx, MaxAge: time.Hour}
	narrowed, err := remediation.New(store, nil, journal.NewMemory(), &remediation.Options{Workers: 8,
		Narrower: mailboxesOnly{nar}})
	require.NoError(b, err)
	indexed, err := remediation.New(store, nil, journal.NewMemory(), &remediation.Options{Workers: 8, Narrower: nar})
	require.NoError(b, err)

	rng := rand.New(rand.NewPCG(7, 8))
	round := 0
	// run plants a campaign, lets the index learn it, and hard-deletes it
	// with e; it returns the wall and CPU time of the delete.
	run := func(e *remediation.Engine) (time.Duration, time.Duration) {
		round++
		domain := fmt.Sprintf("payroll-%d.evil-campaign.example", round)
		plantCampaign(b, srv, owners, rng, domain, campaignCopies, holders)
		st, err := cr.Crawl(ctx)
		require.NoError(b, err)
		require.Equal(b, campaignCopies, st.Fetched, "the crawl reads the campaign and nothing else")
		cpu0, _ := cputime.Process()
		start := time.Now()
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "bench@corp.example", Confirm: true,
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{domain}}}})
		d := time.Since(start)
		cpu1, _ := cputime.Process()
		require.NoError(b, err)
		require.EqualValues(b, campaignCopies, rec.Counts.Succeeded, "every copy purged")
		require.Equal(b, before, snapshot(b, store, owners), "exactly the mail from before the campaign is left")
		return d, cpu1 - cpu0
	}
	// A warm-up round of each, untimed, so that all measure a warm server.
	run(scan)
	run(narrowed)
	run(indexed)

	ways := []struct {
		name      string
		e         *remediation.Engine
		wall, cpu time.Duration
	}{{name: "scan", e: scan}, {name: "narrow", e: narrowed}, {name: "index", e: indexed}}
	b.ResetTimer()
	for range b.N {
		for i := range ways {
			w, c := run(ways[i].e)
			ways[i].wall += w
			ways[i].cpu += c
		}
	}
	b.StopTimer()
	n := float64(b.N)
	for _, w := range ways {
		b.ReportMetric(w.wall.Seconds()/n, w.name+"_s")
		b.ReportMetric(w.cpu.Seconds()/n, w.name+"_cpu_s")
	}
	b.ReportMetric(ways[0].wall.Seconds()/ways[2].wall.Seconds(), "speedup")
	b.ReportMetric(ways[0].wall.Seconds()/ways[1].wall.Seconds(), "speedup_narrow")
	b.ReportMetric(0, "ns/op")
}

// mailboxesOnly is a Narrower that only names mailboxes: the engine
// searches each on the server by the criteria.
type mailboxesOnly struct{ n *hunt.Narrower }

func (m mailboxesOnly) Mailboxes(ctx context.Context, c mailbox.Criteria, mbs []string) ([]string, error) {
	return m.n.Mailboxes(ctx, c, mbs)
}

// plantCampaign delivers copies messages from domain, each with its own
// Message-ID, spread over holders mailboxes picked at random, and lets
// Dovecot see them.
func plantCampaign(b testing.TB, srv *dovecot.Server, owners []string, rng *rand.Rand, domain string, copies, holders int) {
	b.Helper()
	picked := rng.Perm(len(owners))[:holders]
	for i, p := range picked {
		o := owners[p]
		var raws [][]byte
		for k := i; k < copies; k += holders {
			raws = append(raws, fmt.Appendf(nil, "Return-Path: <bounce@%s>\r\nFrom: Payroll <payroll@%s>\r\nTo: %s\r\n"+
				"Subject: Salary adjustment\r\nDate: Mon, 02 Nov 2026 08:00:00 +0000\r\nMessage-ID: <c%d.%08x@%s>\r\n"+
				"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nReview your salary at https://%s/hr\r\n",
				domain, domain, o, k, rng.Uint32(), domain, domain))
		}
		require.NoError(b, srv.WriteMaildir(o, "INBOX", raws))
	}
	_, err := srv.Doveadm(context.Background(), "force-resync", "-A", "INBOX")
	require.NoError(b, err)
}

// snapshot lists every copy of every mailbox as "mailbox folder
// Message-ID", sorted.
func snapshot(b *testing.B, store *imapstore.Store, owners []string) []string {
	b.Helper()
	var out []string
	for _, o := range owners {
		for m, err := range store.Search(context.Background(), o, mailbox.Criteria{Recipients: []string{o}}) {
			require.NoError(b, err)
			out = append(out, strings.Join([]string{o, m.Address.Folder, m.MessageID}, " "))
		}
	}
	slices.Sort(out)
	return out
}
