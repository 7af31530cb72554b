package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/internal/testenv/cputime"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// restartIndicators returns the indicators of synthetic message i: one
// in five of a campaign (shared URL template, subject and sender), the
// rest ordinary mail with footer links, one in ten with a file.
func restartIndicators(r *rand.Rand, i int) (*cluster.Indicators, mailbox.Address) {
	dom := fmt.Sprintf("d%d.example", r.IntN(50_000))
	ind := &cluster.Indicators{
		MessageID: fmt.Sprintf("%d.%x@mta.example", i, r.Uint32()),
		Subject:   fmt.Sprintf("Weekly report %d for team %d", r.IntN(1000), r.IntN(100)),
		From:      "news@" + dom, FromDomain: dom, EnvelopeDomain: dom,
		Date:     time.Unix(1_790_000_000+int64(i), 0),
		SenderIP: netip.AddrFrom4([4]byte{byte(1 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), 25}),
		Body:     r.Uint64(),
	}
	if i%5 == 0 {
		c := r.IntN(2000)
		ind.Subject = fmt.Sprintf("Action required: invoice for account %d", c)
		tok := r.Uint64()
		ind.URLs = append(ind.URLs, cluster.URL{Canonical: fmt.Sprintf("https://login-%d.bad.example/verify/%x", c, tok),
			Host: fmt.Sprintf("login-%d.bad.example", c), Domain: "bad.example",
			HostPath: fmt.Sprintf("login-%d.bad.example/verify/%x", c, tok), Template: fmt.Sprintf("login-%d.bad.example/verify/{hex}", c)})
	}
	for range 1 + r.IntN(3) {
		k := r.IntN(2000)
		ind.URLs = append(ind.URLs, cluster.URL{Canonical: fmt.Sprintf("https://cdn%d.social.example/f/%d", k%50, k),
			Host: fmt.Sprintf("cdn%d.social.example", k%50), Domain: "social.example", HostPath: fmt.Sprintf("cdn%d.social.example/f/%d", k%50, k)})
	}
	if i%10 == 0 {
		var b [35]byte
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		ind.Files = append(ind.Files, cluster.File{Name: "report.pdf", MediaType: "application/pdf", Size: 40_000,
			SHA256: fmt.Sprintf("%016x%016x%032x", r.Uint64(), r.Uint64(), 0), TLSH: fmt.Sprintf("T1%070X", b)})
	}
	addr := mailbox.Address{Mailbox: fmt.Sprintf("user%d@corp.example", r.IntN(10_000)), Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1)}
	return ind, addr
}

// BenchmarkClusterRestart measures what a restart of a cluster index kept
// in a SQLite file costs: n synthetic messages (1,000,000; lower it with
// ERADICATE_HUNT_BENCH_MESSAGES) are added through cluster.Open and
// flushed every 1,000, the store is closed, then each iteration opens the
// file and rebuilds the index with cluster.Open. It reports the seconds
// and CPU seconds of one restart, messages per second rebuilt, the log's
// bytes per message in the file, and the rate the log was written at.
func BenchmarkClusterRestart(b *testing.B) {
	n := benchSize()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "index.db")
	s, err := sqlstore.OpenSQLite(ctx, path, nil)
	require.NoError(b, err)
	x, err := cluster.Open(ctx, s, &cluster.Options{SizeHint: n})
	require.NoError(b, err)
	r := rand.New(rand.NewPCG(3, 4))
	t0 := time.Now()
	for i := range n {
		ind, addr := restartIndicators(r, i)
		x.Add(ind, addr)
		if i%1000 == 999 {
			require.NoError(b, x.Flush(ctx))
		}
	}
	require.NoError(b, x.Flush(ctx))
	writeRate := float64(n) / time.Since(t0).Seconds()
	want := len(x.Clusters(cluster.KindCampaign))
	x = nil
	require.NoError(b, s.Close())
	st, err := os.Stat(path)
	require.NoError(b, err)
	runtime.GC()

	var elapsed, cpu time.Duration
	b.ResetTimer()
	for range b.N {
		c0, _ := cputime.Process()
		t1 := time.Now()
		s, err := sqlstore.OpenSQLite(ctx, path, nil)
		require.NoError(b, err)
		y, err := cluster.Open(ctx, s, &cluster.Options{SizeHint: n})
		require.NoError(b, err)
		elapsed += time.Since(t1)
		c1, _ := cputime.Process()
		cpu += c1 - c0
		b.StopTimer()
		require.Equal(b, n, y.Len())
		require.Equal(b, want, len(y.Clusters(cluster.KindCampaign)), "the same clusters after the restart")
		require.NoError(b, s.Close())
		y = nil
		runtime.GC()
		b.StartTimer()
	}
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/restart")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/restart")
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(st.Size())/float64(n), "file-B/msg")
	b.ReportMetric(writeRate, "write-msgs/s")
}
