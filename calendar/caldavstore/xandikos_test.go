package caldavstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/calendartest"
	"github.com/eradicate-dev/eradicate/internal/testenv/xandikos"
)

// TestConformanceXandikos runs the suite against a real Xandikos. It has
// no users of its own: one credential (any; Xandikos does not
// authenticate) with homes under "/", which the store creates with MKCOL
// and MKCALENDAR, and ClientFilter: Xandikos's text-match compares whole
// values (TestXandikosTextMatch). Each case gets fresh owners.
func TestConformanceXandikos(t *testing.T) {
	srv := xandikos.Start(t)
	s, err := caldavstore.New(srv.URL, caldavstore.Admin("eradicate-admin", "unused"),
		&caldavstore.Options{AllowInsecure: true, Home: caldavstore.HomeUnder("/"), ProvenanceKey: testKey, ClientFilter: true})
	require.NoError(t, err)
	var n atomic.Int64
	calendartest.Run(t, func(t *testing.T) *calendartest.Harness {
		i := n.Add(1)
		owners := []string{fmt.Sprintf("ann%d@example.com", i), fmt.Sprintf("ben%d@example.com", i)}
		return withCalendars(t, s, owners)
	})
}

// TestXandikosTextMatch shows why Xandikos needs ClientFilter: its
// text-match compares whole values, not substrings (RFC 4791 section
// 9.7.5), so the server never finds a message id inside the provenance
// property, and non-ASCII text fails with 500. With ClientFilter the
// store matches on the client and finds both.
func TestXandikosTextMatch(t *testing.T) {
	srv := xandikos.Start(t)
	const owner = "ann@example.com"
	start := time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)
	e := calendar.Entry{Calendar: "calendar", UID: "tm-1@example.com",
		Master:     &calendar.Occurrence{Summary: "s", Start: start, End: start.Add(time.Hour)},
		Provenance: calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "tm-1@mail.example.com"}}
	nonASCII := e
	nonASCII.UID = "tm-ü@example.com"
	for _, clientFilter := range []bool{false, true} {
		s, err := caldavstore.New(srv.URL, caldavstore.Admin("eradicate-admin", "unused"),
			&caldavstore.Options{AllowInsecure: true, Home: caldavstore.HomeUnder("/"), ProvenanceKey: testKey, ClientFilter: clientFilter})
		require.NoError(t, err)
		ctx := t.Context()
		_, err = s.EnsureCalendar(ctx, owner, "calendar", "")
		require.NoError(t, err)
		_, err = s.Put(ctx, owner, e)
		require.NoError(t, err)
		byMID, err := s.Find(ctx, owner, calendar.Query{MessageID: e.Provenance.MessageID})
		require.NoError(t, err)
		_, uerr := s.Find(ctx, owner, calendar.Query{UID: nonASCII.UID})
		if clientFilter {
			assert.Len(t, byMID, 1)
			assert.NoError(t, uerr)
		} else {
			assert.Empty(t, byMID, "Xandikos found a substring: ClientFilter may no longer be needed")
			assert.Error(t, uerr, "Xandikos took non-ASCII text: ClientFilter may no longer be needed")
		}
	}
}
