package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Role is what an identity may do. Every role includes [RoleReader];
// [RoleAdmin] includes every role.
type Role string

// Roles.
const (
	// RoleReader reads actions, their outcomes and the API document.
	RoleReader Role = "reader"
	// RoleAnalyst dry-runs, proposes any action, executes reversible
	// actions (every action but a hard delete) and undoes them.
	RoleAnalyst Role = "analyst"
	// RoleApprover approves and declines the proposals of others.
	RoleApprover Role = "approver"
	// RoleAdmin does everything, a direct hard delete and the detection
	// rules among it.
	RoleAdmin Role = "admin"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleReader, RoleAnalyst, RoleApprover, RoleAdmin:
		return true
	}
	return false
}

// Identity is who made a call: a name recorded as the actor or approver of
// the actions it asks for, and its roles.
type Identity struct {
	// Name identifies the caller, e.g. "alice@corp.example" or
	// "soar-playbook". It is recorded in the action center.
	Name string
	// Roles are the caller's roles.
	Roles []Role
}

// Has reports whether id holds role r: directly, as admin, or (for
// [RoleReader]) through any role.
func (id Identity) Has(r Role) bool {
	if slices.Contains(id.Roles, RoleAdmin) {
		return true
	}
	if r == RoleReader && len(id.Roles) > 0 {
		return true
	}
	return slices.Contains(id.Roles, r)
}

// ErrUnauthenticated is returned by an [Authenticator] for a call without
// credentials or with wrong ones; the handler answers 401.
var ErrUnauthenticated = errors.New("api: not authenticated")

// Authenticator tells who made a call. It returns an error wrapping
// [ErrUnauthenticated] when the call carries no valid credential. Other
// errors answer 500.
type Authenticator interface {
	// Authenticate returns the identity that made r.
	Authenticate(r *http.Request) (Identity, error)
}

// Token is one bearer token of a [Tokens] authenticator, as a
// configuration stores it: hashed, never in clear.
type Token struct {
	// Name is the identity the token authenticates.
	Name string
	// SHA256 is the hex SHA-256 of the token ([HashToken]).
	SHA256 string
	// Roles are the identity's roles.
	Roles []Role
}

// Tokens authenticates calls by bearer tokens ("Authorization: Bearer
// <token>") compared by their SHA-256 in constant time. Tokens are meant
// to be high-entropy secrets ([NewToken]): a SHA-256 of one is not
// reversible, so the configuration that holds the hashes holds no secret.
type Tokens struct {
	tokens []hashedToken
}

type hashedToken struct {
	sum [sha256.Size]byte
	id  Identity
}

// NewTokens returns an authenticator of tokens. Every token needs a name,
// a valid hex SHA-256 and at least one valid role; names and hashes must
// be unique.
func NewTokens(tokens []Token) (*Tokens, error) {
	a := &Tokens{}
	names := map[string]bool{}
	for i, t := range tokens {
		if strings.TrimSpace(t.Name) == "" {
			return nil, fmt.Errorf("api: token %d has no name", i)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("api: token name %q is used twice", t.Name)
		}
		names[t.Name] = true
		b, err := hex.DecodeString(t.SHA256)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("api: token %q: sha256 must be 64 hex digits (the SHA-256 of the token)", t.Name)
		}
		if len(t.Roles) == 0 {
			return nil, fmt.Errorf("api: token %q has no role", t.Name)
		}
		for _, r := range t.Roles {
			if !r.Valid() {
				return nil, fmt.Errorf("api: token %q: unknown role %q (reader, analyst, approver or admin)", t.Name, r)
			}
		}
		h := hashedToken{id: Identity{Name: t.Name, Roles: slices.Clone(t.Roles)}}
		copy(h.sum[:], b)
		for _, o := range a.tokens {
			if o.sum == h.sum {
				return nil, fmt.Errorf("api: tokens %q and %q have the same hash", o.id.Name, t.Name)
			}
		}
		a.tokens = append(a.tokens, h)
	}
	return a, nil
}

// Authenticate implements [Authenticator]. Every configured hash is
// compared, so the time taken does not depend on which token matched.
func (a *Tokens) Authenticate(r *http.Request) (Identity, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return Identity{}, fmt.Errorf("%w: a bearer token is required", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	found := -1
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Identity{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	id := a.tokens[found].id
	id.Roles = slices.Clone(id.Roles)
	return id, nil
}

// HashToken returns the hex SHA-256 of token, as [Token.SHA256] stores it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a new random token of 256 bits, prefixed "erad_" so
// that secret scanners can recognise it.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "erad_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}
