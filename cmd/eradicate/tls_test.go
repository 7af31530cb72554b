package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
)

// testPKI is a CA that issues the server's and the clients' certificates,
// written as PEM files.
type testPKI struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eradicate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	p := &testPKI{dir: t.TempDir(), cert: cert, key: key, pool: x509.NewCertPool()}
	p.pool.AddCert(cert)
	require.NoError(t, os.WriteFile(p.path("ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return p
}

func (p *testPKI) path(name string) string { return filepath.Join(p.dir, name) }

// issue makes a certificate for cn (a server's when server is true, for
// 127.0.0.1 and localhost) and writes name.pem and name-key.pem.
func (p *testPKI) issue(t *testing.T, name, cn string, server bool) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p.path(name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(p.path(name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestServeTLS: `eradicate serve` over TLS, as a child process, on an
// address that is not loopback: clients that trust its CA call it with a
// bearer token (the CLI with -ca) or a client certificate; plain HTTP gets
// no answer from the API; and the same address without TLS is refused at
// start unless insecure_listen says so.
func TestServeTLS(t *testing.T) {
	pki := newTestPKI(t)
	pki.issue(t, "server", "eradicate.test", true)
	soar := pki.issue(t, "soar", "soar-playbook", false)
	other := newTestPKI(t).issue(t, "stranger", "soar-playbook", false)
	ids := newIdentities(t)

	// All interfaces: not loopback.
	port := freeAddr(t)[len("127.0.0.1:"):]
	listen := "0.0.0.0:" + port
	dir := t.TempDir()
	write := func(name, extra string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf("listen = %q\n%s\n[mock]\nusers = [\"%s\"]\n", listen, extra,
			strings.Join(e2eUsers, `", "`))+tokensTOML(ids)+"\n[[client_cert]]\nname = \"soar-playbook\"\nroles = [\"analyst\"]\n"), 0o600))
		return p
	}
	plain := write("plain.toml", fmt.Sprintf("client_ca = %q", pki.path("ca.pem")))
	cmd := exec.Command(os.Args[0], "serve", "-config", plain)
	cmd.Env = append(os.Environ(), "ERADICATE_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "plain HTTP on all interfaces is refused:\n%s", out)
	assert.Contains(t, string(out), "client certificates need TLS")
	plain = filepath.Join(dir, "plain2.toml")
	require.NoError(t, os.WriteFile(plain, []byte(fmt.Sprintf("listen = %q\n[mock]\nusers = [\"a@b.c\"]\n", listen)+tokensTOML(ids)), 0o600))
	cmd = exec.Command(os.Args[0], "serve", "-config", plain)
	cmd.Env = append(os.Environ(), "ERADICATE_TEST_MAIN=1")
	out, err = cmd.CombinedOutput()
	require.Error(t, err, "plain HTTP on all interfaces is refused:\n%s", out)
	assert.Contains(t, string(out), "is not loopback")

	config := write("tls.toml", fmt.Sprintf("tls_cert = %q\ntls_key = %q\nclient_ca = %q",
		pki.path("server.pem"), pki.path("server-key.pem"), pki.path("ca.pem")))
	s := startServe(t, config)
	require.True(t, strings.HasPrefix(s.url, "https://"), s.url)
	base := "https://127.0.0.1:" + port

	// me calls GET /me with a client of the given TLS config and bearer.
	me := func(cfg *tls.Config, bearer string) (int, api.Me, error) {
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		req, err := http.NewRequest("GET", base+"/eradicate/v1/me", nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, api.Me{}, err
		}
		defer resp.Body.Close()
		var m api.Me
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		}
		return resp.StatusCode, m, nil
	}
	code, m, err := me(&tls.Config{RootCAs: pki.pool}, ids["reader"].token)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "reader", m.Name)
	code, m, err = me(&tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{soar}}, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "a client certificate authenticates")
	assert.Equal(t, api.Me{Name: "soar-playbook", Roles: []api.Role{api.RoleAnalyst}}, m)
	_, _, err = me(&tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{other}}, "")
	require.Error(t, err, "a certificate of another CA fails the handshake")
	_, _, err = me(&tls.Config{}, ids["reader"].token)
	require.Error(t, err, "the server's certificate is checked")
	code, _, err = me(&tls.Config{RootCAs: pki.pool}, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code)

	// Plain HTTP to the TLS port: no API answer.
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+port+"/eradicate/v1/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ids["reader"].token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
	assert.NotContains(t, string(b), "reader")

	// The CLI, trusting the CA with -ca.
	out2, err := cli(t, base, ids["reader"].token, "actions", "-ca", pki.path("ca.pem"), "-json")
	require.NoError(t, err)
	assert.Contains(t, out2, `"value"`)
	_, err = cli(t, base, ids["reader"].token, "actions", "-json")
	require.ErrorContains(t, err, "certificate", "without -ca the CLI does not trust the test CA")
	require.NoError(t, s.stop(), "%s", s.logs.String())

	// insecure_listen allows plain HTTP there (behind a TLS proxy).
	plain = filepath.Join(dir, "proxied.toml")
	require.NoError(t, os.WriteFile(plain, []byte(fmt.Sprintf("listen = %q\ninsecure_listen = true\n[mock]\nusers = [\"a@b.c\"]\n", listen)+tokensTOML(ids)), 0o600))
	s = startServe(t, plain)
	out2, err = cli(t, "http://127.0.0.1:"+port, ids["reader"].token, "actions", "-json")
	require.NoError(t, err)
	assert.Contains(t, out2, `"value"`)
	require.NoError(t, s.stop())
}
