package caldavstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/calendartest"
	"github.com/eradicate-dev/eradicate/calendar/internal/caldavmem"
	"github.com/eradicate-dev/eradicate/internal/testenv/radicale"
)

// TestConformanceInProcess runs the suite against go-webdav's CalDAV
// handler over an in-memory backend, with per-user credentials and
// discovery of the home sets. It always runs.
func TestConformanceInProcess(t *testing.T) {
	calendartest.Run(t, func(t *testing.T) *calendartest.Harness {
		users := map[string]string{"ann@example.com": "ann-pw", "ben@example.com": "ben-pw"}
		srv := caldavmem.Start(t, users)
		creds := map[string]caldavstore.Credential{}
		for u, p := range users {
			creds[u] = caldavstore.Credential{Username: u, Password: p}
		}
		s, err := caldavstore.New(srv.URL, caldavstore.PerUser(creds), &caldavstore.Options{AllowInsecure: true, ProvenanceKey: testKey})
		require.NoError(t, err)
		return withCalendars(t, s, []string{"ann@example.com", "ben@example.com"})
	})
}

// storeHarness is the suite's harness over s for owners; CreateCalendar
// is s.EnsureCalendar.
func storeHarness(s *caldavstore.Store, owners []string) *calendartest.Harness {
	return &calendartest.Harness{
		Store:  s,
		Owners: owners,
		CreateCalendar: func(t *testing.T, owner, id, name string) {
			_, err := s.EnsureCalendar(t.Context(), owner, id, name)
			require.NoError(t, err)
		},
	}
}

// withCalendars gives each owner the calendar "calendar" and returns
// storeHarness(s, owners).
func withCalendars(t *testing.T, s *caldavstore.Store, owners []string) *calendartest.Harness {
	t.Helper()
	for _, o := range owners {
		_, err := s.EnsureCalendar(t.Context(), o, "calendar", "Calendar")
		require.NoError(t, err)
	}
	return storeHarness(s, owners)
}

// TestConformanceRadicale runs the suite against a real Radicale with one
// admin credential. One server serves every case; each case gets fresh
// owners, whose homes and calendars the store creates.
func TestConformanceRadicale(t *testing.T) {
	srv := radicale.Start(t, nil)
	s, err := caldavstore.New(srv.URL, caldavstore.Admin(radicale.AdminUser, srv.AdminPassword),
		&caldavstore.Options{AllowInsecure: true, Home: caldavstore.HomeUnder("/"), ProvenanceKey: testKey})
	require.NoError(t, err)
	var n atomic.Int64
	calendartest.Run(t, func(t *testing.T) *calendartest.Harness {
		i := n.Add(1)
		owners := []string{fmt.Sprintf("ann%d@example.com", i), fmt.Sprintf("ben%d@example.com", i)}
		return withCalendars(t, s, owners)
	})
}
