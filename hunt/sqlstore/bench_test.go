package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/internal/testenv/cputime"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// The index of BenchmarkIndexHunt: benchMessages messages in
// benchMailboxes mailboxes, one campaign among them. The size can be
// lowered with ERADICATE_HUNT_BENCH_MESSAGES for a quick run.
const (
	benchMessages  = 1_000_000
	benchMailboxes = 10_000
	campaignCopies = 1_000
	campaignID     = "campaign-1@evil-campaign.example"
	campaignDomain = "evil-campaign.example"
	campaignURL    = "https://evil-campaign.example/login?session=1"
)

var campaignSHA = fmt.Sprintf("%064x", 0xbadbad)

// benchDelivery returns the i-th copy of the benchmark's mail: ordinary
// mail from a few thousand domains with links from a large pool and, one
// in three, an attachment; copies i%k == 0 up to campaignCopies are the
// campaign's, one message to many mailboxes.
func benchDelivery(r *rand.Rand, i, mailboxes int, at time.Time) hunt.Delivery {
	mb := fmt.Sprintf("user%05d@corp.example", i%mailboxes)
	addr := mailbox.Address{Mailbox: mb, Folder: "INBOX", UIDValidity: 1, UID: uint32(i/mailboxes + 1)}
	dom := fmt.Sprintf("sender%04d.example", r.IntN(5000))
	m := hunt.Message{
		NetworkID:    fmt.Sprintf("00000000-0000-8000-8000-%012d", i),
		MessageID:    fmt.Sprintf("%d.%d@%s", i, r.Uint32(), dom),
		From:         "news@" + dom,
		EnvelopeFrom: "bounce@mail." + dom,
		Recipients:   []string{mb},
		Subject:      fmt.Sprintf("Newsletter %d of %s", i%97, dom),
		Date:         at,
		Size:         int64(2000 + r.IntN(80000)),
	}
	for range 1 + r.IntN(3) {
		m.URLs = append(m.URLs, fmt.Sprintf("https://www.%s/article/%d", dom, r.IntN(200)))
	}
	if r.IntN(3) == 0 {
		m.Attachments = []hunt.Attachment{{Name: "report.pdf", Type: "application/pdf", Size: 40000, SHA256: fmt.Sprintf("%064x", r.Uint64())}}
	}
	return hunt.Delivery{Address: addr, Role: mailbox.RoleInbox, At: at, Message: m}
}

// campaignDelivery is the campaign's copy in mailbox k.
func campaignDelivery(k, mailboxes int, at time.Time) hunt.Delivery {
	mb := fmt.Sprintf("user%05d@corp.example", k*(mailboxes/campaignCopies))
	return hunt.Delivery{
		Address: mailbox.Address{Mailbox: mb, Folder: "INBOX", UIDValidity: 1, UID: 1_000_000 + uint32(k)},
		Role:    mailbox.RoleInbox,
		At:      at,
		Message: hunt.Message{
			NetworkID: "00000000-0000-8000-8000-ca0000000001", MessageID: campaignID,
			From: "payroll@" + campaignDomain, EnvelopeFrom: "bounce@" + campaignDomain,
			Subject: "Your payroll update", Date: at, Size: 24000,
			URLs:        []string{campaignURL},
			Attachments: []hunt.Attachment{{Name: "payroll.html", Type: "text/html", Size: 3000, SHA256: campaignSHA}},
		},
	}
}

var benchIndex struct {
	once  sync.Once
	path  string
	n     int
	rate  float64 // messages/s while building
	bytes int64
	err   error
}

// TestMain removes the benchmark index after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchIndex.path != "" {
		os.RemoveAll(filepath.Dir(benchIndex.path))
	}
	os.Exit(code)
}

func benchSize() int {
	if s := os.Getenv("ERADICATE_HUNT_BENCH_MESSAGES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= campaignCopies*10 {
			return n
		}
	}
	return benchMessages
}

// fillIndex ingests the benchmark's n messages into s, the campaign's
// copies spread among them, in batches of 1,000.
func fillIndex(ctx context.Context, s hunt.Store, n int) error {
	r := rand.New(rand.NewPCG(1, 2))
	mailboxes := min(benchMailboxes, n/100)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]hunt.Delivery, 0, 1000)
	every := (n - campaignCopies) / campaignCopies
	k := 0
	for i := 0; i < n-campaignCopies; i++ {
		batch = append(batch, benchDelivery(r, i, mailboxes, at.Add(time.Duration(i)*time.Second)))
		if i%every == 0 && k < campaignCopies {
			batch = append(batch, campaignDelivery(k, mailboxes, at.Add(time.Duration(i)*time.Second)))
			k++
		}
		if len(batch) >= 1000 {
			if err := s.Ingest(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	for ; k < campaignCopies; k++ {
		batch = append(batch, campaignDelivery(k, mailboxes, at))
	}
	return s.Ingest(ctx, batch)
}

// buildBenchIndex builds the benchmark index once per test binary run.
func buildBenchIndex(b *testing.B) (path string, n int, rate float64, size int64) {
	bi := &benchIndex
	bi.once.Do(func() {
		dir, err := os.MkdirTemp("", "hunt-bench-")
		if err != nil {
			bi.err = err
			return
		}
		bi.path = filepath.Join(dir, "index.db")
		bi.n = benchSize()
		ctx := context.Background()
		s, err := sqlstore.OpenSQLite(ctx, bi.path, nil)
		if err != nil {
			bi.err = err
			return
		}
		defer s.Close()
		t0 := time.Now()
		if bi.err = fillIndex(ctx, s, bi.n); bi.err != nil {
			return
		}
		bi.rate = float64(bi.n) / time.Since(t0).Seconds()
		s.Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if st, err := os.Stat(bi.path + suffix); err == nil {
				bi.bytes += st.Size()
			}
		}
	})
	if bi.err != nil {
		b.Fatal(bi.err)
	}
	return bi.path, bi.n, bi.rate, bi.bytes
}

// BenchmarkIndexHunt hunts a campaign of 1,000 copies in an index of
// 1,000,000 messages in 10,000 mailboxes, by Message-ID, sender domain,
// URL and attachment SHA-256; each hunt reads every copy. It reports the
// median and 99th percentile latency of each kind of hunt, the size of the
// index per message and the rate at which it was built.
func BenchmarkIndexHunt(b *testing.B) {
	path, n, rate, size := buildBenchIndex(b)
	s, err := sqlstore.OpenSQLite(b.Context(), path, nil)
	require.NoError(b, err)
	defer s.Close()
	benchHunts(b, s)
	b.ReportMetric(float64(size)/float64(n), "index-bytes/msg")
	b.ReportMetric(rate, "build-msgs/s")
	b.ReportMetric(float64(n), "messages")
}

// benchHunts hunts the campaign by Message-ID, sender domain, URL and
// attachment SHA-256 in each iteration, checks that every hunt returns
// every copy, and reports each kind's median and 99th percentile latency.
func benchHunts(b *testing.B, s hunt.Reader) {
	hunts := []struct {
		name string
		c    mailbox.Criteria
	}{
		{"msgid", mailbox.Criteria{MessageIDs: []string{"<" + campaignID + ">"}}},
		{"domain", mailbox.Criteria{SenderDomains: []string{campaignDomain}}},
		{"url", mailbox.Criteria{URLs: []string{campaignURL}}},
		{"sha256", mailbox.Criteria{AttachmentSHA256: []string{campaignSHA}}},
	}
	lat := make([][]time.Duration, len(hunts))
	for b.Loop() {
		for i, h := range hunts {
			t0 := time.Now()
			got := 0
			for _, err := range s.Copies(b.Context(), hunt.Query{Criteria: &h.c}) {
				if err != nil {
					b.Fatal(err)
				}
				got++
			}
			lat[i] = append(lat[i], time.Since(t0))
			if got != campaignCopies {
				b.Fatalf("hunt by %s: %d copies, want %d", h.name, got, campaignCopies)
			}
		}
	}
	for i, h := range hunts {
		slices.Sort(lat[i])
		b.ReportMetric(ms(lat[i][len(lat[i])/2]), h.name+"-p50-ms")
		b.ReportMetric(ms(lat[i][len(lat[i])*99/100]), h.name+"-p99-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkIndexIngest ingests batches of 1,000 deliveries into a fresh
// index and reports messages/s.
func BenchmarkIndexIngest(b *testing.B) {
	s, err := sqlstore.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "index.db"), nil)
	require.NoError(b, err)
	defer s.Close()
	r := rand.New(rand.NewPCG(3, 4))
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]hunt.Delivery, 1000)
	i := 0
	cpu0, measured := cputime.Process()
	for b.Loop() {
		for j := range batch {
			batch[j] = benchDelivery(r, i, benchMailboxes, at)
			i++
		}
		if err := s.Ingest(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
	if cpu1, _ := cputime.Process(); measured && cpu1 > cpu0 {
		cpu := cpu1 - cpu0
		// On a shared machine the wall-clock rate depends on the load;
		// the rate per CPU-second of the process does not.
		b.ReportMetric(float64(i)/cpu.Seconds(), "msgs/cpu-s")
	}
}
