package caldavstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/internal/testenv/radicale"
)

// parallel runs f(i) for i in [0, n) on at most workers goroutines and
// returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first error
		once  sync.Once
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// BenchmarkRadicaleHardDelete removes one campaign's invite entries from
// 1,000 calendars (one per owner) on a real Radicale with
// calendar.RemoveInviteEntries, 16 owners at a time, as the hard delete of
// the campaign's messages does. Seeding (PUT in parallel) is not timed.
func BenchmarkRadicaleHardDelete(b *testing.B) {
	const (
		owners  = 1000
		workers = 16
	)
	srv := radicale.Start(b, nil)
	s, err := caldavstore.New(srv.URL, caldavstore.Admin(radicale.AdminUser, srv.AdminPassword),
		&caldavstore.Options{AllowInsecure: true, Home: caldavstore.HomeUnder("/"), ProvenanceKey: testKey})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	owner := func(i int) string { return fmt.Sprintf("u%04d@example.com", i) }
	if err := parallel(owners, workers, func(i int) error {
		_, err := s.EnsureCalendar(ctx, owner(i), "calendar", "Calendar")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	var removed atomic.Int64
	var elapsed time.Duration
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		b.StopTimer()
		series := calendar.Series{UID: fmt.Sprintf("campaign-%d@evil.example", n), Organizer: "hr@evil.example", MessageID: fmt.Sprintf("campaign-%d@evil.example", n)}
		if err := parallel(owners, workers, func(i int) error {
			_, err := s.Put(ctx, owner(i), calendar.Entry{
				Calendar: "calendar", UID: series.UID, Organizer: series.Organizer,
				Master: &calendar.Occurrence{Summary: "Payroll update", Start: start, End: start.Add(time.Hour), Status: "TENTATIVE", Organizer: series.Organizer},
				Provenance: calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: series.MessageID,
					Organizer: series.Organizer, Method: "REQUEST", SeriesUID: series.UID, CreatedBy: series.MessageID},
			})
			return err
		}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := parallel(owners, workers, func(i int) error {
			rep, err := calendar.RemoveInviteEntries(ctx, s, owner(i), series)
			if err != nil {
				return err
			}
			if len(rep.Removed) != 1 {
				return fmt.Errorf("%s: removed %d entries, want 1", owner(i), len(rep.Removed))
			}
			removed.Add(int64(len(rep.Removed)))
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(t0)
	}
	b.ReportMetric(float64(removed.Load())/elapsed.Seconds(), "entries/s")
}
