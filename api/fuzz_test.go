package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestBodies sends arbitrary bodies to every route that reads one:
// no panic, and never a server error (every bad body is the client's).
func FuzzRequestBodies(f *testing.F) {
	f.Add(graphBody("softDelete", "m@evil.example", "alice@corp.example"))
	f.Add(`{"action":"soft_delete","selection":{"criteria":{"message_ids":["m@evil.example"]}}}`)
	f.Add(`{"selection":{"criteria":{"or":[{"subject":"x"},{"and":[{"senders":["a@b"]}]}]}}}`)
	f.Add(`{"selection":{"copies":[{"mailbox":"alice@corp.example","folder":"INBOX","uidvalidity":1,"uid":1}]}}`)
	f.Add(`{"reason":"no"}`)
	f.Add(`[[[[{}]]]]`)
	f.Add(`{"remediateSendersCopy":"true","action":"hardDelete","analyzedEmails":[{"id":"x"}]}`)
	e := newEnv(f, nil)
	e.deliver("m@evil.example", "x", users[0])
	paths := []string{
		"/security/collaboration/analyzedEmails/remediate",
		"/eradicate/v1/actions",
		"/eradicate/v1/dryrun",
		"/eradicate/v1/actions/x/decline",
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			req := httptest.NewRequest("POST", p, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)
			if w.Code >= 500 && w.Code != http.StatusNotImplemented {
				t.Fatalf("POST %s %q: %d %s", p, body, w.Code, w.Body)
			}
		}
	})
}
