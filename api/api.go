package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// Defaults of [Options].
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultBodyTimeout    = 30 * time.Second
	DefaultRequestTimeout = 2 * time.Minute
	// MaxCriteriaDepth is how deeply criteria may nest (And, Or) in a
	// request.
	MaxCriteriaDepth = 16
)

// Options configure a [Handler].
type Options struct {
	// Auth authenticates every call but GET of the API document;
	// required. [NewTokens] gives one.
	Auth Authenticator
	// Index is the hunting index that GET /security/collaboration/analyzedEmails
	// reads; nil answers those calls 501 Not Implemented.
	Index Index
	// Logger receives one line per call (method, path, identity, status,
	// duration) and the errors of actions run in the background. nil
	// discards them.
	Logger *slog.Logger
	// Prefix is the path under which the embedding program mounts the
	// handler (with [http.StripPrefix]), e.g. "/eradicate"; it follows
	// the scheme and host in the Location of every 201 and 202 answer.
	// "" when mounted at the root.
	Prefix string
	// BaseURL is the handler's root as clients reach it, e.g.
	// "https://mailsec.example.com/eradicate" behind a reverse proxy: an
	// absolute http or https URL (its path includes any Prefix). Every
	// Location begins with it. "" builds the Location from the request:
	// https when the connection is TLS, else http, then the Host header
	// and Prefix; set BaseURL wherever the Host header cannot be trusted
	// or a proxy terminates TLS.
	BaseURL string
	// MaxBodyBytes bounds a request body; default [DefaultMaxBodyBytes].
	// A bigger one is answered 413 and nothing is acted on.
	MaxBodyBytes int64
	// BodyTimeout bounds reading a request body, so that a slow client
	// cannot hold a call open; default [DefaultBodyTimeout]. It needs a
	// server whose ResponseWriter supports read deadlines (net/http's
	// does).
	BodyTimeout time.Duration
	// RequestTimeout bounds the synchronous part of a call: a dry run,
	// or the start of an action until its record exists (the action then
	// goes on in the background); default [DefaultRequestTimeout].
	RequestTimeout time.Duration
	// Clusters is the cluster index GET /eradicate/v1/clusters reads
	// (fed, for example, by the delivery tap's cluster indexer); nil
	// answers those calls 501.
	Clusters *cluster.Index
	// Rules are the detection rules GET, POST and DELETE
	// /eradicate/v1/rules manage (role admin to change them); nil answers
	// those calls 501.
	Rules *rules.Set
	// SaveRules, when set, is called with every rule after each change,
	// to persist them; when it fails the change is reverted and the call
	// answered 500.
	SaveRules func([]rules.Rule) error
	// RateLimit is the calls per second each identity may make, sustained
	// ([DefaultRateLimit] when 0; negative turns the limit off). A call
	// over it is answered 429 with Retry-After.
	RateLimit float64
	// RateBurst is the calls an identity may make at once, above the
	// rate; default [DefaultRateBurst].
	RateBurst int
}

// Handler is the HTTP API: an [http.Handler] over a remediation engine.
// Build it with [New]. At the end call [Handler.Shutdown], then the
// engine's Close: actions that calls run directly are begun with
// [remediation.Engine.Start] and run under the engine; approvals and
// undos run under the handler.
type Handler struct {
	engine  *remediation.Engine
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux // the operations, and h.unrouted for the rest
	routed  *http.ServeMux // the operations only: its 404, 405 or redirect
	limiter *limiter

	bg       context.Context // approvals and undos run in the background under it
	cancelBg context.CancelFunc
	bgMu     sync.Mutex // guards closed and the additions to running
	closed   bool       // Shutdown was called: no new background work
	running  sync.WaitGroup

	rulesMu sync.Mutex // one change of the rules (and its save) at a time

	finished encodings // the JSON of finished records GET answers with
}

// New returns the API over e. opts.Auth is required.
func New(e *remediation.Engine, opts Options) (*Handler, error) {
	if e == nil {
		return nil, errors.New("api: New needs an engine")
	}
	if opts.Auth == nil {
		return nil, errors.New("api: Options.Auth is required (e.g. NewTokens)")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = DefaultBodyTimeout
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	opts.Prefix = strings.TrimRight(opts.Prefix, "/")
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("api: Options.BaseURL %q is not an absolute http or https URL without user, query or fragment", opts.BaseURL)
		}
		opts.BaseURL = strings.TrimRight(u.String(), "/")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{engine: e, opts: opts, log: log, mux: http.NewServeMux(), routed: http.NewServeMux(),
		limiter: newLimiter(opts.RateLimit, opts.RateBurst)}
	h.bg, h.cancelBg = context.WithCancel(context.Background())
	h.routes()
	return h, nil
}

// Shutdown refuses new actions (503), waits for the approvals and undos
// that calls started to finish, or for ctx to be done; then it cancels
// those still running (the engine's Resume finishes them after a restart)
// and returns ctx's error. The actions calls began with the engine's Start
// are the engine's: [remediation.Engine.Close] waits for them, or stops
// them.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.bgMu.Lock()
	h.closed = true
	h.bgMu.Unlock()
	done := make(chan struct{})
	go func() { h.running.Wait(); close(done) }()
	select {
	case <-done:
		h.cancelBg()
		return nil
	case <-ctx.Done():
		h.cancelBg()
		<-done
		return ctx.Err()
	}
}

// route is one operation of the API: the pattern of http.ServeMux, the role
// it needs ("" for none: no authentication) and its function.
type route struct {
	method, path string
	role         Role
	fn           func(*call) error
}

// Routes lists the operations the handler serves, as "METHOD /path" with
// the path in the form of the API document ({id} for a parameter).
func (h *Handler) Routes() []string {
	var out []string
	for _, r := range h.table() {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

const ownPrefix = "/eradicate/v1"

func (h *Handler) table() []route {
	const graph = "/security/collaboration/analyzedEmails"
	return []route{
		{"POST", graph + "/remediate", RoleAnalyst, h.graphRemediate},
		{"GET", graph, RoleReader, h.graphList},
		{"GET", graph + "/{id}", RoleReader, h.graphGet},
		{"GET", ownPrefix + "/openapi.yaml", "", h.openAPI},
		{"GET", ownPrefix + "/me", RoleReader, h.me},
		{"POST", ownPrefix + "/dryrun", RoleAnalyst, h.dryRun},
		{"POST", ownPrefix + "/actions", RoleAnalyst, h.request},
		{"GET", ownPrefix + "/actions", RoleReader, h.query},
		{"GET", ownPrefix + "/actions/{id}", RoleReader, h.get},
		{"GET", ownPrefix + "/actions/{id}/outcomes", RoleReader, h.outcomes},
		{"POST", ownPrefix + "/actions/{id}/approve", RoleApprover, h.approve},
		{"POST", ownPrefix + "/actions/{id}/decline", RoleApprover, h.decline},
		{"POST", ownPrefix + "/actions/{id}/undo", RoleAnalyst, h.undo},
		{"GET", ownPrefix + "/quarantine", RoleReader, h.held},
		{"GET", ownPrefix + "/clusters", RoleReader, h.clusters},
		{"GET", ownPrefix + "/clusters/of", RoleReader, h.clusterOf},
		{"GET", ownPrefix + "/rules", RoleReader, h.listRules},
		{"POST", ownPrefix + "/rules", RoleAdmin, h.addRule},
		{"GET", ownPrefix + "/rules/{name}", RoleReader, h.getRule},
		{"DELETE", ownPrefix + "/rules/{name}", RoleAdmin, h.deleteRule},
		{"POST", ownPrefix + "/rules/{name}/enable", RoleAdmin, h.enableRule(true)},
		{"POST", ownPrefix + "/rules/{name}/disable", RoleAdmin, h.enableRule(false)},
		{"POST", ownPrefix + "/quarantine/release", RoleAnalyst, h.release},
	}
}

// graphVersions are the path prefixes of Graph's versions: a playbook whose
// base URL is https://graph.microsoft.com/v1.0 works with its base URL
// changed to this handler's root followed by /v1.0.
var graphVersions = [...]string{"", "/v1.0", "/beta"}

// routes registers the operations in h.mux, and in h.routed for telling
// a 404 from a 405; what no operation matches goes to h.unrouted.
func (h *Handler) routes() {
	for _, r := range h.table() {
		prefixes := []string{""}
		if strings.HasPrefix(r.path, "/security/") {
			prefixes = graphVersions[:]
		}
		for _, p := range prefixes {
			hr := h.wrap(r)
			h.mux.Handle(r.method+" "+p+r.path, hr)
			h.routed.Handle(r.method+" "+p+r.path, hr)
		}
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.unrouted(w, r, 0) })
}

// call is one call being served.
type call struct {
	w        http.ResponseWriter
	r        *http.Request
	id       Identity
	reqID    string
	clientID string // the client-request-id the client sent, if usable
	h        *Handler
}

// clientRequestID returns the request's client-request-id header (Graph's
// correlation id, echoed in the answer and its errors) when it is at most
// 128 printable ASCII characters; "" otherwise.
func clientRequestID(r *http.Request) string {
	v := r.Header.Get("client-request-id")
	if len(v) > 128 {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return ""
		}
	}
	return v
}

// statusWriter remembers the status written, for the call's log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ServeHTTP implements [http.Handler]. Every call is logged with its
// identity; a path the API does not have, or a method a path does not
// take, is answered in Graph's error shape.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// An unclean path ("//a", "/a/../b", "/a/") names no resource: the
	// mux would redirect it elsewhere; the API answers 404.
	if p := r.URL.Path; p == "" || p != path.Clean(p) {
		h.unrouted(w, r, http.StatusNotFound)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// unrouted answers what the mux would (404, 405 with Allow, or a redirect
// to the cleaned path for ".." tricks) with Graph's error body.
func (h *Handler) unrouted(w http.ResponseWriter, r *http.Request, status int) {
	start := time.Now()
	reqID := newRequestID()
	rec := &headerRecorder{header: http.Header{}}
	if status == 0 {
		mh, _ := h.routed.Handler(r)
		mh.ServeHTTP(rec, r)
		status = rec.status
	}
	if status == 0 {
		status = http.StatusNotFound
	}
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	w.Header().Set("request-id", reqID)
	clientID := clientRequestID(r)
	if clientID != "" {
		w.Header().Set("client-request-id", clientID)
	}
	code, msg := "ResourceNotFound", "no such resource: "+r.URL.Path
	if status == http.StatusMethodNotAllowed {
		code, msg = "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path
	} else if status >= 300 && status < 400 {
		// The mux redirects unclean paths ("/a/../b", "//a"); an API
		// client gets a 404 instead of being sent elsewhere.
		status = http.StatusNotFound
	}
	writeError(w, reqID, clientID, status, code, msg)
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "api call", slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.String("identity", ""), slog.Int("status", status),
		slog.Duration("duration", time.Since(start)), slog.String("request_id", reqID), slog.String("remote", r.RemoteAddr))
}

type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		c := &call{w: sw, r: r, reqID: newRequestID(), clientID: clientRequestID(r), h: h}
		sw.Header().Set("request-id", c.reqID)
		if c.clientID != "" {
			sw.Header().Set("client-request-id", c.clientID)
		}
		err := h.authorize(c, rt.role)
		if err == nil {
			err = rt.fn(c)
		}
		level := slog.LevelInfo
		if err != nil {
			status, code, msg := classify(err)
			if status >= 500 {
				level = slog.LevelError
				h.log.LogAttrs(r.Context(), slog.LevelError, "api error", slog.String("request_id", c.reqID), slog.Any("error", err))
			}
			if status == http.StatusUnauthorized {
				sw.Header().Set("WWW-Authenticate", `Bearer realm="eradicate"`)
			}
			if sw.status == 0 {
				writeError(sw, c.reqID, c.clientID, status, code, msg)
			}
		}
		if !h.log.Enabled(r.Context(), level) {
			return
		}
		h.log.LogAttrs(r.Context(), level, "api call", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("identity", c.id.Name), slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)), slog.String("request_id", c.reqID), slog.String("remote", r.RemoteAddr))
	})
}

func (h *Handler) authorize(c *call, role Role) error {
	if role == "" {
		return nil
	}
	id, err := h.opts.Auth.Authenticate(c.r)
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return errorf(http.StatusUnauthorized, "Unauthorized", err.Error())
		}
		return err
	}
	c.id = id
	if err := h.rateLimit(c); err != nil {
		return err
	}
	if !id.Has(role) {
		return errorf(http.StatusForbidden, "Forbidden", fmt.Sprintf("%s lacks the role %s", id.Name, role))
	}
	return nil
}

// decode reads the call's JSON body into v: within the size limit and the
// body timeout, refusing unknown fields, trailing data and criteria nested
// deeper than MaxCriteriaDepth.
func (c *call) decode(v any) error {
	ct := c.r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "the body must be application/json")
	}
	_ = http.NewResponseController(c.w).SetReadDeadline(time.Now().Add(c.h.opts.BodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, c.h.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				fmt.Sprintf("the body is larger than %d bytes", c.h.opts.MaxBodyBytes))
		}
		return errorf(http.StatusRequestTimeout, "RequestTimeout", "reading the body failed: "+err.Error())
	}
	if d := jsonDepth(body); d > MaxCriteriaDepth*2+8 {
		return badRequest(fmt.Sprintf("the body nests %d levels deep; criteria may nest %d levels", d, MaxCriteriaDepth))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalid JSON body: data after the JSON value")
	}
	return nil
}

// jsonDepth returns the deepest nesting of objects and arrays in b (ignoring
// brackets inside strings); it does not validate b.
func jsonDepth(b []byte) int {
	depth, max, inStr, esc := 0, 0, false, false
	for _, ch := range b {
		switch {
		case esc:
			esc = false
		case inStr:
			if ch == '\\' {
				esc = true
			} else if ch == '"' {
				inStr = false
			}
		case ch == '"':
			inStr = true
		case ch == '{' || ch == '[':
			depth++
			if depth > max {
				max = depth
			}
		case ch == '}' || ch == ']':
			depth--
		}
	}
	return max
}

// emptyBody refuses a body on a call that takes none (or accepts "{}").
func (c *call) emptyBody() error {
	_ = http.NewResponseController(c.w).SetReadDeadline(time.Now().Add(c.h.opts.BodyTimeout))
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, 1024))
	if err != nil {
		return badRequest("this call takes no body")
	}
	if s := strings.TrimSpace(string(b)); s != "" && s != "{}" {
		return badRequest("this call takes no body")
	}
	return nil
}

func (c *call) json(status int, v any) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	return json.NewEncoder(c.w).Encode(v)
}

// location is the absolute URL of an action's resource, as Graph's
// Location is (see [Options.BaseURL]).
func (c *call) location(id string) string {
	if b := c.h.opts.BaseURL; b != "" {
		return b + ownPrefix + "/actions/" + id
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	host := c.r.Host
	if !validHost(host) {
		// Without a usable Host, the path alone still names the resource.
		return c.h.opts.Prefix + ownPrefix + "/actions/" + id
	}
	return scheme + "://" + host + c.h.opts.Prefix + ownPrefix + "/actions/" + id
}

// validHost reports whether h is a host[:port] fit for a URL: letters,
// digits and ".-_:[]" only (net/http has checked it already, loosely).
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r)) {
			return false
		}
	}
	return true
}

// accepted answers 202 with the Location of the action id and a body naming
// it (Graph's answer has no body; a client may ignore it).
func (c *call) accepted(ids ...string) error {
	loc := c.location(ids[0])
	c.w.Header().Set("Location", loc)
	body := AcceptedBody{ID: ids[0], Location: loc}
	if len(ids) > 1 {
		body.Related = ids[1:]
	}
	return c.json(http.StatusAccepted, body)
}

// AcceptedBody is the body of a 202 answer: the action's id and where to
// poll it.
type AcceptedBody struct {
	// ID is the action's id.
	ID string `json:"id"`
	// Location is the action's resource, as the Location header gives it.
	Location string `json:"location"`
	// Related are the ids of other actions the call started (the
	// sender's-copy action of a Graph remediate with
	// remediateSendersCopy).
	Related []string `json:"related,omitempty"`
}
