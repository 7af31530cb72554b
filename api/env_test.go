package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// env is an API over an engine over the in-memory tenant, served by an
// httptest server, with one token per identity.
type env struct {
	t      testing.TB
	tenant *mock.Tenant
	engine *remediation.Engine
	h      *api.Handler
	srv    *httptest.Server
	tokens map[string]string // identity -> token
	logs   *servertest.Buffer
}

var identities = map[string][]api.Role{
	"reader":    {api.RoleReader},
	"analyst":   {api.RoleAnalyst},
	"lead":      {api.RoleAnalyst, api.RoleApprover},
	"approver":  {api.RoleApprover},
	"admin":     {api.RoleAdmin},
	"approver2": {api.RoleApprover},
}

var users = []string{"alice@corp.example", "bob@corp.example", "carol@corp.example"}

func newEnv(t testing.TB, opts *api.Options) *env {
	t.Helper()
	return newEnvWith(t, func(*remediation.Engine) *api.Options { return opts })
}

// newEnvWith is newEnv with options made for the env's engine.
func newEnvWith(t testing.TB, options func(*remediation.Engine) *api.Options) *env {
	t.Helper()
	e := &env{t: t, tenant: mock.New(nil), tokens: map[string]string{}, logs: &servertest.Buffer{}}
	for _, u := range users {
		require.NoError(t, e.tenant.AddUser(u))
	}
	var err error
	e.engine, err = remediation.New(e.tenant, e.tenant, journal.NewMemory(), nil)
	require.NoError(t, err)
	var toks []api.Token
	for name, roles := range identities {
		tok, err := api.NewToken()
		require.NoError(t, err)
		e.tokens[name] = tok
		toks = append(toks, api.Token{Name: name, SHA256: api.HashToken(tok), Roles: roles})
	}
	auth, err := api.NewTokens(toks)
	require.NoError(t, err)
	o := api.Options{}
	if opts := options(e.engine); opts != nil {
		o = *opts
	}
	o.Auth = auth
	o.Logger = slog.New(slog.NewJSONHandler(e.logs, nil))
	e.h, err = api.New(e.engine, o)
	require.NoError(t, err)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, e.h.Shutdown(ctx))
		require.NoError(t, e.engine.Close(ctx))
	})
	return e
}

// deliver delivers a message with id msgID from an outside sender to the
// given users' inboxes.
func (e *env) deliver(msgID, subject string, to ...string) {
	e.t.Helper()
	raw := fmt.Sprintf("From: attacker@evil.example\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n\r\nclick http://evil.example/x\r\n",
		strings.Join(to, ", "), subject, msgID)
	_, err := e.tenant.Deliver(context.Background(), []byte(raw), &mock.DeliverOptions{Recipients: to})
	require.NoError(e.t, err)
}

// folders returns, for a user, how many copies each folder holds.
func (e *env) folders(user string) map[string]int {
	e.t.Helper()
	copies, err := e.tenant.Copies(user)
	require.NoError(e.t, err)
	out := map[string]int{}
	for _, c := range copies {
		out[c.Address.Folder]++
	}
	return out
}

// do sends a call as identity who ("" for none) with body (a string is
// sent as is, anything else as JSON).
func (e *env) do(who, method, path string, body any) *http.Response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		r = bytes.NewReader(j)
	}
	u := path
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = e.srv.URL + path
	}
	req, err := http.NewRequest(method, u, r)
	require.NoError(e.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	return resp
}

// decodeResp reads resp's JSON body into v and closes it, requiring status.
func decodeResp(t testing.TB, resp *http.Response, status int, v any) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, "body: %s", b)
	if v != nil {
		require.NoError(t, json.Unmarshal(b, v), "body: %s", b)
	}
}

// graphError reads a Graph error answer and returns its code.
func graphError(t testing.TB, resp *http.Response, status int) api.ErrorDetail {
	t.Helper()
	var eb api.ErrorBody
	decodeResp(t, resp, status, &eb)
	require.NotEmpty(t, eb.Error.Code)
	require.NotEmpty(t, eb.Error.Message)
	require.NotEmpty(t, eb.Error.InnerError.RequestID)
	return eb.Error
}

// wait polls the action at location until it is final and returns it.
func (e *env) wait(who, location string) *remediation.Record {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var rec remediation.Record
		decodeResp(e.t, e.do(who, "GET", location, nil), http.StatusOK, &rec)
		if rec.Status.Final() {
			return &rec
		}
		require.True(e.t, time.Now().Before(deadline), "action %s still %s", rec.ID, rec.Status)
		time.Sleep(5 * time.Millisecond)
	}
}

// records counts the action center's records.
func (e *env) records() int {
	e.t.Helper()
	n := 0
	for _, err := range e.engine.Query(context.Background(), remediation.Filter{}) {
		require.NoError(e.t, err)
		n++
	}
	return n
}

func criteria(ids ...string) remediation.Selection {
	return remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: ids}}
}
