package api_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/internal/testenv/testpki"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// TestClientCertificates: a certificate the server verified authenticates
// its identity; one from another CA, or naming no identity, is 401; bearer
// tokens still work beside it.
func TestClientCertificates(t *testing.T) {
	// The other CA has the same name: the client sends its certificate.
	ca, other := testpki.New(t, "test CA"), testpki.New(t, "test CA")
	certs, err := api.NewClientCerts([]api.Identity{{Name: "soar-playbook", Roles: []api.Role{api.RoleAnalyst}}})
	require.NoError(t, err)
	tok, err := api.NewToken()
	require.NoError(t, err)
	tokens, err := api.NewTokens([]api.Token{{Name: "alice", SHA256: api.HashToken(tok), Roles: []api.Role{api.RoleReader}}})
	require.NoError(t, err)
	tenant := mock.New(nil)
	e, err := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	require.NoError(t, err)
	h, err := api.New(e, api.Options{Auth: api.AnyOf{tokens, certs}})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srv.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake of the forged certificate
	srv.StartTLS()
	defer srv.Close()

	me := func(cert *tls.Certificate, token string) (int, api.Me) {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest("GET", srv.URL+"/eradicate/v1/me", nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil { // a certificate the server refuses ends the handshake
			return 0, api.Me{}
		}
		var m api.Me
		if resp.StatusCode == 200 {
			decodeResp(t, resp, 200, &m)
		} else {
			graphError(t, resp, resp.StatusCode)
		}
		return resp.StatusCode, m
	}
	good := ca.Client(t, "soar-playbook")
	status, m := me(&good, "")
	assert.Equal(t, 200, status)
	assert.Equal(t, api.Me{Name: "soar-playbook", Roles: []api.Role{api.RoleAnalyst}}, m)

	stranger := ca.Client(t, "mallory")
	status, _ = me(&stranger, "")
	assert.Equal(t, 401, status)

	forged := other.Client(t, "soar-playbook")
	status, _ = me(&forged, "")
	assert.NotEqual(t, 200, status, "a certificate of another CA never authenticates")

	status, m = me(nil, tok)
	assert.Equal(t, 200, status)
	assert.Equal(t, "alice", m.Name)
	status, _ = me(nil, "")
	assert.Equal(t, 401, status)
}
