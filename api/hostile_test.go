package api_test

import (
	"bufio"
	"encoding/json"
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

// TestGraphHostileInput: hostile Graph remediate bodies and headers — too
// many copies, overlong or malformed values, a forged Host, a wait beyond
// the cap, an overlong client-request-id — get a clear error or a safe
// answer, and nothing is acted on by the refused calls.
func TestGraphHostileInput(t *testing.T) {
	e := newEnv(t, &api.Options{Index: &fakeIndex{}, MaxBodyBytes: 4 << 20})
	e.deliver("victim@evil.example", "x", users[0], users[1])
	const remediate = "/security/collaboration/analyzedEmails/remediate"
	pair := func(m, r string) string {
		return `{"networkMessageId": ` + strconvQuote(m) + `, "recipientEmailAddress": ` + strconvQuote(r) + `}`
	}
	many := make([]string, 10001)
	for i := range many {
		many[i] = pair(fmt.Sprintf("m%d@evil.example", i), users[0])
	}
	body := func(extra string, copies ...string) string {
		return `{"action": "softDelete"` + extra + `, "analyzedEmails": [` + strings.Join(copies, ",") + `]}`
	}
	for _, c := range []struct {
		name, body string
		status     int
	}{
		{"10,001 copies", body("", many...), 400},
		{"overlong approverUpn", body(`, "approverUpn": "`+strings.Repeat("a", 300)+`@corp.example"`, pair("victim@evil.example", users[0])), 400},
		{"control characters in approverUpn", body(`, "approverUpn": "a\r\nInjected: yes"`, pair("victim@evil.example", users[0])), 400},
		{"recipient without a domain", body("", pair("victim@evil.example", "alice")), 400},
		{"empty Message-ID", body("", pair("<>", users[0])), 400},
		{"blank Message-ID", body("", pair("   ", users[0])), 400},
		{"overlong id", body("", `{"id": "`+strings.Repeat("x", 300)+`"}`), 400},
		{"unknown id", body("", `{"id": "../../etc/passwd"}`), 400},
		{"id and half a pair", body("", `{"id": "x1", "networkMessageId": "victim@evil.example"}`), 400},
		{"null copies", `{"action": "softDelete", "analyzedEmails": null}`, 400},
		{"copies as an object", `{"action": "softDelete", "analyzedEmails": {"networkMessageId": "victim@evil.example"}}`, 400},
		{"unknown field in a copy", body("", `{"networkMessageId": "victim@evil.example", "recipientEmailAddress": "`+users[0]+`", "hardDelete": true}`), 400},
		{"unknownFutureValue action", `{"action": "unknownFutureValue", "analyzedEmails": [` + pair("victim@evil.example", users[0]) + `]}`, 400},
		{"unknownFutureValue severity", `{"action": "softDelete", "severity": "unknownFutureValue", "analyzedEmails": [` + pair("victim@evil.example", users[0]) + `]}`, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			graphError(t, e.do("admin", "POST", remediate, c.body), c.status)
		})
	}
	assert.Zero(t, e.records(), "nothing was recorded")
	for _, u := range users[:2] {
		assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(u), "nothing was acted on")
	}

	// A forged Host does not make the Location point elsewhere; an
	// overlong client-request-id is not echoed; a wait beyond the cap is
	// capped (and a finished action answers at once).
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	b := body("", pair("victim@evil.example", users[0]))
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: corp.example,evil.example\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nclient-request-id: %s\r\nContent-Length: %d\r\n\r\n%s",
		remediate, e.tokens["admin"], strings.Repeat("c", 200), len(b), b)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	var acc api.AcceptedBody
	decodeResp(t, resp, http.StatusAccepted, &acc)
	assert.Equal(t, "/eradicate/v1/actions/"+acc.ID, resp.Header.Get("Location"), "a Host that is no host gives the path alone")
	assert.Empty(t, resp.Header.Get("client-request-id"))
	e.wait("reader", "/eradicate/v1/actions/"+acc.ID)

	req, err := http.NewRequest("GET", e.srv.URL+"/eradicate/v1/actions/"+acc.ID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
	req.Header.Set("Prefer", "wait=999999999999")
	start := time.Now()
	resp, err = e.srv.Client().Do(req)
	require.NoError(t, err)
	decodeResp(t, resp, http.StatusOK, nil)
	assert.Equal(t, "wait=60", resp.Header.Get("Preference-Applied"))
	assert.Less(t, time.Since(start), 30*time.Second, "a finished action is answered at once")
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
