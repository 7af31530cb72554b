package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/internal/testenv/oidcissuer"
	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// TestOIDC: JWTs of an OpenID Connect issuer authenticate callers beside
// bearer tokens; the signature, the issuer, the audience and the expiry
// are checked; roles come from a claim; a caller without a mapped role
// is refused (403); every call is logged with its identity.
func TestOIDC(t *testing.T) {
	is := oidcissuer.Start(t)
	oidcAuth, err := api.NewOIDC(api.OIDCOptions{Issuer: is.URL, Audience: "eradicate", IdentityClaim: "email",
		RolesClaim: "groups", Roles: map[string][]api.Role{"soc": {api.RoleAnalyst}, "soc-leads": {api.RoleAnalyst, api.RoleApprover}}})
	require.NoError(t, err)
	assert.Zero(t, is.Hits(), "NewOIDC contacts nothing")
	tok, err := api.NewToken()
	require.NoError(t, err)
	tokens, err := api.NewTokens([]api.Token{{Name: "playbook", SHA256: api.HashToken(tok), Roles: []api.Role{api.RoleReader}}})
	require.NoError(t, err)

	tenant := mock.New(nil)
	engine, err := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	require.NoError(t, err)
	logs := &servertest.Buffer{}
	h, err := api.New(engine, api.Options{Auth: api.AnyOf{tokens, oidcAuth}, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	me := func(bearer string) (int, api.Me) {
		req, err := http.NewRequest("GET", srv.URL+"/eradicate/v1/me", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m api.Me
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		}
		return resp.StatusCode, m
	}
	now := time.Now()
	claims := func(over map[string]any) map[string]any {
		c := map[string]any{"iss": is.URL, "aud": "eradicate", "sub": "u-1", "email": "alice@corp.example",
			"groups": []string{"staff", "soc"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range over {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	code, m := me(is.Token(t, claims(nil)))
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, api.Me{Name: "alice@corp.example", Roles: []api.Role{api.RoleAnalyst}}, m, "the identity claim names the caller; groups map to roles")
	code, m = me(is.Token(t, claims(map[string]any{"email": "lead@corp.example", "groups": "soc-leads"})))
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []api.Role{api.RoleAnalyst, api.RoleApprover}, m.Roles, "a claim holding one string")
	code, m = me(tok)
	require.Equal(t, http.StatusOK, code, "bearer tokens still authenticate")
	assert.Equal(t, "playbook", m.Name)

	for name, c := range map[string]struct {
		token string
		code  int
	}{
		"expired":          {is.Token(t, claims(map[string]any{"exp": now.Add(-time.Minute).Unix()})), 401},
		"wrong audience":   {is.Token(t, claims(map[string]any{"aud": "another-app"})), 401},
		"wrong issuer":     {is.Token(t, claims(map[string]any{"iss": "https://evil.example"})), 401},
		"unknown key":      {oidcissuer.Sign(t, other, "key-2", claims(nil)), 401},
		"forged, same kid": {oidcissuer.Sign(t, other, oidcissuer.KeyID, claims(nil)), 401},
		"no identity":      {is.Token(t, claims(map[string]any{"email": nil})), 401},
		"not a JWT":        {"erad_not-a-token", 401},
		"no mapped role":   {is.Token(t, claims(map[string]any{"email": "bob@corp.example", "groups": []string{"staff"}})), 403},
		"no roles claim":   {is.Token(t, claims(map[string]any{"email": "carol@corp.example", "groups": nil})), 403},
	} {
		t.Run(name, func(t *testing.T) {
			code, _ := me(c.token)
			assert.Equal(t, c.code, code)
		})
	}

	// Every call is logged with who made it.
	var seen []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct {
			Msg      string `json:"msg"`
			Identity string `json:"identity"`
			Status   int    `json:"status"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec.Msg == "api call" {
			seen = append(seen, rec.Identity)
			if rec.Status == http.StatusOK || rec.Status == http.StatusForbidden {
				assert.NotEmpty(t, rec.Identity, "an authenticated call names its identity: %s", line)
			}
		}
	}
	assert.Len(t, seen, 12)
	assert.Contains(t, seen, "alice@corp.example")
	assert.Contains(t, seen, "bob@corp.example", "a refused caller is logged by name")
}

// TestOIDCOptions: NewOIDC refuses what cannot work.
func TestOIDCOptions(t *testing.T) {
	roles := map[string][]api.Role{"soc": {api.RoleAnalyst}}
	for name, o := range map[string]api.OIDCOptions{
		"no issuer":    {Audience: "a", Roles: roles},
		"not a URL":    {Issuer: "login.example", Audience: "a", Roles: roles},
		"no audience":  {Issuer: "https://login.example", Roles: roles},
		"no roles":     {Issuer: "https://login.example", Audience: "a"},
		"unknown role": {Issuer: "https://login.example", Audience: "a", Roles: map[string][]api.Role{"soc": {"root"}}},
		"maps to none": {Issuer: "https://login.example", Audience: "a", Roles: map[string][]api.Role{"soc": nil}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := api.NewOIDC(o)
			require.Error(t, err)
		})
	}
}

// TestOIDCIssuerDown: calls with a JWT while the issuer cannot be
// discovered fail on the server's side (500), not as the caller's fault,
// and bearer tokens keep working.
func TestOIDCIssuerDown(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	oidcAuth, err := api.NewOIDC(api.OIDCOptions{Issuer: down.URL, Audience: "eradicate", Roles: map[string][]api.Role{"soc": {api.RoleAnalyst}}})
	require.NoError(t, err)
	req := httptest.NewRequest("GET", "/eradicate/v1/me", nil)
	req.Header.Set("Authorization", "Bearer a.b.c")
	_, err = oidcAuth.Authenticate(req)
	require.Error(t, err)
	assert.NotErrorIs(t, err, api.ErrUnauthenticated)
	req.Header.Set("Authorization", "Bearer erad_abc")
	_, err = oidcAuth.Authenticate(req)
	assert.ErrorIs(t, err, api.ErrUnauthenticated, "a token that is no JWT is another authenticator's")
}

// FuzzOIDC: whatever a caller sends as a bearer credential (seeded with
// valid, expired and forged JWTs and their pieces), the authenticator
// never panics and authenticates only a token the issuer signed.
func FuzzOIDC(f *testing.F) {
	is := oidcissuer.Start(f)
	a, err := api.NewOIDC(api.OIDCOptions{Issuer: is.URL, Audience: "eradicate", Roles: map[string][]api.Role{"soc": {api.RoleAnalyst}}})
	require.NoError(f, err)
	now := time.Now()
	valid := is.Token(f, map[string]any{"iss": is.URL, "aud": "eradicate", "sub": "alice", "roles": "soc", "exp": now.Add(time.Hour).Unix()})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(f, err)
	for _, s := range []string{valid, valid + "x", strings.ToUpper(valid), "a.b.c", "..", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
		oidcissuer.Sign(f, other, oidcissuer.KeyID, map[string]any{"iss": is.URL, "aud": "eradicate", "sub": "mallory", "exp": now.Add(time.Hour).Unix()})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		req := httptest.NewRequest("GET", "/eradicate/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		id, err := a.Authenticate(req)
		if err == nil && strings.TrimSpace(tok) != valid {
			t.Fatalf("authenticated %q as %+v", tok, id)
		}
	})
}

// BenchmarkAuthenticate: the cost of authenticating one call by a bearer
// token (hash compared with every configured one) and by a JWT (signature
// checked against the issuer's cached key).
func BenchmarkAuthenticate(b *testing.B) {
	is := oidcissuer.Start(b)
	o, err := api.NewOIDC(api.OIDCOptions{Issuer: is.URL, Audience: "eradicate", Roles: map[string][]api.Role{"soc": {api.RoleAnalyst}}})
	require.NoError(b, err)
	jwt := is.Token(b, map[string]any{"iss": is.URL, "aud": "eradicate", "sub": "alice", "roles": "soc",
		"exp": time.Now().Add(time.Hour).Unix()})
	var toks []api.Token
	var last string
	for i := range 20 {
		tok, err := api.NewToken()
		require.NoError(b, err)
		toks = append(toks, api.Token{Name: fmt.Sprint("id", i), SHA256: api.HashToken(tok), Roles: []api.Role{api.RoleReader}})
		last = tok
	}
	tokens, err := api.NewTokens(toks)
	require.NoError(b, err)
	for _, c := range []struct {
		name   string
		auth   api.Authenticator
		bearer string
	}{{"token-of-20", tokens, last}, {"jwt-rs256", o, jwt}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/eradicate/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+c.bearer)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.auth.Authenticate(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
