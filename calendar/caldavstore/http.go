package caldavstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/internal/secretfmt"
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
// Its String, GoString, Format (every verb), LogValue and MarshalJSON
// methods never reveal the password.
type Credential struct {
	// Username is the HTTP Basic user name, e.g. the owner's address or
	// an admin account.
	Username string
	// Password is the HTTP Basic password.
	Password string
}

// String returns the user name and a redacted password.
func (c Credential) String() string { return c.Username + ":" + redacted }

// GoString is String, so that %#v does not print the password either.
func (c Credential) GoString() string { return c.String() }

// Format writes String for every verb: %d, %x or %+v would otherwise
// print the fields, the password included.
func (c Credential) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, c.String()) }

// LogValue logs the user name only.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", redacted))
}

// MarshalJSON encodes the user name and a redacted password.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Username, Password string }{c.Username, redacted})
}

// redacted stands for a secret in every output.
const redacted = "[redacted]"

// SecretKey is a key that never shows: it prints, logs, formats (with
// every verb) and encodes as "[redacted]". Its underlying type is []byte,
// so a []byte is assigned to it, and it is passed as one, without a
// conversion.
type SecretKey []byte

// String returns "[redacted]".
func (SecretKey) String() string { return redacted }

// GoString returns "[redacted]".
func (SecretKey) GoString() string { return redacted }

// Format writes "[redacted]" for every verb.
func (SecretKey) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, redacted) }

// LogValue returns "[redacted]" for log/slog.
func (SecretKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]", so that encoding Options never writes
// the key.
func (SecretKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }

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

// String names the admin user, never the password.
func (a adminCred) String() string { return "caldavstore.Admin(" + a.c.String() + ")" }

// Format writes String for every verb: the unexported field would
// otherwise be printed as it is, without Credential's methods.
func (a adminCred) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, a.String()) }

// LogValue logs the admin user name only.
func (a adminCred) LogValue() slog.Value { return a.c.LogValue() }

// MarshalJSON encodes the credential without its password.
func (a adminCred) MarshalJSON() ([]byte, error) { return a.c.MarshalJSON() }

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

// String gives the number of credentials, never their passwords.
func (p perUser) String() string { return fmt.Sprintf("caldavstore.PerUser(%d credentials)", len(p)) }

// Format writes String for every verb.
func (p perUser) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, p.String()) }

// LogValue logs the number of credentials.
func (p perUser) LogValue() slog.Value { return slog.StringValue(p.String()) }

func (p perUser) Credential(_ context.Context, owner string) (Credential, error) {
	c, ok := p[strings.ToLower(owner)]
	if !ok {
		return Credential{}, fmt.Errorf("%w: no credential for %q", calendar.ErrNoOwner, owner)
	}
	return c, nil
}

// ErrRedirect means the server answered a request with a redirect (a 3xx
// status with a Location). A Store never follows one: the credential
// would go wherever the server points, another host or plain http, and a
// DELETE or PUT would act on another object than the one named, perhaps
// another owner's, while reporting success. The error also wraps the
// *HTTPError of the answer.
var ErrRedirect = errors.New("caldavstore: server answered with a redirect, not followed")

// ErrForeignURL means a request of a Store was about to go to another
// scheme or host than the endpoint's; it is refused before the credential
// is added.
var ErrForeignURL = errors.New("caldavstore: request outside the endpoint refused")

// refuseRedirect is the CheckRedirect of every Store's client: the 3xx
// answer itself comes back to the doer, which turns it into ErrRedirect.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// doer is the webdav.HTTPClient every request of a Store goes through: it
// adds the credential, only to requests for the endpoint's scheme and host,
// logs the exchange without secrets, and turns an answer that is not 2xx
// into an *HTTPError, which go-webdav passes on unchanged (it would
// otherwise hide the status in an internal type).
type doer struct {
	hc       *http.Client // CheckRedirect is refuseRedirect
	cred     Credential
	log      *slog.Logger
	endpoint *url.URL
}

// maxErrorBody bounds how much of an error answer is read (and dropped) so
// that the connection can be reused.
const maxErrorBody = 64 << 10

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	if !sameOrigin(req.URL, d.endpoint) {
		return nil, fmt.Errorf("%w: %s %s://%s%s (the endpoint is %s://%s)", ErrForeignURL,
			req.Method, req.URL.Scheme, req.URL.Host, req.URL.Path, d.endpoint.Scheme, d.endpoint.Host)
	}
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
		if resp.StatusCode == http.StatusMultiStatus && req.Method == "PROPFIND" {
			return errorMultistatus(req, resp)
		}
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	he := &HTTPError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode}
	if resp.StatusCode/100 == 3 && resp.Header.Get("Location") != "" {
		// The Location is left out: it may hold anything, user info too.
		return nil, fmt.Errorf("%w: %w", ErrRedirect, he)
	}
	return nil, he
}

// sameOrigin reports whether u has the scheme and host (with port) of the
// endpoint, and no user info of its own.
func sameOrigin(u, endpoint *url.URL) bool {
	return u != nil && u.User == nil && strings.EqualFold(u.Scheme, endpoint.Scheme) &&
		strings.EqualFold(u.Host, endpoint.Host)
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
