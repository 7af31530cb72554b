package caldavstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/eradicate-dev/eradicate/calendar"
)

// HTTPError is a request the server answered with a status that is not
// 2xx. Every error of a [Store] that comes from such an answer wraps one;
// callers reach it with [errors.As]. It never holds credentials or bodies.
type HTTPError struct {
	// Method is the request method, e.g. "PUT".
	Method string
	// Path is the request path on the server (no query, no user info).
	Path string
	// StatusCode is the HTTP status code, e.g. 412.
	StatusCode int
}

// Error formats the method, the path and the status.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("caldavstore: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
}

// statusOf returns the HTTP status err carries, 0 when it carries none.
func statusOf(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode
	}
	return 0
}

// Credential is a user name and password for HTTP Basic authentication.
// Its String, GoString and LogValue methods never reveal the password.
type Credential struct {
	// Username is the HTTP Basic user name, e.g. the owner's address or
	// an admin account.
	Username string
	// Password is the HTTP Basic password.
	Password string
}

// String returns the user name and a redacted password.
func (c Credential) String() string { return c.Username + ":[redacted]" }

// GoString is String, so that %#v does not print the password either.
func (c Credential) GoString() string { return c.String() }

// LogValue logs the user name only.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", "[redacted]"))
}

// CredentialProvider gives the credential a [Store] uses for an owner's
// calendars. Implementations are safe for concurrent use. An owner the
// provider does not know gives an error wrapping [calendar.ErrNoOwner].
type CredentialProvider interface {
	// Credential returns the credential for owner's calendars.
	Credential(ctx context.Context, owner string) (Credential, error)
}

// CredentialFunc adapts a function to a [CredentialProvider].
type CredentialFunc func(ctx context.Context, owner string) (Credential, error)

// Credential calls f.
func (f CredentialFunc) Credential(ctx context.Context, owner string) (Credential, error) {
	return f(ctx, owner)
}

// Admin returns a provider that gives one admin credential for every
// owner: an account with read and write access to every owner's calendars
// (Radicale: a user given "RrWw" on every collection by a rights file). A
// store that uses it needs [Options.Home]: discovery would find the
// admin's own home.
func Admin(username, password string) CredentialProvider {
	return adminCred{Credential{Username: username, Password: password}}
}

type adminCred struct{ c Credential }

func (a adminCred) Credential(context.Context, string) (Credential, error) { return a.c, nil }

// PerUser returns a provider that looks the owner up in creds (keys are
// owner addresses, compared case-insensitively). An owner not in creds
// gives [calendar.ErrNoOwner]. creds is copied.
func PerUser(creds map[string]Credential) CredentialProvider {
	m := make(map[string]Credential, len(creds))
	for k, v := range creds {
		m[strings.ToLower(k)] = v
	}
	return perUser(m)
}

type perUser map[string]Credential

func (p perUser) Credential(_ context.Context, owner string) (Credential, error) {
	c, ok := p[strings.ToLower(owner)]
	if !ok {
		return Credential{}, fmt.Errorf("%w: no credential for %q", calendar.ErrNoOwner, owner)
	}
	return c, nil
}

// doer is the webdav.HTTPClient every request of a Store goes through: it
// adds the credential, logs the exchange without secrets, and turns an
// answer that is not 2xx into an *HTTPError, which go-webdav passes on
// unchanged (it would otherwise hide the status in an internal type).
type doer struct {
	hc   *http.Client
	cred Credential
	log  *slog.Logger
}

// maxErrorBody bounds how much of an error answer is read (and dropped) so
// that the connection can be reused.
const maxErrorBody = 64 << 10

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	req.SetBasicAuth(d.cred.Username, d.cred.Password)
	resp, err := d.hc.Do(req)
	if err != nil {
		// *url.Error holds the URL without user info; keep ctx errors
		// reachable with errors.Is.
		return nil, fmt.Errorf("caldavstore: %s %s: %w", req.Method, req.URL.Path, unwrapURLError(err))
	}
	d.log.LogAttrs(req.Context(), slog.LevelDebug, "caldav request",
		slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.Int("status", resp.StatusCode))
	if resp.StatusCode/100 == 2 {
		resp.Body = &boundedBody{rc: resp.Body, left: maxResponseBody, what: req.Method + " " + req.URL.Path}
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return nil, &HTTPError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode}
}

// maxResponseBody bounds a successful answer (a PROPFIND or REPORT of a
// whole calendar): past it the read fails, rather than a hostile or broken
// server filling memory, or a cut answer hiding entries.
const maxResponseBody = 256 << 20

// ErrResponseTooLarge means a server's answer exceeded the store's bound.
var ErrResponseTooLarge = errors.New("caldavstore: server answer too large")

// boundedBody fails once more than left bytes have been read.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	what string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%w: %s: more than %d bytes", ErrResponseTooLarge, b.what, maxResponseBody)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("%w: %s: more than %d bytes", ErrResponseTooLarge, b.what, maxResponseBody)
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
