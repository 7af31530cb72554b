package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/oidcissuer"
	"github.com/eradicate-dev/eradicate/remediation"
)

// TestServeOIDC: `eradicate serve` configured with [oidc] takes the
// issuer's JWTs beside its tokens: the configured claim names the caller
// in the action center and the log, the claim's values map to roles, a
// caller without a mapped value is refused (403), a token for another
// audience is 401, and the CLI works with a JWT as its token.
func TestServeOIDC(t *testing.T) {
	is := oidcissuer.Start(t)
	dir := t.TempDir()
	ids := newIdentities(t)
	config := filepath.Join(dir, "eradicate.toml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen = %q
[mock]
users = ["%s"]
[oidc]
issuer = %q
audience = "eradicate"
identity_claim = "email"
roles_claim = "groups"
[oidc.roles]
"soc" = ["analyst"]
"soc-leads" = ["analyst", "approver"]
`, freeAddr(t), strings.Join(e2eUsers, `", "`), is.URL)+tokensTOML(ids)), 0o600))
	s := startServe(t, config)
	jwt := func(email, aud string, groups ...string) string {
		return is.Token(t, map[string]any{"iss": is.URL, "aud": aud, "sub": "id-" + email, "email": email,
			"groups": groups, "exp": time.Now().Add(time.Hour).Unix()})
	}
	alice, lead := jwt("alice@corp.example", "eradicate", "soc"), jwt("lead@corp.example", "eradicate", "staff", "soc-leads")

	// An analyst proposes with her JWT through the CLI; the lead approves.
	rec := cliRecord(t, s.url, alice, "remediate", "-action", "soft_delete", "-propose", "-message-id", "x@evil.example", "-json")
	assert.Equal(t, remediation.StatusPending, rec.Status)
	assert.Equal(t, "alice@corp.example", rec.Actor, "the identity claim names the actor")
	_, err := cli(t, s.url, alice, "approve", rec.ID)
	require.ErrorContains(t, err, "403", "an analyst does not approve")
	done := cliRecord(t, s.url, lead, "approve", rec.ID, "-json")
	assert.Equal(t, "lead@corp.example", done.DecidedBy)

	assert.Equal(t, http.StatusForbidden, status(t, "GET", s.url+"/eradicate/v1/me", jwt("bob@corp.example", "eradicate", "staff")),
		"no mapped role")
	assert.Equal(t, http.StatusUnauthorized, status(t, "GET", s.url+"/eradicate/v1/me", jwt("eve@corp.example", "another-app", "soc")),
		"another audience")
	assert.Equal(t, http.StatusOK, status(t, "GET", s.url+"/eradicate/v1/me", ids["reader"].token), "tokens still work")
	require.NoError(t, s.stop())
	logs := s.logs.String()
	for _, who := range []string{"identity=alice@corp.example", "identity=lead@corp.example", "identity=bob@corp.example", "identity=reader"} {
		assert.Contains(t, logs, who, "every call is logged with its identity")
	}
}
