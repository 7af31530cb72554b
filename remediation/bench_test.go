package remediation_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
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

func heapAlloc() (heap, total uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.TotalAlloc
}

// BenchmarkRemediate soft-deletes a 1,000,000-copy campaign over 10,000
// mailboxes (100 copies each) in the mock, with the file journal and with
// the memory journal. It reports copies/s, journal bytes per copy, the
// heap growth per copy that remains after the action (heap_B/copy) and
// the peak heap growth per copy while it runs (peak_heap_B/copy), and the
// process CPU time per copy (cpu_ns/copy).
//
// Run with -benchtime=1x; each iteration builds a fresh tenant outside the
// timer.
func BenchmarkRemediate(b *testing.B) {
	const users, perUser = 10000, 100
	for _, kind := range []string{"file", "memory"} {
		b.Run("journal="+kind, func(b *testing.B) {
			ctx := context.Background()
			var copies, jbytes int64
			var elapsed, cpu time.Duration
			var heapGrowth, peak int64
			for range b.N {
				b.StopTimer()
				tn := campaign(b, users, perUser)
				var j remediation.Journal
				var size func() int64
				if kind == "file" {
					fj, err := journal.OpenFile(filepath.Join(b.TempDir(), "journal"), nil)
					if err != nil {
						b.Fatal(err)
					}
					j, size = fj, fj.Size
				} else {
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
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime()
				rec, err := e.Execute(ctx, req)
				elapsed += time.Since(t0)
				cpu += cpuTime() - c0
				b.StopTimer()
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
			b.ReportMetric(float64(jbytes)/float64(copies), "journal_B/copy")
			b.ReportMetric(float64(heapGrowth)/float64(copies), "heap_B/copy")
			b.ReportMetric(float64(peak)/float64(copies/int64(b.N)), "peak_heap_B/copy")
		})
	}
}
