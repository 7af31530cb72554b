package caldavstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/internal/msgid"
	"github.com/eradicate-dev/eradicate/internal/secretfmt"
)

// Errors of [New].
var (
	// ErrInsecure means the endpoint is not https and
	// [Options.AllowInsecure] is not set.
	ErrInsecure = errors.New("caldavstore: endpoint is not https")
	// ErrNeedHome means an admin credential was given without
	// [Options.Home]: discovery would find the admin's own calendars.
	ErrNeedHome = errors.New("caldavstore: an admin credential needs Options.Home")
	// ErrNoProvenanceKey means [Options.ProvenanceKey] is empty and
	// [Options.UnsignedProvenance] is not set: unsigned provenance could
	// be written by any client that can write to a calendar.
	ErrNoProvenanceKey = errors.New("caldavstore: no Options.ProvenanceKey to sign provenance (UnsignedProvenance not set)")
)

// Options configure a [Store]. A nil *Options is the same as a zero value.
type Options struct {
	// HTTPClient sends the requests. Nil means a client of its own with
	// the default transport settings, TLSConfig, and no overall timeout
	// (ctx bounds each call). The store uses a copy whose CheckRedirect
	// refuses every redirect (see [ErrRedirect]); the caller's client is
	// not changed.
	HTTPClient *http.Client
	// TLSConfig is used when HTTPClient is nil; it is cloned. Nil means
	// the system roots and TLS 1.2 or newer.
	TLSConfig *tls.Config
	// AllowInsecure allows an http:// endpoint (for loopback tests). The
	// default refuses it: credentials would travel in clear text.
	AllowInsecure bool
	// Home maps an owner to the path of their calendar home set on the
	// server, e.g. [HomeUnder]("/") for Radicale ("/alice@example.com/").
	// Nil means discovery with the owner's credential: the
	// current-user-principal (RFC 5397) and its calendar-home-set (RFC 4791
	// section 6.2.1), cached per owner. Required with [Admin].
	Home func(owner string) string
	// ProvenanceKey signs the provenance property with HMAC-SHA256; the
	// store treats a property without a valid signature as unknown
	// provenance, which is never removed. Required unless
	// UnsignedProvenance is set. Keep it secret, the same for every store
	// of a deployment, and stable: entries signed with another key read as
	// unknown. It never prints or logs: a []byte is assigned to it as it
	// is.
	ProvenanceKey SecretKey
	// UnsignedProvenance, DANGEROUS, lets [New] run without a
	// ProvenanceKey: provenance is then written and read unsigned, so any
	// client that can write to a calendar (the owner's, a delegate's) can
	// mark an entry as created by an invite and have a hard delete remove
	// it. New logs a warning when it is used. Ignored when ProvenanceKey
	// is set.
	UnsignedProvenance bool
	// DefaultCalendar is the id of the calendar where new entries go
	// ([calendar.ApplyInvite], [calendar.Import]) for every owner. ""
	// means the first calendar [Store.Calendars] lists (ids in byte
	// order).
	DefaultCalendar string
	// ClientFilter makes Find (and Put's lookup of a UID) ask the server
	// for every event of each calendar and match them on the client only,
	// sending no text-match. It is for servers whose text-match is not
	// the substring match of RFC 4791 section 9.7.5: Xandikos 0.2.8
	// compares whole values (a message id inside the provenance property
	// is never found) and fails with 500 on non-ASCII text. It costs a
	// transfer of every event per Find.
	ClientFilter bool
	// Logger receives debug logs (method, path, status; never bodies or
	// credentials). Nil discards them.
	Logger *slog.Logger
}

// Format prints the options as %+v would, with the key redacted, for
// every verb: a *Options in a slice printed with %s, for one, would
// otherwise print the key's bytes.
func (o Options) Format(f fmt.State, verb rune) {
	type fields Options // without methods
	secretfmt.Format(f, verb, fmt.Sprintf("%+v", fields(o)))
}

// HomeUnder returns an [Options.Home] that places each owner's home
// directly under prefix: prefix + owner + "/". Radicale's layout is
// HomeUnder("/").
func HomeUnder(prefix string) func(owner string) string {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return func(owner string) string { return prefix + owner + "/" }
}

// Store is a calendar.Store over a CalDAV server (RFC 4791). It is safe for
// concurrent use by multiple goroutines.
type Store struct {
	endpoint *url.URL
	creds    CredentialProvider
	hc       *http.Client
	opts     Options
	log      *slog.Logger

	mu    sync.Mutex
	homes map[string]string // discovered homes by owner
}

var (
	_ calendar.Store                = (*Store)(nil)
	_ calendar.DefaultCalendarStore = (*Store)(nil)
)

// String describes the store by its endpoint; it never shows its
// credentials or provenance key.
func (s *Store) String() string {
	if s == nil {
		return "caldavstore.Store(nil)"
	}
	return "caldavstore.Store(" + s.endpoint.String() + ")"
}

// Format writes [Store.String] for every verb: the fields, credentials
// and key included, are never printed.
func (s *Store) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, s.String()) }

// LogValue logs the endpoint only.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }

// New returns a Store for the CalDAV server at endpoint (its base URL,
// e.g. "https://cal.example.com/"), authenticating with creds. opts may be
// nil. It sends no request. Without [Options.ProvenanceKey] it fails with
// [ErrNoProvenanceKey] unless [Options.UnsignedProvenance] is set; then it
// logs a warning to [Options.Logger] (slog's default logger when that is
// nil).
func New(endpoint string, creds CredentialProvider, opts *Options) (*Store, error) {
	s := &Store{creds: creds, homes: make(map[string]string)}
	if opts != nil {
		s.opts = *opts
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("caldavstore: endpoint %q is not an http(s) URL", endpoint)
	}
	if u.User != nil {
		return nil, errors.New("caldavstore: endpoint must not hold credentials; use a CredentialProvider")
	}
	if u.Scheme != "https" && !s.opts.AllowInsecure {
		return nil, ErrInsecure
	}
	if u.Path == "" {
		u.Path = "/"
	}
	u.RawQuery, u.Fragment = "", ""
	s.endpoint = u
	if creds == nil {
		return nil, errors.New("caldavstore: no credentials")
	}
	if _, ok := creds.(adminCred); ok && s.opts.Home == nil {
		return nil, ErrNeedHome
	}
	if s.opts.HTTPClient != nil {
		// A copy, so that the caller's client is left as it is.
		c := *s.opts.HTTPClient
		s.hc = &c
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if s.opts.TLSConfig != nil {
			tr.TLSClientConfig = s.opts.TLSConfig.Clone()
		} else {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.MaxIdleConnsPerHost = 32
		s.hc = &http.Client{Transport: tr}
	}
	s.hc.CheckRedirect = refuseRedirect
	s.log = s.opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if len(s.opts.ProvenanceKey) == 0 {
		if !s.opts.UnsignedProvenance {
			return nil, ErrNoProvenanceKey
		}
		warn := s.opts.Logger
		if warn == nil {
			warn = slog.Default()
		}
		warn.Warn("caldavstore: UNSIGNED PROVENANCE: no ProvenanceKey; any client that can write to a calendar can forge invite provenance and have a hard delete remove the entry",
			"endpoint", s.endpoint.Redacted())
	}
	return s, nil
}

// session is one owner's view of the server.
type session struct {
	c    *caldav.Client
	d    *doer
	home string
}

// checkName refuses names that would leave their place in a path.
func checkName(kind, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("caldavstore: unusable %s %q", kind, name)
	}
	return nil
}

// session returns the owner's client and calendar home set.
func (s *Store) session(ctx context.Context, owner string) (*session, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("caldavstore: %w", err)
	}
	if err := checkName("owner", owner); err != nil {
		return nil, fmt.Errorf("%w: %w", calendar.ErrNoOwner, err)
	}
	cred, err := s.creds.Credential(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("caldavstore: credential for %q: %w", owner, err)
	}
	d := &doer{hc: s.hc, cred: cred, log: s.log, endpoint: s.endpoint}
	c, err := caldav.NewClient(d, s.endpoint.String())
	if err != nil {
		return nil, fmt.Errorf("caldavstore: %w", err)
	}
	ss := &session{c: c, d: d}
	if s.opts.Home != nil {
		ss.home = s.opts.Home(owner)
		if !strings.HasPrefix(ss.home, "/") || !strings.HasSuffix(ss.home, "/") {
			ss.home = "/" + strings.Trim(ss.home, "/") + "/"
		}
		return ss, nil
	}
	s.mu.Lock()
	home, ok := s.homes[owner]
	s.mu.Unlock()
	if !ok {
		principal, err := c.FindCurrentUserPrincipal(ctx)
		if err != nil {
			return nil, s.ownerErr(owner, "find the current user principal", err)
		}
		home, err = c.FindCalendarHomeSet(ctx, principal)
		if err != nil {
			return nil, s.ownerErr(owner, "find the calendar home set", err)
		}
		if home == "" {
			return nil, fmt.Errorf("%w: %q has no calendar home set", calendar.ErrNoOwner, owner)
		}
		if !strings.HasSuffix(home, "/") {
			home += "/"
		}
		s.mu.Lock()
		s.homes[owner] = home
		s.mu.Unlock()
	}
	ss.home = home
	return ss, nil
}

// ownerErr wraps err, adding calendar.ErrNoOwner when the server answered
// 404 for the owner's principal or home.
func (s *Store) ownerErr(owner, what string, err error) error {
	if statusOf(err) == http.StatusNotFound {
		return fmt.Errorf("%w: %s of %q: %w", calendar.ErrNoOwner, what, owner, err)
	}
	return fmt.Errorf("caldavstore: %s of %q: %w", what, owner, err)
}

// urlOf returns the absolute URL of a server path.
func (s *Store) urlOf(p string) string {
	u := url.URL{Scheme: s.endpoint.Scheme, Host: s.endpoint.Host, Path: p}
	return u.String()
}

// Calendars lists the owner's calendars that can hold events, by id. An
// owner whose principal or home set the server does not have (404) is
// calendar.ErrNoOwner; a 403 is returned as an *HTTPError (a rights
// problem, not a missing owner).
func (s *Store) Calendars(ctx context.Context, owner string) ([]calendar.Info, error) {
	ss, err := s.session(ctx, owner)
	if err != nil {
		return nil, err
	}
	return s.calendars(ctx, ss, owner)
}

func (s *Store) calendars(ctx context.Context, ss *session, owner string) ([]calendar.Info, error) {
	cals, err := ss.c.FindCalendars(ctx, ss.home)
	if err != nil {
		return nil, s.ownerErr(owner, "list the calendars", err)
	}
	out := make([]calendar.Info, 0, len(cals))
	for _, c := range cals {
		if !supportsEvents(c.SupportedComponentSet) {
			continue
		}
		p := strings.TrimSuffix(c.Path, "/")
		if path.Dir(p)+"/" != ss.home {
			continue // not a direct child of the home set
		}
		id := path.Base(p)
		name := c.Name
		if name == "" {
			name = id
		}
		out = append(out, calendar.Info{ID: id, Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DefaultCalendar returns the id of the owner's calendar for new entries:
// [Options.DefaultCalendar] when set (calendar.ErrNotFound when the owner
// lacks it), else the first calendar listed (calendar.ErrNotFound when the
// owner has none).
func (s *Store) DefaultCalendar(ctx context.Context, owner string) (string, error) {
	cals, err := s.Calendars(ctx, owner)
	if err != nil {
		return "", err
	}
	for _, c := range cals {
		if s.opts.DefaultCalendar == "" || c.ID == s.opts.DefaultCalendar {
			return c.ID, nil
		}
	}
	return "", fmt.Errorf("%w: %q has no calendar %q", calendar.ErrNotFound, owner, s.opts.DefaultCalendar)
}

// uidFilterText is the text a calendar-query looks for to find a UID: its
// longest run without the characters iCalendar escapes in TEXT values
// (RFC 5545 section 3.3.11), since some servers (go-webdav) match the
// escaped text. Radicale matches the unescaped one; either way the store
// verifies hits.
func uidFilterText(uid string) string {
	best := ""
	for _, part := range strings.FieldsFunc(uid, func(r rune) bool { return strings.ContainsRune(";,\\\n\r", r) }) {
		if len(part) > len(best) {
			best = part
		}
	}
	if best == "" {
		return uid
	}
	return best
}

// uidOf returns the UID of the first VEVENT of cal.
func uidOf(cal *ical.Calendar) string {
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			uid, _ := c.Props.Text(ical.PropUID)
			return uid
		}
	}
	return ""
}

func supportsEvents(set []string) bool {
	if len(set) == 0 {
		return true
	}
	for _, c := range set {
		if strings.EqualFold(c, ical.CompEvent) {
			return true
		}
	}
	return false
}

// object is one calendar object as a query returns it.
type object struct {
	name string // last path segment
	cal  *ical.Calendar
	etag string // as the server wrote it, quoted, perhaps weak; "" when it gave none
}

// Find returns the owner's entries matching q in every calendar. The
// server narrows with a calendar-query text-match on UID or on the
// provenance property; every hit is then checked exactly: UIDs byte for
// byte, message ids case-insensitively without angle brackets. When both
// fields of q are set an entry must match both.
func (s *Store) Find(ctx context.Context, owner string, q calendar.Query) ([]calendar.Entry, error) {
	uid := q.UID
	mid := msgid.Normalize(q.MessageID)
	if uid == "" && mid == "" {
		return nil, calendar.ErrEmptyQuery
	}
	ss, err := s.session(ctx, owner)
	if err != nil {
		return nil, err
	}
	cals, err := s.calendars(ctx, ss, owner)
	if err != nil {
		return nil, err
	}
	out := []calendar.Entry{}
	for _, info := range cals {
		calPath := ss.home + info.ID + "/"
		var objs []object
		if uid != "" {
			objs, err = s.query(ctx, ss, calPath, ical.PropUID, uidFilterText(uid))
		} else {
			objs, err = s.query(ctx, ss, calPath, PropProvenance, messageIDFilterText(mid))
		}
		if err != nil {
			if statusOf(err) == http.StatusNotFound {
				continue // removed since the listing
			}
			return nil, fmt.Errorf("caldavstore: query calendar %q of %q: %w", info.ID, owner, err)
		}
		for _, o := range objs {
			raw, err := encodeICal(o.cal)
			if err != nil {
				return nil, fmt.Errorf("caldavstore: re-encode %s%s: %w", calPath, o.name, err)
			}
			e, err := s.decodeEntry(owner, raw)
			if err != nil {
				s.log.WarnContext(ctx, "caldav object unreadable", slog.String("path", calPath+o.name), slog.Any("error", err))
				continue
			}
			if uid != "" && e.UID != uid {
				continue
			}
			if mid != "" && !calendar.EqualMessageID(e.Provenance.MessageID, mid) {
				continue
			}
			e.Calendar, e.ID, e.ETag = info.ID, o.name, o.etag
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Calendar != out[j].Calendar {
			return out[i].Calendar < out[j].Calendar
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// ObjectName returns the object name Put gives a new entry with this
// UID: the UID itself when it is made of letters, digits and "@._-" (and
// does not start with "." or "sha256-"), else "sha256-" and the hex
// SHA-256 of the UID; followed by ".ics". When another object (of another
// UID) holds that name already, Put adds a random suffix rather than
// replace it.
func ObjectName(uid string) string {
	// A UID that looks like a hashed name is hashed too: the two forms
	// never give the same name for different UIDs.
	safe := uid != "" && len(uid) <= 200 && uid[0] != '.' && !hasPrefixFold(uid, "sha256-") && !strings.ContainsFunc(uid, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@._-", r))
	})
	if safe {
		return uid + ".ics"
	}
	sum := sha256.Sum256([]byte(uid))
	return "sha256-" + hex.EncodeToString(sum[:]) + ".ics"
}

// maxPutAttempts bounds the retries of a Put that lost a race with the
// creation of an object of the same UID under another name, or whose
// object name another UID holds.
const maxPutAttempts = 3

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// freshName is ObjectName(uid) with a random suffix: the name of a new
// object when another object holds ObjectName(uid).
func freshName(uid string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return strings.TrimSuffix(ObjectName(uid), ".ics") + "-" + hex.EncodeToString(b[:]) + ".ics"
}

// Put stores e in calendar e.Calendar with e.Provenance written as the
// provenance property on every VEVENT (any such property in e.Raw is
// replaced). e.Raw, when set, is the object stored (a METHOD property is
// dropped, RFC 4791 section 4.1); otherwise the object is built from the
// fields of e ([calendar.Normalize]). With e.ID set the object of that name
// is replaced. With e.ID "" the object of the same UID in the calendar is
// replaced, or a new one is created under [ObjectName]; concurrent Puts of
// one UID leave one object, the last one written. A missing calendar is
// calendar.ErrNotFound; a VEVENT whose UID differs from e.UID is
// calendar.ErrInvalid.
func (s *Store) Put(ctx context.Context, owner string, e calendar.Entry) (calendar.Entry, error) {
	if err := checkName("calendar", e.Calendar); err != nil {
		return calendar.Entry{}, fmt.Errorf("%w: %w", calendar.ErrNotFound, err)
	}
	if e.ID != "" {
		if err := checkName("entry id", e.ID); err != nil {
			return calendar.Entry{}, fmt.Errorf("%w: %w", calendar.ErrInvalid, err)
		}
	}
	body, uid, err := s.objectBody(owner, e)
	if err != nil {
		return calendar.Entry{}, err
	}
	ss, err := s.session(ctx, owner)
	if err != nil {
		return calendar.Entry{}, err
	}
	calPath := ss.home + e.Calendar + "/"
	name, etag := e.ID, ""
	nameTaken := false
	for attempt := 1; ; attempt++ {
		create := false
		if e.ID == "" {
			objs, err := s.query(ctx, ss, calPath, ical.PropUID, uidFilterText(uid))
			if err != nil {
				return calendar.Entry{}, s.calErr(owner, e.Calendar, "look up UID", err)
			}
			name, create = ObjectName(uid), true
			if nameTaken {
				name = freshName(uid)
			}
			for _, o := range objs {
				if uidOf(o.cal) == uid {
					name, create = o.name, false
					break
				}
			}
		}
		// A new object never replaces what holds its name (another
		// client's object of another UID): If-None-Match: *.
		etag, err = s.putObject(ctx, ss, calPath+name, body, create)
		if err == nil {
			break
		}
		st := statusOf(err)
		if st == http.StatusPreconditionFailed && create && attempt < maxPutAttempts {
			nameTaken = true
			continue
		}
		if (st == http.StatusConflict || st == http.StatusForbidden) && e.ID == "" && attempt < maxPutAttempts {
			// Probably a UID conflict (RFC 4791 section 5.3.2.1): an
			// object of the UID appeared under another name meanwhile.
			continue
		}
		if st == http.StatusNotFound || st == http.StatusConflict {
			if _, perr := ss.c.FindCalendars(ctx, calPath); statusOf(perr) == http.StatusNotFound {
				return calendar.Entry{}, fmt.Errorf("%w: calendar %q of %q: %w", calendar.ErrNotFound, e.Calendar, owner, err)
			}
		}
		return calendar.Entry{}, fmt.Errorf("caldavstore: put %q in calendar %q of %q: %w", uid, e.Calendar, owner, err)
	}
	out, err := s.decodeEntry(owner, body)
	if err != nil {
		return calendar.Entry{}, err
	}
	out.Calendar, out.ID, out.ETag = e.Calendar, name, etag
	return out, nil
}

// calErr maps a 404 on a calendar to calendar.ErrNotFound.
func (s *Store) calErr(owner, cal, what string, err error) error {
	if statusOf(err) == http.StatusNotFound {
		return fmt.Errorf("%w: calendar %q of %q: %w", calendar.ErrNotFound, cal, owner, err)
	}
	return fmt.Errorf("caldavstore: %s in calendar %q of %q: %w", what, cal, owner, err)
}

// putObject PUTs body at p, replacing what is there, or, with create,
// only when nothing is there (If-None-Match: *; 412 otherwise). It returns
// the new ETag when the server sent one (a server may not, when it changed
// the body as it stored it: RFC 4791 section 5.3.4).
func (s *Store) putObject(ctx context.Context, ss *session, p string, body []byte, create bool) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.urlOf(p), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
	if create {
		req.Header.Set("If-None-Match", "*")
	}
	resp, err := ss.d.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("ETag"), nil
}

// Delete removes the object id from the owner's calendar cal. It is
// idempotent: a 404 or 410 answer (the object or the calendar is already
// gone) is success. A non-empty etag is sent as If-Match, and a 412 answer
// (the object changed, or went) is calendar.ErrChanged.
//
// A weak etag (W/"…", which some servers give) can never match If-Match,
// which compares strongly (RFC 9110 section 13.1.1): Delete then reads the
// object's current ETag (GET), compares it weakly, and deletes without a
// precondition when they match, calendar.ErrChanged otherwise. A change
// between the GET and the DELETE is not detected on such a server.
func (s *Store) Delete(ctx context.Context, owner, cal, id, etag string) error {
	if err := checkName("calendar", cal); err != nil {
		return err
	}
	if err := checkName("entry id", id); err != nil {
		return err
	}
	ss, err := s.session(ctx, owner)
	if err != nil {
		return err
	}
	if isWeak(etag) {
		cur, err := s.currentETag(ctx, ss, ss.home+cal+"/"+id)
		switch st := statusOf(err); {
		case st == http.StatusNotFound || st == http.StatusGone:
			return nil
		case err != nil:
			return fmt.Errorf("caldavstore: delete %q from calendar %q of %q: read its ETag: %w", id, cal, owner, err)
		case !weakEqual(cur, etag):
			return fmt.Errorf("caldavstore: delete %q from calendar %q of %q: %w: ETag %s, expected %s", id, cal, owner, calendar.ErrChanged, cur, etag)
		}
		etag = ""
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.urlOf(ss.home+cal+"/"+id), nil)
	if err != nil {
		return err
	}
	if etag != "" {
		req.Header.Set("If-Match", etag)
	}
	resp, err := ss.d.Do(req)
	switch st := statusOf(err); {
	case err == nil:
		resp.Body.Close()
		return nil
	case st == http.StatusNotFound || st == http.StatusGone:
		return nil
	case st == http.StatusPreconditionFailed && etag != "":
		// Servers answer 412 to If-Match on a missing object too (RFC
		// 9110 section 13.1.1): gone is done.
		if _, gerr := ss.c.GetCalendarObject(ctx, ss.home+cal+"/"+id); gerr != nil {
			if gst := statusOf(gerr); gst == http.StatusNotFound || gst == http.StatusGone {
				return nil
			}
		}
		return fmt.Errorf("caldavstore: delete %q from calendar %q of %q: %w: %w", id, cal, owner, calendar.ErrChanged, err)
	default:
		return fmt.Errorf("caldavstore: delete %q from calendar %q of %q: %w", id, cal, owner, err)
	}
}

// currentETag returns the ETag the server gives an object now (GET).
func (s *Store) currentETag(ctx context.Context, ss *session, p string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.urlOf(p), nil)
	if err != nil {
		return "", err
	}
	resp, err := ss.d.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("ETag"), nil
}

// EnsureCalendar makes sure the owner has a calendar with this id, and
// returns it. A missing calendar is created with MKCALENDAR (RFC 4791
// section 5.3.1), or with an extended MKCOL (RFC 5689) when the server
// does not support MKCALENDAR (405 or 501); displayName may be "". A
// missing home set is created first with MKCOL, which an admin credential
// needs on Radicale (a user's home appears at their first login). An
// existing calendar is left as it is.
func (s *Store) EnsureCalendar(ctx context.Context, owner, id, displayName string) (calendar.Info, error) {
	if err := checkName("calendar", id); err != nil {
		return calendar.Info{}, err
	}
	ss, err := s.session(ctx, owner)
	if err != nil {
		return calendar.Info{}, err
	}
	if _, err := ss.c.FindCalendars(ctx, ss.home); statusOf(err) == http.StatusNotFound {
		if err := s.mkcol(ctx, ss, "MKCOL", ss.home, ""); err != nil && statusOf(err) != http.StatusMethodNotAllowed {
			return calendar.Info{}, fmt.Errorf("caldavstore: create the home of %q: %w", owner, err)
		}
	} else if err != nil {
		return calendar.Info{}, s.ownerErr(owner, "read the home", err)
	}
	find := func() (calendar.Info, bool, error) {
		cals, err := s.calendars(ctx, ss, owner)
		if err != nil {
			return calendar.Info{}, false, err
		}
		for _, c := range cals {
			if c.ID == id {
				return c, true, nil
			}
		}
		return calendar.Info{}, false, nil
	}
	if info, ok, err := find(); err != nil || ok {
		return info, err
	}
	calPath := ss.home + id + "/"
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
		displayNameXML(displayName) +
		`<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>` +
		`</D:prop></D:set></C:mkcalendar>`
	err = s.mkcol(ctx, ss, "MKCALENDAR", calPath, body)
	if st := statusOf(err); st == http.StatusMethodNotAllowed || st == http.StatusNotImplemented {
		body = `<?xml version="1.0" encoding="utf-8"?>` +
			`<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
			`<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>` + displayNameXML(displayName) +
			`</D:prop></D:set></D:mkcol>`
		err = s.mkcol(ctx, ss, "MKCOL", calPath, body)
	}
	info, ok, ferr := find()
	if ferr != nil {
		return calendar.Info{}, ferr
	}
	if ok {
		return info, nil // created, or created meanwhile by someone else
	}
	if err == nil {
		err = errors.New("the calendar is not listed after its creation")
	}
	return calendar.Info{}, fmt.Errorf("caldavstore: create calendar %q of %q: %w", id, owner, err)
}

func displayNameXML(name string) string {
	if name == "" {
		return ""
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(name))
	return "<D:displayname>" + b.String() + "</D:displayname>"
}

func (s *Store) mkcol(ctx context.Context, ss *session, method, p, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, s.urlOf(p), strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	}
	resp, err := ss.d.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
