package imapstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// BenchmarkDovecotMessageIDThreshold measures where matching Message-IDs
// on the client starts to pay ([imapstore.Config.ClientMatchMessageIDs]):
// for each number of ids, a search of 20 mailboxes of 2,000 messages (8
// at once) with the ids sent to Dovecot as an OR of HEADER keys
// (server_s, server_cpu_s) and with every folder's Message-IDs fetched
// and matched in a hash set (client_s, client_cpu_s); cpu is this process
// and Dovecot together. client_vs_server is client_cpu_s / server_cpu_s:
// the default threshold is the smallest count where it is below 1.
//
// Run: go test -run '^$' -bench '^BenchmarkDovecotMessageIDThreshold$' -benchtime 3x ./mailbox/imapstore
func BenchmarkDovecotMessageIDThreshold(b *testing.B) {
	nMailboxes := envInt(b, "ERADICATE_BENCH_MAILBOXES", 20)
	nMessages := envInt(b, "ERADICATE_BENCH_MESSAGES", 2000)
	srv, owners := benchMailboxes(b, "ids", nMailboxes, nMessages, 9, backgroundMessage, nil)
	rng := rand.New(rand.NewPCG(9, 10))
	doveadm(b, srv, "search", "-A", "mailbox", "*", "header", "message-id", "warm-up@nowhere.invalid")
	stores := map[string]*imapstore.Store{
		"server": benchStore(b, srv, owners, func(c *imapstore.Config) { c.ClientMatchMessageIDs = -1 }),
		"client": benchStore(b, srv, owners, func(c *imapstore.Config) { c.ClientMatchMessageIDs = 1 }),
	}
	search := func(s *imapstore.Store, ids []string) (time.Duration, time.Duration) {
		self0, dc0 := srv.CPUUsed()
		start := time.Now()
		parallelOwners(b, owners, func(o string) int {
			for _, err := range s.Search(context.Background(), o, mailbox.Criteria{MessageIDs: ids}) {
				require.NoError(b, err)
			}
			return 0
		})
		wall := time.Since(start)
		self1, dc1 := srv.CPUUsed()
		return wall, self1 - self0 + dc1 - dc0
	}
	for _, n := range []int{10, 25, 50, 100, 200, 400} {
		b.Run(fmt.Sprintf("ids=%d", n), func(b *testing.B) {
			ids := make([]string, n)
			for k := range ids {
				ids[k] = fmt.Sprintf("absent-%d.%08x@evil.example", k, rng.Uint32())
			}
			var sw, sc, cw, cc time.Duration
			for range b.N {
				w, c := search(stores["server"], ids)
				sw, sc = sw+w, sc+c
				w, c = search(stores["client"], ids)
				cw, cc = cw+w, cc+c
			}
			k := float64(b.N)
			b.ReportMetric(sw.Seconds()/k, "server_s")
			b.ReportMetric(sc.Seconds()/k, "server_cpu_s")
			b.ReportMetric(cw.Seconds()/k, "client_s")
			b.ReportMetric(cc.Seconds()/k, "client_cpu_s")
			b.ReportMetric(cc.Seconds()/sc.Seconds(), "client_vs_server")
		})
	}
}
