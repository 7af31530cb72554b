package caldavstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/calendartest"
	"github.com/eradicate-dev/eradicate/internal/cyrustest"
)

// cyrusStore returns a store on the Cyrus's CalDAV with each owner's own
// credential and discovery of the calendar homes: Cyrus redirects any
// other login to a sharing view.
func cyrusStore(t testing.TB, srv *cyrustest.Server) *caldavstore.Store {
	t.Helper()
	creds := caldavstore.CredentialFunc(func(_ context.Context, owner string) (caldavstore.Credential, error) {
		for _, u := range srv.UserNames() {
			if u == owner {
				return caldavstore.Credential{Username: u, Password: srv.Users[u]}, nil
			}
		}
		return caldavstore.Credential{}, fmt.Errorf("%w: no user %q", calendar.ErrNoOwner, owner)
	})
	s, err := caldavstore.New(srv.URL, creds, &caldavstore.Options{AllowInsecure: true, ProvenanceKey: testKey})
	require.NoError(t, err)
	return s
}

// TestConformanceCyrus runs the suite against Cyrus IMAP's CalDAV module
// (httpd, caldav) with per-user credentials. One server serves every
// case; each case gets fresh owners, with Cyrus's Default calendar.
func TestConformanceCyrus(t *testing.T) {
	srv := cyrustest.Start(t, &cyrustest.Options{Users: map[string]string{}})
	s := cyrusStore(t, srv)
	var n atomic.Int64
	calendartest.Run(t, func(t *testing.T) calendartest.Harness {
		i := n.Add(1)
		owners := []string{fmt.Sprintf("ann%d@example.com", i), fmt.Sprintf("ben%d@example.com", i)}
		for _, o := range owners {
			require.NoError(t, srv.AddUser(t.Context(), o, "pw-"+o))
		}
		return calendartest.Harness{
			Store:  s,
			Owners: owners,
			CreateCalendar: func(t *testing.T, owner, id, name string) {
				_, err := s.EnsureCalendar(t.Context(), owner, id, name)
				require.NoError(t, err)
			},
		}
	})
}
