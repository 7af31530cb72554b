package api_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
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
	f.Add(`{"action":"moveToJunk","approverUpn":"lead@corp.example","analyzedEmails":[{"networkMessageId":"m@evil.example","recipientEmailAddress":"alice@corp.example"},{"networkMessageId":"n@evil.example","recipientEmailAddress":"bob@corp.example"}]}`)
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

// FuzzHeaders sends arbitrary Prefer, client-request-id and Host headers
// with a GET of a finished action: no server error, a wait never beyond
// MaxPreferWait, a client-request-id echoed only as sent, and a Location
// never naming another host than the one asked.
func FuzzHeaders(f *testing.F) {
	f.Add("wait=10", "7c6d8e2a-0b1f", "mailsec.example.com")
	f.Add("respond-async, wait=999999999999999999999", "", "a,b")
	f.Add("wait=-1;x", "x\x7f", "[::1]:8080")
	f.Add(`WAIT="5"`, strings.Repeat("c", 129), "")
	e := newEnv(f, &api.Options{RateLimit: -1})
	e.deliver("m@evil.example", "x", users[0])
	rec, err := e.engine.Execute(f.Context(), remediation.Request{Action: remediation.SoftDelete, Actor: "fuzz",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"m@evil.example"}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prefer, clientID, host string) {
		req := httptest.NewRequest("GET", "/eradicate/v1/actions/"+rec.ID, nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
		req.Header["Prefer"] = []string{prefer}
		req.Header["Client-Request-Id"] = []string{clientID}
		req.Host = host
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("%q %q %q: %d %s", prefer, clientID, host, w.Code, w.Body)
		}
		if pa := w.Header().Get("Preference-Applied"); pa != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(pa, "wait="))
			if err != nil || n < 0 || time.Duration(n)*time.Second > api.MaxPreferWait {
				t.Fatalf("Preference-Applied %q for %q", pa, prefer)
			}
		}
		if got := w.Header().Get("client-request-id"); got != "" && got != clientID {
			t.Fatalf("client-request-id %q echoed as %q", clientID, got)
		}
	})
}
