package tap_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/internal/testenv/corpus"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/tap"
)

// benchMessages returns up to max real messages of the corpus (ham and
// phishing) with CRLF line endings, each at most 2 MiB.
func benchMessages(b *testing.B, max int) [][]byte {
	b.Helper()
	dir := corpus.Dir(b)
	var out [][]byte
	for _, sub := range []string{"ham", "phishing"} {
		_ = filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || len(out) >= max || strings.HasSuffix(path, ".tsv") || strings.HasSuffix(path, ".json") {
				return nil
			}
			raw, err := os.ReadFile(path)
			if err != nil || len(raw) == 0 || len(raw) > 2<<20 {
				return nil
			}
			raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
			out = append(out, raw)
			return nil
		})
	}
	if len(out) == 0 {
		b.Skip("no corpus messages")
	}
	return out
}

// lmtpClient is one benchmark connection.
type lmtpClient struct{ c *smtp.Client }

func dialLMTP(b *testing.B, addr string) *lmtpClient {
	b.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	if err := c.Hello("bench.test"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return &lmtpClient{c}
}

func (l *lmtpClient) send(from, rcpt string, raw []byte) error {
	res, err := sendOn(l.c, from, []string{rcpt}, raw)
	if err != nil {
		return err
	}
	if e := res[rcpt]; e != nil {
		return e
	}
	return nil
}

// BenchmarkTap delivers the same real messages into a real Dovecot's
// LMTP straight and through the tap, alternating in rounds within one
// run, with 100 detection rules and the cluster index in the tap. It
// reports both throughputs, their ratio (tap/straight), and the latency
// the tap adds to a message (its time through the tap less its time
// straight, the same message sent by the same worker in the same round)
// at the 50th and 99th percentile. Wall figures follow the machine's
// load; tap-cpu-ms/msg much less: the process's CPU time per message
// through the tap less that per message straight, which is the tap's own
// cost (the client is the same in both).
func BenchmarkTap(b *testing.B) {
	const workers = 4
	msgs := benchMessages(b, 400)
	users := map[string]string{}
	var rcpts []string
	for i := 0; i < workers; i++ {
		u := fmt.Sprintf("bench%d@corp.test", i)
		users[u] = "pw"
		rcpts = append(rcpts, u)
	}
	dove := dovecot.Start(b, &dovecot.Options{Users: users, LMTP: true, LMTPConfig: func(port int) string {
		return sampleConfig(b, sampleDovecot, "port = 24", fmt.Sprintf("port = %d", port))
	}})
	down := tap.NewLMTP("tcp", dove.LMTPAddr, nil)
	b.Cleanup(func() { _ = down.Close() })
	dec, n := hundredRules(b)
	_, tapAddr := startTap(b, tap.Options{Downstream: down, Decider: dec, Indexers: []tap.Indexer{tap.ClusterIndexer(cluster.New(nil))}})
	if n != 100 {
		b.Fatalf("%d rules, want 100", n)
	}

	straight := make([]*lmtpClient, workers)
	through := make([]*lmtpClient, workers)
	for w := range workers {
		straight[w] = dialLMTP(b, dove.LMTPAddr)
		through[w] = dialLMTP(b, tapAddr)
	}
	var (
		straightWall, tapWall time.Duration
		straightCPU, tapCPU   float64
		added                 []time.Duration
	)
	// phase sends one message per worker over clients at once; it returns
	// the wall time and each message's latency.
	phase := func(clients []*lmtpClient, round int) (time.Duration, []time.Duration) {
		var wg sync.WaitGroup
		errs := make([]error, workers)
		took := make([]time.Duration, workers)
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				raw := msgs[(round*workers+w)%len(msgs)]
				t0 := time.Now()
				errs[w] = clients[w].send("sender@bench.test", rcpts[w], raw)
				took[w] = time.Since(t0)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), took
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate which path goes first, so that neither always finds
		// Dovecot warmer.
		var sw, tw time.Duration
		var sLat, tLat []time.Duration
		runStraight := func() {
			c0 := cpuSeconds()
			sw, sLat = phase(straight, i)
			straightCPU += cpuSeconds() - c0
		}
		runTap := func() {
			c0 := cpuSeconds()
			tw, tLat = phase(through, i)
			tapCPU += cpuSeconds() - c0
		}
		if i%2 == 0 {
			runStraight()
			runTap()
		} else {
			runTap()
			runStraight()
		}
		straightWall += sw
		tapWall += tw
		// The same message, the same worker: what the tap added.
		for w := range workers {
			added = append(added, tLat[w]-sLat[w])
		}
	}
	b.StopTimer()
	count := float64(b.N * workers)
	sMps := count / straightWall.Seconds()
	tMps := count / tapWall.Seconds()
	b.ReportMetric(sMps, "straight-msg/s")
	b.ReportMetric(tMps, "tap-msg/s")
	b.ReportMetric(tMps/sMps, "tap/straight")
	b.ReportMetric((tapCPU-straightCPU)*1000/count, "tap-cpu-ms/msg")
	if len(added) > 0 {
		sort.Slice(added, func(i, j int) bool { return added[i] < added[j] })
		q := func(p float64) float64 {
			return float64(added[min(len(added)-1, int(p*float64(len(added))))]) / float64(time.Millisecond)
		}
		b.ReportMetric(q(0.50), "p50-added-ms")
		b.ReportMetric(q(0.99), "p99-added-ms")
	}
	b.ReportMetric(0, "ns/op")
}
