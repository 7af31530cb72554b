package caldavstore_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
)

// recorder is an HTTP server that records every request it gets, with
// whether it carried an Authorization header.
type recorder struct {
	mu   sync.Mutex
	reqs []string // "METHOD path auth=yes|no"
}

func (r *recorder) record(req *http.Request) {
	auth := "no"
	if req.Header.Get("Authorization") != "" {
		auth = "yes"
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Path+" auth="+auth)
	r.mu.Unlock()
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// redirectStores returns the stores a redirect test runs against: the
// store's own client (TLSConfig trusting srv) and a caller-supplied one.
func redirectStores(t *testing.T, srv *httptest.Server) map[string]*caldavstore.Store {
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	creds := caldavstore.Admin("admin", "admin-secret-pw")
	own, err := caldavstore.New(srv.URL+"/", creds, &caldavstore.Options{
		Home: caldavstore.HomeUnder("/"), TLSConfig: &tls.Config{RootCAs: roots}, ProvenanceKey: testKey,
	})
	require.NoError(t, err)
	callers := srv.Client()
	supplied, err := caldavstore.New(srv.URL+"/", creds, &caldavstore.Options{
		Home: caldavstore.HomeUnder("/"), HTTPClient: callers, ProvenanceKey: testKey,
	})
	require.NoError(t, err)
	require.Nil(t, callers.CheckRedirect, "the caller's client is left as it is")
	return map[string]*caldavstore.Store{"own client": own, "caller's client": supplied}
}

// TestRedirectToPlainHTTPSendsNoCredentials: a server answered over https
// with a redirect to plain http, and the client followed it with the
// Basic credentials in clear text. The redirect is an error now, and
// nothing reaches the http server.
func TestRedirectToPlainHTTPSendsNoCredentials(t *testing.T) {
	plain := &recorder{}
	plainSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain.record(r)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer plainSrv.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The same host name, another scheme and port: Go's client keeps
		// the Authorization header for the same host name.
		http.Redirect(w, r, plainSrv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer tlsSrv.Close()
	for name, s := range redirectStores(t, tlsSrv) {
		t.Run(name, func(t *testing.T) {
			err := s.Delete(context.Background(), "alice@example.com", "calendar", "x.ics", "")
			require.Empty(t, plain.got(), "a request (auth=yes: with the credentials) followed the redirect to http")
			require.ErrorIs(t, err, caldavstore.ErrRedirect)
			_, err = s.Calendars(context.Background(), "alice@example.com")
			require.Empty(t, plain.got(), "a request followed the redirect to http")
			require.ErrorIs(t, err, caldavstore.ErrRedirect)
			assert.NotContains(t, err.Error(), "admin-secret-pw")
		})
	}
}

// TestDeleteRedirectedToAnotherOwnerIsAnError: a DELETE of one owner's
// object that the server redirected to another owner's object was
// followed, and reported as success while the target stayed. It is an
// error now, and the other owner's object gets no request.
func TestDeleteRedirectedToAnotherOwnerIsAnError(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if strings.HasPrefix(r.URL.Path, "/alice@example.com/") {
			http.Redirect(w, r, strings.Replace(r.URL.Path, "alice@example.com", "bob@example.com", 1), http.StatusTemporaryRedirect)
			return
		}
		// The other owner's object is not there: a followed DELETE
		// would count the 404 as "already gone".
		http.NotFound(w, r)
	}))
	defer srv.Close()
	for name, s := range redirectStores(t, srv) {
		t.Run(name, func(t *testing.T) {
			before := len(rec.got())
			err := s.Delete(context.Background(), "alice@example.com", "calendar", "meeting.ics", "")
			require.Error(t, err, "a redirected DELETE is not success")
			require.ErrorIs(t, err, caldavstore.ErrRedirect)
			var he *caldavstore.HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusTemporaryRedirect, he.StatusCode)
			assert.Equal(t, []string{"DELETE /alice@example.com/calendar/meeting.ics auth=yes"}, rec.got()[before:],
				"only the named object gets a request")
		})
	}
}
