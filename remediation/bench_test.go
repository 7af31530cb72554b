package remediation_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

// campaign builds a tenant with users mailboxes, each holding perUser
// campaign messages (one delivery per message id to every user).
func campaign(b *testing.B, users, perUser int) *mock.Tenant {
	b.Helper()
	ctx := context.Background()
	tn := mock.New(nil)
	rcpts := make([]string, users)
	for i := range rcpts {
		rcpts[i] = fmt.Sprintf("user%05d@corp.example", i)
		if err := tn.AddUser(rcpts[i]); err != nil {
			b.Fatal(err)
		}
	}
	for k := range perUser {
		raw := msg(fmt.Sprintf("campaign-%03d@evil.example", k), "billing@evil.example", "Invoice overdue", "undisclosed-recipients:;")
		if _, err := tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: rcpts}); err != nil {
			b.Fatal(err)
		}
	}
	return tn
}

// serverCPU returns the CPU time PostgreSQL's processes have used.
func serverCPU(b *testing.B, pg *postgres.Server) time.Duration {
	d, err := pg.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func heapAlloc() (heap, total uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.TotalAlloc
}

// BenchmarkRemediate soft-deletes a 1,000,000-copy campaign over 10,000
// mailboxes (100 copies each) in the mock, with the file journal (without
// and with an HMAC chain), the memory journal, and the PostgreSQL journal
// (without and with the chain, on a local cluster started for the
// benchmark). It reports copies/s, journal bytes per copy, the
// heap growth per copy that remains after the action (heap_B/copy) and
// the peak heap growth per copy while it runs (peak_heap_B/copy), the
// process CPU time per copy (cpu_ns/copy) and the copies per CPU-second
// (copies/cpu_s); with the PostgreSQL journal, the server's CPU time per
// copy (pg_cpu_ns/copy), counted in copies/cpu_s.
//
// Run with -benchtime=1x; each iteration builds a fresh tenant outside the
// timer.
func BenchmarkRemediate(b *testing.B) {
	const users, perUser = 10000, 100
	key, err := journal.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"file", "file+chain", "memory", "postgres", "postgres+chain"} {
		b.Run("journal="+kind, func(b *testing.B) {
			ctx := context.Background()
			var pg *postgres.Server
			var pgURL string
			if strings.HasPrefix(kind, "postgres") {
				// A local cluster with PostgreSQL's durable defaults
				// (fsync, synchronous commits), as the file journal
				// fsyncs.
				pg = postgres.Start(b, &postgres.Options{Durable: true})
				pgURL = pg.CreateDatabase(b)
			}
			var copies, jbytes int64
			var elapsed, cpu, server time.Duration
			var heapGrowth, peak int64
			for range b.N {
				b.StopTimer()
				tn := campaign(b, users, perUser)
				var j remediation.Journal
				var size func() int64
				switch kind {
				case "file", "file+chain":
					var opts journal.FileOptions
					if kind == "file+chain" {
						opts.Key = key
					}
					fj, err := journal.OpenFile(filepath.Join(b.TempDir(), "journal"), &opts)
					if err != nil {
						b.Fatal(err)
					}
					j, size = fj, fj.Size
				case "postgres", "postgres+chain":
					opts := &pgjournal.Options{Schema: fmt.Sprintf("bench%d", time.Now().UnixNano())}
					if kind == "postgres+chain" {
						opts.Key = key
					}
					pj, err := pgjournal.Open(ctx, pgURL, opts)
					if err != nil {
						b.Fatal(err)
					}
					j, size = pj, func() int64 {
						n, err := pj.Size(ctx)
						if err != nil {
							b.Fatal(err)
						}
						return n
					}
				default:
					mj := journal.NewMemory()
					j, size = mj, mj.Size
				}
				h0, _ := heapAlloc()
				var peakHeap atomic.Uint64
				var next atomic.Int64
				next.Store(100000)
				e, err := remediation.New(tn, nil, j, &remediation.Options{Progress: func(p remediation.Progress) {
					if p.Done >= next.Load() {
						next.Add(100000)
						var ms runtime.MemStats
						runtime.ReadMemStats(&ms)
						if ms.HeapAlloc > peakHeap.Load() {
							peakHeap.Store(ms.HeapAlloc)
						}
					}
				}})
				if err != nil {
					b.Fatal(err)
				}
				req := remediation.Request{
					Action:    remediation.SoftDelete,
					Actor:     "bench",
					Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}},
					Confirm:   true,
				}
				var s0 time.Duration
				if pg != nil {
					s0 = serverCPU(b, pg)
				}
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime()
				rec, err := e.Execute(ctx, req)
				elapsed += time.Since(t0)
				cpu += cpuTime() - c0
				b.StopTimer()
				if pg != nil {
					server += serverCPU(b, pg) - s0
				}
				if err != nil {
					b.Fatal(err)
				}
				if rec.Counts.Succeeded != users*perUser {
					b.Fatalf("succeeded %d, want %d", rec.Counts.Succeeded, users*perUser)
				}
				h1, _ := heapAlloc()
				copies += rec.Counts.Succeeded
				jbytes += size()
				heapGrowth += int64(h1) - int64(h0)
				if p := int64(peakHeap.Load()) - int64(h0); p > peak {
					peak = p
				}
				_ = j.Close()
				runtime.KeepAlive(tn)
				b.StartTimer()
			}
			b.ReportMetric(float64(copies)/elapsed.Seconds(), "copies/s")
			// CPU time per copy (engine, store and journal together) says
			// more than copies/s on a machine shared with other work.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(copies), "cpu_ns/copy")
			if pg != nil {
				// PostgreSQL's own processes, and copies per CPU-second
				// of the engine and the server together.
				b.ReportMetric(float64(server.Nanoseconds())/float64(copies), "pg_cpu_ns/copy")
				b.ReportMetric(float64(copies)/(cpu+server).Seconds(), "copies/cpu_s")
			} else {
				b.ReportMetric(float64(copies)/cpu.Seconds(), "copies/cpu_s")
			}
			b.ReportMetric(float64(jbytes)/float64(copies), "journal_B/copy")
			b.ReportMetric(float64(heapGrowth)/float64(copies), "heap_B/copy")
			b.ReportMetric(float64(peak)/float64(copies/int64(b.N)), "peak_heap_B/copy")
		})
	}
}
