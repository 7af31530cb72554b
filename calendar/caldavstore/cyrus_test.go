package caldavstore_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/calendartest"
	"github.com/eradicate-dev/eradicate/internal/testenv/cyrus"
)

// cyrusStore returns a store on the Cyrus's CalDAV with each owner's own
// credential and discovery of the calendar homes: Cyrus redirects any
// other login to a sharing view.
func cyrusStore(t testing.TB, srv *cyrus.Server) *caldavstore.Store {
	t.Helper()
	creds := caldavstore.CredentialFunc(func(_ context.Context, owner string) (caldavstore.Credential, error) {
		if pw, ok := srv.Password(owner); ok {
			return caldavstore.Credential{Username: owner, Password: pw}, nil
		}
		return caldavstore.Credential{}, fmt.Errorf("%w: no user %q", calendar.ErrNoOwner, owner)
	})
	s, err := caldavstore.New(srv.URL, creds, &caldavstore.Options{AllowInsecure: true, ProvenanceKey: testKey})
	require.NoError(t, err)
	return s
}

// cyrusUniqueUID is why two cases cannot run on Cyrus.
const cyrusUniqueUID = "Cyrus keeps a UID unique across all calendars of a user (PUT of a UID another calendar holds: 403 CALDAV:unique-scheduling-object-resource, RFC 6638 section 3.2.4.1, applied to every object), so one entry cannot be in two calendars there (TestCyrusUniqueUID)"

// TestConformanceCyrus runs the suite against Cyrus IMAP's CalDAV module
// (httpd, caldav) with per-user credentials. One server serves every
// case; each case gets fresh owners, with Cyrus's Default calendar.
func TestConformanceCyrus(t *testing.T) {
	srv := cyrus.Start(t, &cyrus.Options{Users: map[string]string{}})
	s := cyrusStore(t, srv)
	var n atomic.Int64
	calendartest.Run(t, func(t *testing.T) *calendartest.Harness {
		i := n.Add(1)
		owners := []string{fmt.Sprintf("ann%d@example.com", i), fmt.Sprintf("ben%d@example.com", i)}
		for _, o := range owners {
			require.NoError(t, srv.AddUser(t.Context(), o, "pw-"+o))
		}
		h := storeHarness(s, owners)
		h.Skip = map[string]string{
			"Find/AcrossCalendars":       cyrusUniqueUID,
			"HardDelete/AcrossCalendars": cyrusUniqueUID,
		}
		return h
	})
}

// TestCyrusUniqueUID shows the Cyrus difference behind the skipped cases:
// an entry of a UID another calendar of the owner holds is refused with
// 403, and the first stays.
func TestCyrusUniqueUID(t *testing.T) {
	srv := cyrus.Start(t, &cyrus.Options{Users: map[string]string{"ann@example.com": "pw-ann"}})
	s := cyrusStore(t, srv)
	ctx := t.Context()
	const owner = "ann@example.com"
	_, err := s.EnsureCalendar(ctx, owner, "work", "Work")
	require.NoError(t, err)
	start := time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)
	e := calendar.Entry{Calendar: "Default", UID: "twice@example.com",
		Master:     &calendar.Occurrence{Summary: "s", Start: start, End: start.Add(time.Hour)},
		Provenance: calendar.Provenance{Kind: calendar.ProvenanceUser}}
	_, err = s.Put(ctx, owner, e)
	require.NoError(t, err)
	e.Calendar = "work"
	_, err = s.Put(ctx, owner, e)
	var he *caldavstore.HTTPError
	require.ErrorAs(t, err, &he, "Cyrus took a UID twice: the AcrossCalendars cases may run on it now")
	assert.Equal(t, http.StatusForbidden, he.StatusCode)
	got, err := s.Find(ctx, owner, calendar.Query{UID: e.UID})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "Default", got[0].Calendar)
}
