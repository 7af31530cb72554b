package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A SOAR playbook written for Defender calls Graph's remediate on the
// handler, then follows the absolute Location, waiting for the end with
// "Prefer: wait".
func ExampleNew() {
	ctx := context.Background()
	tenant := mock.New(nil)
	_ = tenant.AddUser("hannah.jarvis@contoso.com")
	_, _ = tenant.Deliver(ctx, []byte("From: it@evil.example\r\nTo: hannah.jarvis@contoso.com\r\nSubject: Your mailbox is full\r\n"+
		"Message-ID: <73ca4154-58d8-43d0-a890-08dc18c52e6d@evil.example>\r\n\r\nclick\r\n"), nil)
	engine, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	token, _ := api.NewToken()
	auth, _ := api.NewTokens([]api.Token{{Name: "soar", SHA256: api.HashToken(token), Roles: []api.Role{api.RoleAnalyst}}})
	h, err := api.New(engine, api.Options{Auth: auth, BaseURL: "https://mailsec.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close(ctx)
	defer h.Shutdown(ctx)

	req := httptest.NewRequest("POST", "/v1.0/security/collaboration/analyzedEmails/remediate", strings.NewReader(`{
		"displayName": "Clean up Phish email", "description": "Delete email", "severity": "medium",
		"action": "softDelete", "remediateSendersCopy": "false",
		"analyzedEmails": [{"networkMessageId": "73ca4154-58d8-43d0-a890-08dc18c52e6d@evil.example",
		                    "recipientEmailAddress": "hannah.jarvis@contoso.com"}]}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	loc := w.Header().Get("Location")
	fmt.Println(w.Code, strings.HasPrefix(loc, "https://mailsec.example.com/eradicate/v1/actions/"))

	req = httptest.NewRequest("GET", strings.TrimPrefix(loc, "https://mailsec.example.com"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Prefer", "wait=30")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var rec remediation.Record
	_ = json.Unmarshal(w.Body.Bytes(), &rec)
	fmt.Println(w.Header().Get("Preference-Applied"), rec.Status, rec.Counts.Succeeded)
	// Output:
	// 202 true
	// wait=30 completed 1
}
