package calendar_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/eradicate-dev/eradicate/calendar"
)

func BenchmarkParseInvite(b *testing.B) {
	_, part := testdataInvite(b, "exchange-request.eml")
	b.SetBytes(int64(len(part.raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := calendar.ParseInvite(part.raw, part.method); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invites/s")
}

func BenchmarkApplyInvite(b *testing.B) {
	mid, inv := parseTestdata(b, "exchange-request.eml")
	const users = 100
	var names []string
	for i := range users {
		names = append(names, fmt.Sprintf("u%d@bench.example", i))
	}
	tn := newTenant(b, names...)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := calendar.ApplyInvite(ctx, tn, names[i%users], inv, mid); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invites/s")
}

// BenchmarkRemoveInviteEntries measures the hard-delete rule on the
// in-memory store: one campaign's entries in 100 calendars, each also
// holding an imported copy of another invite, removed owner by owner.
func BenchmarkRemoveInviteEntries(b *testing.B) {
	mid, inv := parseTestdata(b, "exchange-request.eml")
	const users = 100
	var names []string
	for i := range users {
		names = append(names, fmt.Sprintf("u%d@bench.example", i))
	}
	tn := newTenant(b, names...)
	ctx := context.Background()
	for _, u := range names {
		if _, err := calendar.Import(ctx, tn, u, itip("REQUEST", "other", org, 0, "kept"), mid, "other.ics"); err != nil {
			b.Fatal(err)
		}
	}
	removed := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, u := range names {
			if _, err := calendar.ApplyInvite(ctx, tn, u, inv, mid); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for _, u := range names {
			rep, err := calendar.RemoveInviteEntries(ctx, tn, u, inv.Series(mid))
			if err != nil || len(rep.Removed) != 1 || len(rep.Kept) != 1 {
				b.Fatalf("%s: removed %d kept %d: %v", u, len(rep.Removed), len(rep.Kept), err)
			}
			removed++
		}
	}
	b.ReportMetric(float64(removed)/b.Elapsed().Seconds(), "entries/s")
}
