package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/eradicate-dev/eradicate/internal/testenv/testpki"
)

// TestServeTLS: `eradicate serve` over TLS, as a child process, on an
// address that is not loopback: clients that trust its CA call it with a
// bearer token (the CLI with -ca) or a client certificate; plain HTTP gets
// no answer from the API; and the same address without TLS is refused at
// start unless insecure_listen says so.
func TestServeTLS(t *testing.T) {
	pki := testpki.New(t, "eradicate test CA")
	dir := t.TempDir()
	caFile := pki.WriteCA(t, dir, "ca")
	certFile, keyFile := testpki.Write(t, pki.Server(t), dir, "server")
	soar := pki.Client(t, "soar-playbook")
	// A CA of the same name, so that the client sends its certificate.
	other := testpki.New(t, "eradicate test CA").Client(t, "soar-playbook")
	ids := newIdentities(t)

	// All interfaces: not loopback.
	port := freeAddr(t)[len("127.0.0.1:"):]
	listen := "0.0.0.0:" + port
	write := func(name, extra string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf("listen = %q\n%s\n[mock]\nusers = [\"%s\"]\n", listen, extra,
			strings.Join(e2eUsers, `", "`))+tokensTOML(ids)+"\n[[client_cert]]\nname = \"soar-playbook\"\nroles = [\"analyst\"]\n"), 0o600))
		return p
	}
	plain := write("plain.toml", fmt.Sprintf("client_ca = %q", caFile))
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
		certFile, keyFile, caFile))
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
	code, m, err := me(&tls.Config{RootCAs: pki.Pool}, ids["reader"].token)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "reader", m.Name)
	code, m, err = me(&tls.Config{RootCAs: pki.Pool, Certificates: []tls.Certificate{soar}}, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "a client certificate authenticates")
	assert.Equal(t, api.Me{Name: "soar-playbook", Roles: []api.Role{api.RoleAnalyst}}, m)
	_, _, err = me(&tls.Config{RootCAs: pki.Pool, Certificates: []tls.Certificate{other}}, "")
	require.Error(t, err, "a certificate of another CA fails the handshake")
	_, _, err = me(&tls.Config{}, ids["reader"].token)
	require.Error(t, err, "the server's certificate is checked")
	code, _, err = me(&tls.Config{RootCAs: pki.Pool}, "")
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
	out2, err := cli(t, base, ids["reader"].token, "actions", "-ca", caFile, "-json")
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
