package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ClientCerts authenticates calls by a TLS client certificate that the
// server verified (a server whose tls.Config has ClientCAs and ClientAuth
// tls.VerifyClientCertIfGiven or stricter): the certificate's subject
// common name names the identity.
type ClientCerts struct {
	ids map[string]Identity
}

// NewClientCerts returns an authenticator of client certificates for ids,
// named by the common names of their certificates.
func NewClientCerts(ids []Identity) (*ClientCerts, error) {
	a := &ClientCerts{ids: map[string]Identity{}}
	for i, id := range ids {
		if strings.TrimSpace(id.Name) == "" {
			return nil, fmt.Errorf("api: client certificate identity %d has no name", i)
		}
		if _, dup := a.ids[id.Name]; dup {
			return nil, fmt.Errorf("api: client certificate identity %q is named twice", id.Name)
		}
		if len(id.Roles) == 0 {
			return nil, fmt.Errorf("api: client certificate identity %q has no role", id.Name)
		}
		for _, r := range id.Roles {
			if !r.Valid() {
				return nil, fmt.Errorf("api: client certificate identity %q: unknown role %q", id.Name, r)
			}
		}
		a.ids[id.Name] = Identity{Name: id.Name, Roles: slices.Clone(id.Roles)}
	}
	return a, nil
}

// Authenticate implements [Authenticator]. An unverified certificate (the
// server did not check it against its CAs) never authenticates.
func (a *ClientCerts) Authenticate(r *http.Request) (Identity, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return Identity{}, fmt.Errorf("%w: no verified client certificate", ErrUnauthenticated)
	}
	cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
	id, ok := a.ids[cn]
	if !ok {
		return Identity{}, fmt.Errorf("%w: the client certificate of %q names no identity", ErrUnauthenticated, cn)
	}
	id.Roles = slices.Clone(id.Roles)
	return id, nil
}

// AnyOf authenticates a call with the first of its authenticators that
// does, tried in order (e.g. bearer tokens, then client certificates).
// When none does, its error joins theirs, and wraps [ErrUnauthenticated].
type AnyOf []Authenticator

// Authenticate implements [Authenticator].
func (as AnyOf) Authenticate(r *http.Request) (Identity, error) {
	var errs []error
	for _, a := range as {
		id, err := a.Authenticate(r)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, ErrUnauthenticated) {
			return Identity{}, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return Identity{}, fmt.Errorf("%w: no authenticator", ErrUnauthenticated)
	}
	return Identity{}, errors.Join(errs...)
}
