// Package oidcissuer is an OpenID Connect issuer for tests: an HTTP server
// on 127.0.0.1 publishing its discovery document and its signing key (a
// JWKS), and signing JWTs with that key.
package oidcissuer

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// KeyID is the key id of the issuer's signing key.
const KeyID = "key-1"

// Issuer is a running issuer, stopped when the test ends.
type Issuer struct {
	// URL is the issuer's URL, as its tokens' "iss" claim names it.
	URL string

	key  *rsa.PrivateKey
	hits atomic.Int64
}

// Start starts an issuer with a new RSA key.
func Start(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &Issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		is.hits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.URL, "jwks_uri": is.URL + "/keys",
			"authorization_endpoint": is.URL + "/auth", "token_endpoint": is.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		is.hits.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: KeyID, Algorithm: "RS256", Use: "sig"}}})
	})
	srv := httptest.NewServer(mux)
	is.URL = srv.URL
	t.Cleanup(srv.Close)
	return is
}

// Hits returns how many times the discovery document and the keys were
// fetched.
func (is *Issuer) Hits() int64 { return is.hits.Load() }

// Token returns claims signed with the issuer's key.
func (is *Issuer) Token(t testing.TB, claims map[string]any) string {
	t.Helper()
	return Sign(t, is.key, KeyID, claims)
}

// Sign returns claims as a JWT signed (RS256) with key under key id kid.
func Sign(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
