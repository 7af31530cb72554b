package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/eradicate-dev/eradicate/api"
)

// An OpenID Connect issuer's JWT authenticates a call: its "email" claim
// names the caller and the values of its "groups" claim map to roles. The
// issuer here is a local server publishing its discovery document and keys.
func ExampleNewOIDC() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	mux := http.NewServeMux()
	issuer := httptest.NewServer(mux)
	defer issuer.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer.URL, "jwks_uri": issuer.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})

	auth, err := api.NewOIDC(api.OIDCOptions{
		Issuer: issuer.URL, Audience: "eradicate", IdentityClaim: "email", RolesClaim: "groups",
		Roles: map[string][]api.Role{"soc-leads": {api.RoleAnalyst, api.RoleApprover}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// A token as the issuer signs it.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	claims, _ := json.Marshal(map[string]any{"iss": issuer.URL, "aud": "eradicate", "sub": "8f2c",
		"email": "lead@corp.example", "groups": []string{"staff", "soc-leads"}, "exp": time.Now().Add(time.Hour).Unix()})
	jws, _ := signer.Sign(claims)
	token, _ := jws.CompactSerialize()

	req := httptest.NewRequest("GET", "/eradicate/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	id, err := auth.Authenticate(req)
	fmt.Println(id.Name, id.Roles, err)
	// Output:
	// lead@corp.example [analyst approver] <nil>
}
