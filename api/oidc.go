package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDCOptions configure [NewOIDC].
type OIDCOptions struct {
	// Issuer is the issuer's URL, exactly as its tokens' "iss" claim
	// names it; its discovery document
	// (Issuer + "/.well-known/openid-configuration") names the signing
	// keys. Required.
	Issuer string
	// Audience is the audience the tokens must be issued for ("aud"):
	// the client id the issuer knows the API by. Required.
	Audience string
	// IdentityClaim is the claim whose string value names the caller
	// ([Identity.Name], recorded in the action center); default "sub".
	IdentityClaim string
	// RolesClaim is the claim read for roles: a string or a list of
	// strings (groups, roles); default "roles".
	RolesClaim string
	// Roles maps values of RolesClaim to roles. A caller none of whose
	// values is mapped is authenticated without a role: every call but
	// none answers 403.
	Roles map[string][]Role
	// Client fetches the discovery document and the keys; nil means
	// http.DefaultClient.
	Client *http.Client
}

// OIDC authenticates calls by JSON Web Tokens an OpenID Connect issuer
// signed ("Authorization: Bearer <JWT>"): the signature against the
// issuer's published keys (fetched again when a token names a key not
// seen yet), the issuer, the audience and the expiry are checked, then the
// identity and the roles are read from the claims. A token verified once is
// remembered (by its SHA-256, up to 1,024 tokens) until it expires, so that
// the signature of a caller's token is checked once, not on every call. The issuer is
// discovered at the first call that carries a JWT, and again after a
// failed discovery, so that an API starts while its issuer is down.
type OIDC struct {
	opts OIDCOptions

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	failed   time.Time // the last failed discovery

	cmu   sync.Mutex
	cache map[[sha256.Size]byte]verified // tokens verified, by their hash
}

// verified is a token verified before, until it expires.
type verified struct {
	id      Identity
	expires time.Time
}

// oidcCacheSize bounds the tokens remembered as verified: a caller sends
// the same token on every call until it expires, and checking its
// signature again costs a hundred times a bearer token's check.
const oidcCacheSize = 1024

// NewOIDC returns an OIDC authenticator. It checks the options and
// contacts nothing.
func NewOIDC(opts OIDCOptions) (*OIDC, error) {
	if opts.Issuer == "" || !strings.HasPrefix(opts.Issuer, "https://") && !strings.HasPrefix(opts.Issuer, "http://") {
		return nil, fmt.Errorf("api: OIDC issuer %q must be an https:// (or, for tests, http://) URL", opts.Issuer)
	}
	if opts.Audience == "" {
		return nil, errors.New("api: OIDC needs an audience (the API's client id at the issuer)")
	}
	if opts.IdentityClaim == "" {
		opts.IdentityClaim = "sub"
	}
	if opts.RolesClaim == "" {
		opts.RolesClaim = "roles"
	}
	m := make(map[string][]Role, len(opts.Roles))
	for v, rs := range opts.Roles {
		if len(rs) == 0 {
			return nil, fmt.Errorf("api: OIDC %s value %q maps to no role", opts.RolesClaim, v)
		}
		for _, r := range rs {
			if !r.Valid() {
				return nil, fmt.Errorf("api: OIDC %s value %q: unknown role %q (reader, analyst, approver or admin)", opts.RolesClaim, v, r)
			}
		}
		m[v] = slices.Clone(rs)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("api: OIDC needs roles: which values of the %q claim give which role", opts.RolesClaim)
	}
	opts.Roles = m
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	return &OIDC{opts: opts}, nil
}

// discoveryRetry is how long a failed discovery is remembered before the
// next call tries again.
const discoveryRetry = 5 * time.Second

// verifierFor returns the token verifier, discovering the issuer first.
func (a *OIDC) verifierFor(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.verifier != nil {
		return a.verifier, nil
	}
	if time.Since(a.failed) < discoveryRetry {
		return nil, fmt.Errorf("api: the OIDC issuer %s could not be discovered a moment ago", a.opts.Issuer)
	}
	// The key set keeps this context for its later fetches: it must
	// outlive the call.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), a.opts.Client)
	dctx, cancel := context.WithTimeout(pctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, a.opts.Issuer)
	if err != nil {
		a.failed = time.Now()
		return nil, fmt.Errorf("api: discovering the OIDC issuer: %w", err)
	}
	var cfg struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&cfg); err != nil || cfg.JWKS == "" {
		a.failed = time.Now()
		return nil, fmt.Errorf("api: the OIDC issuer %s names no jwks_uri", a.opts.Issuer)
	}
	keys := oidc.NewRemoteKeySet(pctx, cfg.JWKS)
	a.verifier = oidc.NewVerifier(a.opts.Issuer, keys, &oidc.Config{ClientID: a.opts.Audience})
	return a.verifier, nil
}

// Authenticate implements [Authenticator]. A bearer credential that is not
// a JWT is not this authenticator's (ErrUnauthenticated), so that it
// combines with [Tokens] in [AnyOf]; an issuer that cannot be discovered is
// an error of the server (500), not of the caller.
func (a *OIDC) Authenticate(r *http.Request) (Identity, error) {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return Identity{}, fmt.Errorf("%w: a bearer token is required", ErrUnauthenticated)
	}
	if strings.Count(raw, ".") != 2 {
		return Identity{}, fmt.Errorf("%w: not a JWT", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(raw))
	a.cmu.Lock()
	hit, ok := a.cache[sum]
	a.cmu.Unlock()
	if ok && time.Now().Before(hit.expires) {
		id := hit.id
		id.Roles = slices.Clone(id.Roles)
		return id, nil
	}
	v, err := a.verifierFor(r.Context())
	if err != nil {
		return Identity{}, err
	}
	tok, err := v.Verify(r.Context(), raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: JWT: %v", ErrUnauthenticated, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: JWT claims: %v", ErrUnauthenticated, err)
	}
	name, _ := claims[a.opts.IdentityClaim].(string)
	if strings.TrimSpace(name) == "" {
		return Identity{}, fmt.Errorf("%w: the JWT has no %q claim to name the caller", ErrUnauthenticated, a.opts.IdentityClaim)
	}
	var values []string
	switch c := claims[a.opts.RolesClaim].(type) {
	case string:
		values = []string{c}
	case []any:
		for _, v := range c {
			if s, ok := v.(string); ok {
				values = append(values, s)
			}
		}
	}
	id := Identity{Name: name}
	for _, v := range values {
		for _, r := range a.opts.Roles[v] {
			if !slices.Contains(id.Roles, r) {
				id.Roles = append(id.Roles, r)
			}
		}
	}
	a.cmu.Lock()
	if a.cache == nil || len(a.cache) >= oidcCacheSize {
		a.cache = make(map[[sha256.Size]byte]verified)
	}
	a.cache[sum] = verified{id: Identity{Name: id.Name, Roles: slices.Clone(id.Roles)}, expires: tok.Expiry}
	a.cmu.Unlock()
	return id, nil
}
