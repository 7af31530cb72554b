package api_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mock"
)

// TestHostileInput: oversized, deep, unknown, trailing and mistyped
// bodies, bad ids and path tricks get a clear error in Graph's shape, and
// nothing is acted on.
func TestHostileInput(t *testing.T) {
	e := newEnv(t, &api.Options{MaxBodyBytes: 64 << 10})
	e.deliver("victim@evil.example", "x", users[0], users[1])
	good := graphBody("hardDelete", "victim@evil.example", users[0], users[1])
	const remediate = "/security/collaboration/analyzedEmails/remediate"

	deep := strings.Repeat(`{"and":[`, 200) + `{"message_ids":["victim@evil.example"]}` + strings.Repeat(`]}`, 200)
	cases := []struct {
		name, method, path, body, ctype string
		status                          int
		code                            string
	}{
		{"oversized", "POST", remediate, `{"displayName": "` + strings.Repeat("a", 70<<10) + `"}`, "", 413, "RequestEntityTooLarge"},
		{"deep JSON", "POST", remediate, strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "", 400, "BadRequest"},
		{"deep criteria", "POST", "/eradicate/v1/actions", `{"action":"soft_delete","selection":{"criteria":` + deep + `}}`, "", 400, "BadRequest"},
		{"unknown field", "POST", remediate, strings.Replace(good, `"action"`, `"actoin": "x", "action"`, 1), "", 400, "BadRequest"},
		{"unknown nested field", "POST", "/eradicate/v1/actions", `{"action":"soft_delete","selection":{"criteria":{"message_ids":["victim@evil.example"],"everything":true}}}`, "", 400, "BadRequest"},
		{"trailing data", "POST", remediate, good + `{"action":"hardDelete"}`, "", 400, "BadRequest"},
		{"not JSON", "POST", remediate, "action=hardDelete", "", 400, "BadRequest"},
		{"wrong type", "POST", remediate, strings.Replace(good, `"Clean up Phish email"`, `42`, 1), "", 400, "BadRequest"},
		{"form body", "POST", remediate, good, "application/x-www-form-urlencoded", 415, "UnsupportedMediaType"},
		{"invalid UTF-8 id", "GET", "/eradicate/v1/actions/%ff%fe", "", "", 400, "BadRequest"},
		{"id too long", "GET", "/eradicate/v1/actions/" + strings.Repeat("a", 65), "", "", 400, "BadRequest"},
		{"id with dots", "GET", "/eradicate/v1/actions/..%2f..%2fetc", "", "", 404, "ResourceNotFound"},
		{"id with slash", "POST", "/eradicate/v1/actions/a%2Fb/approve", "", "", 400, "BadRequest"},
		{"dot segments", "GET", "/eradicate/v1/actions/../../security/collaboration/analyzedEmails", "", "", 404, "ResourceNotFound"},
		{"double slash", "POST", "//security/collaboration/analyzedEmails/remediate", good, "", 404, "ResourceNotFound"},
		{"unknown path", "GET", "/admin", "", "", 404, "ResourceNotFound"},
		{"wrong method", "DELETE", "/eradicate/v1/actions/abc", "", "", 405, "MethodNotAllowed"},
		{"body on approve", "POST", "/eradicate/v1/actions/abc/approve", `{"approver":"admin"}`, "", 400, "BadRequest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			require.NoError(t, err)
			got := graphError(t, resp, c.status)
			assert.Equal(t, c.code, got.Code, got.Message)
		})
	}
	assert.Zero(t, e.records(), "nothing was recorded")
	for _, u := range users[:2] {
		assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(u), "nothing was acted on")
	}
}

// TestSlowClient: a client that stops sending its body is cut off after
// the body timeout, and nothing is acted on.
func TestSlowClient(t *testing.T) {
	e := newEnv(t, &api.Options{BodyTimeout: 200 * time.Millisecond})
	e.deliver("slow@evil.example", "x", users[0])
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /security/collaboration/analyzedEmails/remediate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"action\":", e.tokens["admin"])
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the server answers rather than waiting for the body")
	assert.Equal(t, "RequestTimeout", graphError(t, resp, http.StatusRequestTimeout).Code)
	assert.Zero(t, e.records())
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[0]))
}
