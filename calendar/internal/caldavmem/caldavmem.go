package caldavmem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

// Server is a running in-memory CalDAV server. It is safe for concurrent
// use.
type Server struct {
	// URL is the base URL, e.g. "http://127.0.0.1:40123/".
	URL string

	users map[string]string
	be    *backend
	hs    *httptest.Server
	// Requests counts the requests served.
	requests atomic.Int64
}

// ETagStyle is how the server writes ETags, in ETag headers and getetag
// properties.
type ETagStyle int

const (
	// ETagStrong writes strong, quoted ETags ("…"), go-webdav's way.
	ETagStrong ETagStyle = iota
	// ETagWeak writes weak ETags (W/"…"). The server compares If-Match
	// strongly, as RFC 9110 section 13.1.1 says: a weak ETag never
	// matches.
	ETagWeak
	// ETagBare writes ETags without quotes, which RFC 9110 does not
	// allow but some servers do.
	ETagBare
)

// New serves an empty store for users (name to password) on 127.0.0.1.
// The caller stops it with [Server.Close].
func New(users map[string]string) (*Server, error) { return NewETags(users, ETagStrong) }

// NewETags is [New] with ETags written in style.
func NewETags(users map[string]string, style ETagStyle) (*Server, error) {
	s := &Server{users: make(map[string]string, len(users)), be: &backend{cals: map[string]*memCal{}}}
	for u, p := range users {
		s.users[u] = p
	}
	h := &caldav.Handler{Backend: s.be}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("caldavmem: listen: %w", err)
	}
	var handler http.Handler = h
	if style != ETagStrong {
		handler = restyleETags(h, style)
	}
	s.hs = &httptest.Server{Listener: l, Config: &http.Server{Handler: s.auth(handler), ReadHeaderTimeout: 10 * time.Second}}
	s.hs.Start()
	s.URL = s.hs.URL + "/"
	return s, nil
}

// Start is [New] for tests: it fails t on error and closes the server
// when the test ends.
func Start(t testing.TB, users map[string]string) *Server {
	t.Helper()
	s, err := New(users)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartETags is [NewETags] for tests, as [Start] is for [New].
func StartETags(t testing.TB, users map[string]string, style ETagStyle) *Server {
	t.Helper()
	s, err := NewETags(users, style)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// getetagRE finds a getetag element and its content.
var getetagRE = regexp.MustCompile(`(<(?:[A-Za-z_][\w.-]*:)?getetag(?:\s[^>]*)?>)([^<]*)(</(?:[A-Za-z_][\w.-]*:)?getetag\s*>)`)

// restyleETags rewrites the strong ETags of next's answers in style.
func restyleETags(next http.Handler, style ETagStyle) http.Handler {
	restyle := func(etag string) string {
		inner := strings.Trim(strings.TrimSpace(etag), `"`)
		if style == ETagWeak {
			return `W/"` + inner + `"`
		}
		return inner
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusMultiStatus {
			body = getetagRE.ReplaceAllFunc(body, func(m []byte) []byte {
				sub := getetagRE.FindSubmatch(m)
				var text struct {
					S string `xml:",chardata"`
				}
				if err := xml.Unmarshal(append(append([]byte("<x>"), sub[2]...), "</x>"...), &text); err != nil {
					return m
				}
				var b bytes.Buffer
				b.Write(sub[1])
				_ = xml.EscapeText(&b, []byte(restyle(text.S)))
				b.Write(sub[3])
				return b.Bytes()
			})
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		if e := rec.Header().Get("ETag"); e != "" {
			w.Header().Set("ETag", restyle(e))
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// Close stops the server.
func (s *Server) Close() { s.hs.Close() }

// Requests returns how many requests the server has served.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Home returns the calendar home set path of user.
func Home(user string) string { return "/" + user + "/calendars/" }

// CreateCalendar creates calendar id of user directly in the store.
func (s *Server) CreateCalendar(user, id, name string) error {
	return s.be.create(caldav.Calendar{Path: Home(user) + id + "/", Name: name, SupportedComponentSet: []string{ical.CompEvent}})
}

// Objects returns the raw objects of one calendar by name.
func (s *Server) Objects(user, id string) map[string][]byte {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	out := map[string][]byte{}
	if c, ok := s.be.cals[Home(user)+id+"/"]; ok {
		for p, o := range c.objs {
			out[p[strings.LastIndexByte(p, '/')+1:]] = bytes.Clone(o.data)
		}
	}
	return out
}

type userKey struct{}

// ifMatchKey carries a DELETE's If-Match header to the backend.
type ifMatchKey struct{}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		u, p, ok := r.BasicAuth()
		if want, known := s.users[u]; !ok || !known || want != p {
			w.Header().Set("WWW-Authenticate", `Basic realm="caldavmem"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/" && !strings.HasPrefix(r.URL.Path, "/"+u+"/") && r.URL.Path != "/"+u {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		ctx := context.WithValue(r.Context(), userKey{}, u)
		if r.Method == http.MethodDelete {
			// go-webdav's handler does not pass DELETE's preconditions to
			// the backend.
			ctx = context.WithValue(ctx, ifMatchKey{}, r.Header.Get("If-Match"))
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type memObj struct {
	data []byte
	etag string
	mod  time.Time
	uid  string
}

type memCal struct {
	cal  caldav.Calendar
	objs map[string]*memObj
}

type backend struct {
	mu   sync.Mutex
	cals map[string]*memCal // by path, with a trailing slash
}

var _ caldav.Backend = (*backend)(nil)

func user(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

func notFound(what string) error {
	return webdav.NewHTTPError(http.StatusNotFound, fmt.Errorf("caldavmem: %s not found", what))
}

func dirOf(p string) string { return p[:strings.LastIndexByte(p, '/')+1] }

func withSlash(p string) string {
	if !strings.HasSuffix(p, "/") {
		return p + "/"
	}
	return p
}

func (b *backend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	return "/" + user(ctx) + "/", nil
}

func (b *backend) CalendarHomeSetPath(ctx context.Context) (string, error) {
	return Home(user(ctx)), nil
}

func (b *backend) create(c caldav.Calendar) error {
	c.Path = withSlash(c.Path)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.cals[c.Path]; ok {
		return webdav.NewHTTPError(http.StatusMethodNotAllowed, errors.New("caldavmem: calendar exists"))
	}
	if len(c.SupportedComponentSet) == 0 {
		c.SupportedComponentSet = []string{ical.CompEvent}
	}
	b.cals[c.Path] = &memCal{cal: c, objs: map[string]*memObj{}}
	return nil
}

func (b *backend) CreateCalendar(ctx context.Context, c *caldav.Calendar) error {
	if !strings.HasPrefix(c.Path, Home(user(ctx))) {
		return webdav.NewHTTPError(http.StatusForbidden, errors.New("caldavmem: not in the home set"))
	}
	return b.create(*c)
}

func (b *backend) ListCalendars(ctx context.Context) ([]caldav.Calendar, error) {
	home := Home(user(ctx))
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []caldav.Calendar
	for p, c := range b.cals {
		if strings.HasPrefix(p, home) {
			out = append(out, c.cal)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (b *backend) GetCalendar(ctx context.Context, p string) (*caldav.Calendar, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cals[withSlash(p)]
	if !ok {
		return nil, notFound("calendar")
	}
	cc := c.cal
	return &cc, nil
}

func (o *memObj) object(p string) (caldav.CalendarObject, error) {
	cal, err := ical.NewDecoder(bytes.NewReader(o.data)).Decode()
	if err != nil {
		return caldav.CalendarObject{}, err
	}
	return caldav.CalendarObject{Path: p, ModTime: o.mod, ContentLength: int64(len(o.data)), ETag: o.etag, Data: cal}, nil
}

func (b *backend) GetCalendarObject(ctx context.Context, p string, _ *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cals[dirOf(p)]
	if !ok {
		return nil, notFound("calendar")
	}
	o, ok := c.objs[p]
	if !ok {
		return nil, notFound("object")
	}
	co, err := o.object(p)
	if err != nil {
		return nil, err
	}
	return &co, nil
}

func (b *backend) ListCalendarObjects(ctx context.Context, p string, _ *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cals[withSlash(p)]
	if !ok {
		return nil, notFound("calendar")
	}
	names := make([]string, 0, len(c.objs))
	for n := range c.objs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]caldav.CalendarObject, 0, len(names))
	for _, n := range names {
		co, err := c.objs[n].object(n)
		if err != nil {
			return nil, err
		}
		out = append(out, co)
	}
	return out, nil
}

func (b *backend) QueryCalendarObjects(ctx context.Context, p string, q *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	all, err := b.ListCalendarObjects(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	return caldav.Filter(q, all)
}

func (b *backend) PutCalendarObject(ctx context.Context, p string, cal *ical.Calendar, opts *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	_, uid, err := caldav.ValidateCalendarObject(cal)
	if err != nil {
		return nil, webdav.NewHTTPError(http.StatusBadRequest, err)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, webdav.NewHTTPError(http.StatusBadRequest, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cals[dirOf(p)]
	if !ok {
		return nil, webdav.NewHTTPError(http.StatusConflict, errors.New("caldavmem: no such calendar"))
	}
	old, exists := c.objs[p]
	if opts != nil {
		if opts.IfNoneMatch.IsWildcard() && exists {
			return nil, webdav.NewHTTPError(http.StatusPreconditionFailed, errors.New("caldavmem: object exists"))
		}
		if opts.IfMatch.IsSet() {
			if !exists {
				return nil, webdav.NewHTTPError(http.StatusPreconditionFailed, errors.New("caldavmem: object missing"))
			}
			if !opts.IfMatch.IsWildcard() {
				if ok, err := opts.IfMatch.MatchETag(old.etag); err != nil || !ok {
					return nil, webdav.NewHTTPError(http.StatusPreconditionFailed, errors.New("caldavmem: etag differs"))
				}
			}
		}
	}
	for op, o := range c.objs {
		if o.uid == uid && op != p {
			return nil, caldav.NewPreconditionError(caldav.PreconditionNoUIDConflict)
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	o := &memObj{data: buf.Bytes(), etag: hex.EncodeToString(sum[:8]), mod: time.Now().UTC().Truncate(time.Second), uid: uid}
	c.objs[p] = o
	co, err := o.object(p)
	if err != nil {
		return nil, err
	}
	return &co, nil
}

func (b *backend) DeleteCalendarObject(ctx context.Context, p string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cals[dirOf(p)]
	if !ok {
		return notFound("calendar")
	}
	o, ok := c.objs[p]
	if !ok {
		return notFound("object")
	}
	if im, _ := ctx.Value(ifMatchKey{}).(string); im != "" && im != "*" {
		if ok, err := webdav.ConditionalMatch(im).MatchETag(o.etag); err != nil || !ok {
			return webdav.NewHTTPError(http.StatusPreconditionFailed, errors.New("caldavmem: etag differs"))
		}
	}
	delete(c.objs, p)
	return nil
}
