package openapicheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

func stringDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(body)
	return string(b), err
}

type checker struct {
	t      *testing.T
	srv    *httptest.Server
	router routers.Router
	engine *remediation.Engine
	tokens map[string]string
}

// send sends a call as who, validates the request and the response against
// the document, and returns the status and body.
func (c *checker) send(who, method, path string, body []byte) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+c.tokens[who])
	}
	route, params, err := c.router.FindRoute(req)
	require.NoError(c.t, err, "%s %s is not in the document", method, path)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if body != nil {
		in.Request.Body = io.NopCloser(bytes.NewReader(body))
	}
	require.NoError(c.t, openapi3filter.ValidateRequest(context.Background(), in), "%s %s: the request does not fit the document", method, path)
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := c.srv.Client().Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(got)
	require.NoError(c.t, openapi3filter.ValidateResponse(context.Background(), out), "%s %s answered %d %s: not as the document says", method, path, resp.StatusCode, got)
	return resp.StatusCode, got
}

func TestOpenAPIDocument(t *testing.T) {
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", stringDecoder)
	openapi3filter.RegisterBodyDecoder("application/yaml", stringDecoder)

	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "the document is valid OpenAPI 3")

	// The users and messages the examples name.
	tenant := mock.New(nil)
	for _, u := range []string{"hannah.jarvis@contoso.com", "preston.morales@contoso.com"} {
		require.NoError(t, tenant.AddUser(u))
	}
	for _, m := range []struct{ id, subject string }{
		{"73ca4154-58d8-43d0-a890-08dc18c52e6d", "Your mailbox is full"},
		{"invoice-7@evil.example", "Invoice 7"},
		{"phish-1@evil.example", "Password expiry"},
		{"review@evil.example", "Quarterly review"},
		{"decline-me@evil.example", "Decline me"},
		{"lure-1@evil.example", "Lure 1"},
		{"lure-2@evil.example", "Lure 2"},
	} {
		raw := fmt.Sprintf("From: x@evil.example\r\nTo: hannah.jarvis@contoso.com, preston.morales@contoso.com\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\nbody\r\n", m.subject, m.id)
		_, err := tenant.Deliver(context.Background(), []byte(raw), nil)
		require.NoError(t, err)
	}
	for _, id := range []string{"newsletter-12@partner.example", "statement@bank.example"} {
		raw := fmt.Sprintf("From: news@partner.example\r\nTo: hannah.jarvis@contoso.com, preston.morales@contoso.com\r\nSubject: held\r\nMessage-ID: <%s>\r\n\r\nbody\r\n", id)
		_, err := tenant.Deliver(context.Background(), []byte(raw), &mock.DeliverOptions{Role: mailbox.RoleQuarantine})
		require.NoError(t, err)
	}
	engine, err := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	require.NoError(t, err)
	c := &checker{t: t, engine: engine, tokens: map[string]string{}}
	var toks []api.Token
	for name, role := range map[string]api.Role{"admin": api.RoleAdmin, "approver": api.RoleApprover} {
		tok, err := api.NewToken()
		require.NoError(t, err)
		c.tokens[name] = tok
		toks = append(toks, api.Token{Name: name, SHA256: api.HashToken(tok), Roles: []api.Role{role}})
	}
	auth, err := api.NewTokens(toks)
	require.NoError(t, err)
	x := cluster.New(nil)
	for i, id := range []string{"a@evil.example", "b@evil.example"} {
		p, err := mailbox.Parse([]byte("From: x@evil.example\r\nSubject: s\r\nMessage-ID: <" + id + ">\r\n\r\nhttp://pay.evil.example/i?id=7\r\n"))
		require.NoError(t, err)
		x.Add(cluster.Extract(p), mailbox.Address{Mailbox: "hannah.jarvis@contoso.com", Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1)})
	}
	h, err := api.New(engine, api.Options{Auth: auth, Rules: rules.New(engine, nil), Clusters: x, Index: betaIndex{}})
	require.NoError(t, err)
	c.srv = httptest.NewServer(h)
	defer func() {
		c.srv.Close()
		require.NoError(t, h.Shutdown(context.Background()))
		require.NoError(t, engine.Close(context.Background()))
	}()
	doc.Servers = openapi3.Servers{{URL: c.srv.URL}}
	c.router, err = gorillamux.NewRouter(doc)
	require.NoError(t, err)

	// The document names exactly the handler's routes.
	var documented []string
	for p, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			documented = append(documented, m+" "+p)
		}
	}
	served := h.Routes()
	sort.Strings(documented)
	sort.Strings(served)
	require.Equal(t, served, documented, "every route is documented and every documented operation served")

	// A proposal to decline and one to approve, for the {id} examples.
	propose := func(msgID string) string {
		rec, err := engine.Propose(context.Background(), remediation.Request{Action: remediation.HardDelete, Actor: "admin",
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{msgID}}}})
		require.NoError(t, err)
		return rec.ID
	}
	ids := map[string]string{"declineAction": propose("decline-me@evil.example")}

	// Every example request is valid, accepted, and answered as documented.
	examples := 0
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			require.NotNil(t, mt, "%s %s", m, p)
			require.NotEmpty(t, mt.Examples, "%s %s has a body and no example", m, p)
			names := make([]string, 0, len(mt.Examples))
			for name := range mt.Examples {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				body, err := json.Marshal(mt.Examples[name].Value.Value)
				require.NoError(t, err)
				path := strings.ReplaceAll(p, "{id}", ids[op.OperationID])
				status, got := c.send("admin", m, path, body)
				assert.True(t, status >= 200 && status < 300, "example %s of %s %s answered %d: %s", name, m, p, status, got)
				examples++
			}
		}
	}
	assert.GreaterOrEqual(t, examples, 6)

	// The routes without a body, and errors, answer as documented.
	id := propose("phish-1@evil.example")
	for _, call := range []struct {
		who, method, path string
		status            int
	}{
		{"", "GET", "/eradicate/v1/openapi.yaml", 200},
		{"admin", "GET", "/eradicate/v1/me", 200},
		{"admin", "GET", "/eradicate/v1/quarantine", 200},
		{"admin", "GET", "/eradicate/v1/clusters?kind=campaign&top=5", 200},
		{"admin", "GET", "/eradicate/v1/clusters/of?message_id=a@evil.example", 200},
		{"admin", "GET", "/eradicate/v1/clusters/of?message_id=zzz@nowhere.example", 404},
		{"admin", "GET", "/eradicate/v1/rules", 200},
		{"admin", "GET", "/eradicate/v1/rules/payroll-lure", 200},
		{"admin", "POST", "/eradicate/v1/rules/payroll-lure/disable", 200},
		{"admin", "POST", "/eradicate/v1/rules/payroll-lure/enable", 200},
		{"admin", "DELETE", "/eradicate/v1/rules/known-campaign", 204},
		{"admin", "GET", "/eradicate/v1/rules/known-campaign", 404},
		{"admin", "GET", "/eradicate/v1/actions?status=completed,pending_approval&top=10", 200},
		{"admin", "GET", "/eradicate/v1/actions/" + id, 200},
		{"approver", "POST", "/eradicate/v1/actions/" + id + "/approve", 202},
		{"admin", "GET", "/eradicate/v1/actions/" + id + "/outcomes", 200},
		{"admin", "POST", "/eradicate/v1/actions/" + id + "/undo", 409},
		{"admin", "GET", "/security/collaboration/analyzedEmails?$top=5", 200},
		{"admin", "GET", "/security/collaboration/analyzedEmails/73ca4154-58d8-43d0-a890-08dc18c52e6d-1311265001240363512-1", 200},
		{"admin", "GET", "/security/collaboration/analyzedEmails/abc", 404},
		{"", "GET", "/eradicate/v1/me", 401},
		{"approver", "POST", "/security/collaboration/analyzedEmails/remediate", 403},
		{"admin", "GET", "/eradicate/v1/actions/20990101T000000-00000000", 404},
	} {
		var body []byte
		if call.method == "POST" && strings.HasSuffix(call.path, "/remediate") {
			body = []byte(`{"action":"softDelete","analyzedEmails":[{"networkMessageId":"x@y","recipientEmailAddress":"hannah.jarvis@contoso.com"}]}`)
		}
		status, got := c.send(call.who, call.method, call.path, body)
		assert.Equal(t, call.status, status, "%s %s: %s", call.method, call.path, got)
	}
}

// betaIndex is a hunting index holding the two copies of Graph's beta
// remediate example, named by the ids that example uses.
type betaIndex struct{}

var betaEntries = []api.AnalyzedEmail{
	{ID: "73ca4154-58d8-43d0-a890-08dc18c52e6d-1311265001240363512-1", NetworkMessageID: "73ca4154-58d8-43d0-a890-08dc18c52e6d",
		RecipientEmailAddress: "hannah.jarvis@contoso.com", Subject: "Your mailbox is full"},
	{ID: "73ca4154-58d8-43d0-a890-08dc18c52e6d-13805748846361900678-1", NetworkMessageID: "73ca4154-58d8-43d0-a890-08dc18c52e6d",
		RecipientEmailAddress: "preston.morales@contoso.com", Subject: "Your mailbox is full"},
}

func (betaIndex) AnalyzedEmails(context.Context, api.IndexQuery) ([]api.AnalyzedEmail, error) {
	return betaEntries, nil
}

func (betaIndex) AnalyzedEmail(_ context.Context, id string) (api.AnalyzedEmail, error) {
	for _, e := range betaEntries {
		if e.ID == id {
			return e, nil
		}
	}
	return api.AnalyzedEmail{}, remediation.ErrNotFound
}
