package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
)

// graphBody is a remediate call as Graph's documentation writes it
// (remediateSendersCopy as the string "false", as its example has it).
func graphBody(action, msgID string, rcpts ...string) string {
	var emails []string
	for _, r := range rcpts {
		emails = append(emails, `{"networkMessageId": "`+msgID+`", "recipientEmailAddress": "`+r+`"}`)
	}
	return `{"displayName": "Clean up Phish email", "description": "Delete email", "severity": "medium",
		"action": "` + action + `", "remediateSendersCopy": "false",
		"analyzedEmails": [` + strings.Join(emails, ",") + `]}`
}

func TestGraphRemediateSoftDelete(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("phish-1@evil.example", "Invoice", users[0], users[1])
	e.deliver("benign@corp.example", "Lunch", users[0], users[1])

	for _, prefix := range []string{"", "/v1.0"} {
		resp := e.do("analyst", "POST", prefix+"/security/collaboration/analyzedEmails/remediate",
			graphBody("softDelete", "phish-1@evil.example", users[0], users[1]))
		var acc api.AcceptedBody
		decodeResp(t, resp, http.StatusAccepted, &acc)
		loc := resp.Header.Get("Location")
		require.Equal(t, e.srv.URL+"/eradicate/v1/actions/"+acc.ID, loc, "Location is absolute, as Graph's is")
		assert.Equal(t, loc, acc.Location)
		rec := e.wait("reader", loc)
		assert.Equal(t, remediation.StatusCompleted, rec.Status)
		assert.Equal(t, remediation.SoftDelete, rec.Action)
		assert.Equal(t, remediation.SourceAPI, rec.Source)
		assert.Equal(t, "analyst", rec.Actor)
		assert.Equal(t, "Clean up Phish email", rec.Name)
		assert.Equal(t, remediation.SeverityMedium, rec.Severity)
		if prefix == "" {
			assert.EqualValues(t, 2, rec.Counts.Succeeded)
		} else {
			assert.EqualValues(t, 2, rec.Counts.AlreadyInDestination, "the second call finds them moved")
		}
	}
	for _, u := range users[:2] {
		assert.Equal(t, map[string]int{mock.FolderRecoverable: 1, mock.FolderInbox: 1}, e.folders(u), u)
	}
	assert.Contains(t, e.logs.String(), `"identity":"analyst"`)
	assert.Contains(t, e.logs.String(), `"path":"/security/collaboration/analyzedEmails/remediate"`)
}

// TestGraphRemediateOnlyNamedRecipients: the copy of a recipient the call
// does not name stays where it is.
func TestGraphRemediateOnlyNamedRecipients(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("phish-2@evil.example", "Invoice", users...)
	resp := e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate",
		graphBody("moveToJunk", "<phish-2@evil.example>", users[0]))
	decodeResp(t, resp, http.StatusAccepted, nil)
	rec := e.wait("analyst", resp.Header.Get("Location"))
	assert.EqualValues(t, 1, rec.Counts.Succeeded)
	assert.Equal(t, map[string]int{mock.FolderJunk: 1}, e.folders(users[0]))
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[1]))
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[2]))
}

func TestGraphRemediateRefusals(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("m1@evil.example", "a", users[0], users[1])
	e.deliver("m2@evil.example", "b", users[0], users[1])
	cases := []struct {
		name, body string
		status     int
	}{
		{"unknown action", graphBody("moveToSpam", "m1@evil.example", users[0]), 400},
		{"unknown severity", strings.Replace(graphBody("softDelete", "m1@evil.example", users[0]), `"medium"`, `"critical"`, 1), 400},
		{"no copies", `{"action": "softDelete", "analyzedEmails": []}`, 400},
		{"no recipient", `{"action": "softDelete", "analyzedEmails": [{"networkMessageId": "m1@evil.example"}]}`, 400},
		{"id needs the index", `{"action": "softDelete", "analyzedEmails": [{"id": "73ca4154-1"}]}`, 501},
		{"bad approverUpn", `{"action": "softDelete", "approverUpn": "x\u0000@corp.example", "analyzedEmails": [{"networkMessageId": "m1@evil.example", "recipientEmailAddress": "` + users[0] + `"}]}`, 400},
		{"a bad copy after good ones", `{"action": "softDelete", "analyzedEmails": [
			{"networkMessageId": "m1@evil.example", "recipientEmailAddress": "` + users[0] + `"},
			{"networkMessageId": "m2@evil.example", "recipientEmailAddress": "nobody"}]}`, 400},
		{"bad boolean", strings.Replace(graphBody("softDelete", "m1@evil.example", users[0]), `"false"`, `"maybe"`, 1), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			graphError(t, e.do("admin", "POST", "/security/collaboration/analyzedEmails/remediate", c.body), c.status)
		})
	}
	assert.Zero(t, e.records(), "nothing was recorded")
	assert.Equal(t, map[string]int{mock.FolderInbox: 2}, e.folders(users[0]))
}

func TestGraphAnalyzedEmailsWithoutIndex(t *testing.T) {
	e := newEnv(t, nil)
	for _, p := range []string{"/security/collaboration/analyzedEmails", "/v1.0/security/collaboration/analyzedEmails/abc"} {
		assert.Equal(t, "NotImplemented", graphError(t, e.do("reader", "GET", p, nil), http.StatusNotImplemented).Code)
	}
}

type fakeIndex struct{ q api.IndexQuery }

func (f *fakeIndex) AnalyzedEmails(_ context.Context, q api.IndexQuery) ([]api.AnalyzedEmail, error) {
	f.q = q
	return []api.AnalyzedEmail{{ID: "x1", NetworkMessageID: "m1@evil.example", RecipientEmailAddress: users[0]}}, nil
}

func (f *fakeIndex) AnalyzedEmail(_ context.Context, id string) (api.AnalyzedEmail, error) {
	if id != "x1" {
		return api.AnalyzedEmail{}, remediation.ErrNotFound
	}
	return api.AnalyzedEmail{ID: "x1", NetworkMessageID: "m1@evil.example", RecipientEmailAddress: users[0]}, nil
}

func TestGraphAnalyzedEmailsWithIndex(t *testing.T) {
	idx := &fakeIndex{}
	e := newEnv(t, &api.Options{Index: idx})
	var list struct{ Value []api.AnalyzedEmail }
	decodeResp(t, e.do("reader", "GET", "/security/collaboration/analyzedEmails?$filter=subject%20eq%20'x'&$top=5", nil), 200, &list)
	require.Len(t, list.Value, 1)
	assert.Equal(t, api.IndexQuery{Filter: "subject eq 'x'", Top: 5}, idx.q)
	var one api.AnalyzedEmail
	decodeResp(t, e.do("reader", "GET", "/security/collaboration/analyzedEmails/x1", nil), 200, &one)
	assert.Equal(t, "m1@evil.example", one.NetworkMessageID)
	graphError(t, e.do("reader", "GET", "/security/collaboration/analyzedEmails/nope", nil), 404)
	graphError(t, e.do("reader", "GET", "/security/collaboration/analyzedEmails?$skip=3", nil), 400)
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, nil)
	resp := e.do("", "GET", "/eradicate/v1/actions", nil)
	assert.Equal(t, `Bearer realm="eradicate"`, resp.Header.Get("WWW-Authenticate"))
	assert.Equal(t, "Unauthorized", graphError(t, resp, 401).Code)

	e.tokens["mallory"] = e.tokens["admin"] + "x"
	assert.Equal(t, "Unauthorized", graphError(t, e.do("mallory", "GET", "/eradicate/v1/actions", nil), 401).Code)

	var me api.Me
	decodeResp(t, e.do("lead", "GET", "/eradicate/v1/me", nil), 200, &me)
	assert.Equal(t, api.Me{Name: "lead", Roles: []api.Role{api.RoleAnalyst, api.RoleApprover}}, me)

	// The document needs no token.
	resp = e.do("", "GET", "/eradicate/v1/openapi.yaml", nil)
	decodeResp(t, resp, 200, nil)
}

func TestNewTokensRefusesBadConfig(t *testing.T) {
	h := api.HashToken("t")
	for _, toks := range [][]api.Token{
		{{Name: "", SHA256: h, Roles: []api.Role{api.RoleReader}}},
		{{Name: "a", SHA256: "abc", Roles: []api.Role{api.RoleReader}}},
		{{Name: "a", SHA256: h}},
		{{Name: "a", SHA256: h, Roles: []api.Role{"root"}}},
		{{Name: "a", SHA256: h, Roles: []api.Role{api.RoleReader}}, {Name: "a", SHA256: api.HashToken("u"), Roles: []api.Role{api.RoleReader}}},
		{{Name: "a", SHA256: h, Roles: []api.Role{api.RoleReader}}, {Name: "b", SHA256: h, Roles: []api.Role{api.RoleReader}}},
	} {
		_, err := api.NewTokens(toks)
		assert.Error(t, err, "%+v", toks)
	}
}

// TestRolesAndFourEyes: who may do what, and nobody approves their own
// proposal.
func TestRolesAndFourEyes(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("campaign@evil.example", "Meeting", users...)
	sel := criteria("campaign@evil.example")

	// A reader cannot act; an analyst cannot hard-delete directly nor approve.
	assert.Equal(t, "Forbidden", graphError(t, e.do("reader", "POST", "/eradicate/v1/actions",
		api.ActionRequest{Action: remediation.SoftDelete, Selection: sel}), 403).Code)
	assert.Equal(t, "Forbidden", graphError(t, e.do("reader", "POST", "/eradicate/v1/dryrun",
		api.DryRunRequest{Selection: sel}), 403).Code)
	assert.Equal(t, "Forbidden", graphError(t, e.do("analyst", "POST", "/eradicate/v1/actions",
		api.ActionRequest{Action: remediation.HardDelete, Selection: sel}), 403).Code)
	assert.Zero(t, e.records())

	// The lead (analyst and approver) proposes a hard delete and cannot approve it.
	var rec remediation.Record
	resp := e.do("lead", "POST", "/eradicate/v1/actions", api.ActionRequest{Action: remediation.HardDelete, Selection: sel, Propose: true, Name: "Campaign"})
	decodeResp(t, resp, http.StatusCreated, &rec)
	assert.Equal(t, remediation.StatusPending, rec.Status)
	assert.Equal(t, e.srv.URL+"/eradicate/v1/actions/"+rec.ID, resp.Header.Get("Location"))
	assert.Equal(t, "FourEyes", graphError(t, e.do("lead", "POST", "/eradicate/v1/actions/"+rec.ID+"/approve", nil), 403).Code)
	assert.Equal(t, "Forbidden", graphError(t, e.do("analyst", "POST", "/eradicate/v1/actions/"+rec.ID+"/approve", nil), 403).Code)
	for _, u := range users {
		assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(u), "nothing acted on before approval")
	}

	// Another approver approves; the campaign is purged.
	var acc api.AcceptedBody
	resp = e.do("approver", "POST", "/eradicate/v1/actions/"+rec.ID+"/approve", nil)
	decodeResp(t, resp, http.StatusAccepted, &acc)
	assert.Equal(t, rec.ID, acc.ID)
	done := e.wait("reader", resp.Header.Get("Location"))
	assert.Equal(t, remediation.StatusCompleted, done.Status)
	assert.Equal(t, "approver", done.DecidedBy)
	assert.Equal(t, "lead", done.Actor)
	assert.EqualValues(t, 3, done.Counts.Succeeded)
	for _, u := range users {
		assert.Empty(t, e.folders(u), u)
	}
	// Approving again is a conflict.
	assert.Equal(t, "Conflict", graphError(t, e.do("approver2", "POST", "/eradicate/v1/actions/"+rec.ID+"/approve", nil), 409).Code)
	assert.Contains(t, e.logs.String(), `"identity":"approver"`)
}

// TestFourEyesWhateverTheEngine: the server refuses self-approval even of a
// proposal the engine's default rule would let its actor approve.
func TestFourEyesWhateverTheEngine(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("m@evil.example", "x", users[0])
	var rec remediation.Record
	decodeResp(t, e.do("lead", "POST", "/eradicate/v1/actions",
		api.ActionRequest{Action: remediation.MoveToJunk, Selection: criteria("m@evil.example"), Propose: true}), 201, &rec)
	assert.Equal(t, "FourEyes", graphError(t, e.do("lead", "POST", "/eradicate/v1/actions/"+rec.ID+"/approve", nil), 403).Code)
	got, err := e.engine.Get(t.Context(), rec.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusPending, got.Status)
}

func TestGraphHardDeleteByAnalystIsProposed(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("hd@evil.example", "x", users[0], users[1])
	resp := e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate", graphBody("hardDelete", "hd@evil.example", users[0], users[1]))
	decodeResp(t, resp, http.StatusAccepted, nil)
	var rec remediation.Record
	decodeResp(t, e.do("analyst", "GET", resp.Header.Get("Location"), nil), 200, &rec)
	assert.Equal(t, remediation.StatusPending, rec.Status)
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[0]))

	// An admin's runs.
	resp = e.do("admin", "POST", "/security/collaboration/analyzedEmails/remediate", graphBody("hardDelete", "hd@evil.example", users[0], users[1]))
	decodeResp(t, resp, http.StatusAccepted, nil)
	done := e.wait("admin", resp.Header.Get("Location"))
	assert.EqualValues(t, 2, done.Counts.Succeeded)
	assert.Empty(t, e.folders(users[0]))
}

func TestActionsLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("life@evil.example", "x", users[0], users[1])
	sel := criteria("life@evil.example")

	var dr api.DryRunResult
	decodeResp(t, e.do("analyst", "POST", "/eradicate/v1/dryrun", api.DryRunRequest{Selection: sel}), 200, &dr)
	assert.EqualValues(t, 2, dr.Total)
	assert.Equal(t, 2, dr.Mailboxes)
	assert.EqualValues(t, 1, dr.Folders[users[0]][mock.FolderInbox])
	assert.Zero(t, e.records(), "a dry run records nothing")

	resp := e.do("analyst", "POST", "/eradicate/v1/actions", api.ActionRequest{Action: remediation.SoftDelete, Selection: sel, Name: "Life"})
	decodeResp(t, resp, http.StatusAccepted, nil)
	rec := e.wait("analyst", resp.Header.Get("Location"))
	assert.EqualValues(t, 2, rec.Counts.Succeeded)
	var again remediation.Record
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/actions/"+rec.ID, nil), 200, &again)
	assert.Equal(t, rec, &again)

	// Outcomes as NDJSON.
	resp = e.do("reader", "GET", "/eradicate/v1/actions/"+rec.ID+"/outcomes", nil)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	var outs []remediation.Outcome
	for sc.Scan() {
		var o remediation.Outcome
		require.NoError(t, json.Unmarshal(sc.Bytes(), &o))
		outs = append(outs, o)
	}
	resp.Body.Close()
	require.Len(t, outs, 2)
	assert.Equal(t, remediation.Succeeded, outs[0].Kind)
	assert.Equal(t, "life@evil.example", outs[0].MessageID)

	// Undo, then undoing again is a conflict.
	resp = e.do("analyst", "POST", "/eradicate/v1/actions/"+rec.ID+"/undo", nil)
	var acc api.AcceptedBody
	decodeResp(t, resp, http.StatusAccepted, &acc)
	assert.NotEqual(t, rec.ID, acc.ID)
	undo := e.wait("analyst", resp.Header.Get("Location"))
	assert.Equal(t, rec.ID, undo.UndoOf)
	assert.EqualValues(t, 2, undo.Counts.Succeeded)
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[0]))
	assert.Equal(t, "Conflict", graphError(t, e.do("analyst", "POST", "/eradicate/v1/actions/"+rec.ID+"/undo", nil), 409).Code)
	// The finished original, read again (its JSON was kept), names its
	// undo.
	var orig remediation.Record
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/actions/"+rec.ID, nil), 200, &orig)
	assert.Equal(t, acc.ID, orig.UndoneBy)
	assert.Equal(t, rec.Counts, orig.Counts)

	// Query.
	var list api.ActionList
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/actions?action=undo", nil), 200, &list)
	require.Len(t, list.Value, 1)
	assert.Equal(t, acc.ID, list.Value[0].ID)
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/actions?top=1", nil), 200, &list)
	require.Len(t, list.Value, 1)
	graphError(t, e.do("reader", "GET", "/eradicate/v1/actions?top=0", nil), 400)
	graphError(t, e.do("reader", "GET", "/eradicate/v1/actions?since=yesterday", nil), 400)
	graphError(t, e.do("reader", "GET", "/eradicate/v1/actions?colour=red", nil), 400)
}

func TestDecline(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("d@evil.example", "x", users[0])
	var rec remediation.Record
	decodeResp(t, e.do("analyst", "POST", "/eradicate/v1/actions",
		api.ActionRequest{Action: remediation.HardDelete, Selection: criteria("d@evil.example"), Propose: true}), 201, &rec)
	decodeResp(t, e.do("approver", "POST", "/eradicate/v1/actions/"+rec.ID+"/decline", api.DeclineRequest{Reason: "false positive"}), 200, &rec)
	assert.Equal(t, remediation.StatusDeclined, rec.Status)
	assert.Equal(t, "false positive", rec.DeclineReason)
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[0]))
}

func TestEngineRefusalsAreClientErrors(t *testing.T) {
	e := newEnv(t, nil)
	for name, req := range map[string]api.ActionRequest{
		"empty selection":     {Action: remediation.SoftDelete},
		"matches everything":  {Action: remediation.SoftDelete, Selection: remediation.Selection{Criteria: &mailbox.Criteria{Folders: []string{"INBOX"}}}},
		"unknown action":      {Action: "obliterate", Selection: criteria("x@y")},
		"undo is not request": {Action: remediation.Undo, Selection: criteria("x@y")},
	} {
		t.Run(name, func(t *testing.T) {
			graphError(t, e.do("admin", "POST", "/eradicate/v1/actions", req), 400)
		})
	}
	graphError(t, e.do("reader", "GET", "/eradicate/v1/actions/20260101T000000-deadbeef", nil), 404)
	assert.Zero(t, e.records())
}

func TestRateLimitPerIdentity(t *testing.T) {
	e := newEnv(t, &api.Options{RateLimit: 1, RateBurst: 3})
	for range 3 {
		decodeResp(t, e.do("reader", "GET", "/eradicate/v1/me", nil), 200, nil)
	}
	resp := e.do("reader", "GET", "/eradicate/v1/me", nil)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Equal(t, "TooManyRequests", graphError(t, resp, http.StatusTooManyRequests).Code)
	// Another identity has its own budget.
	decodeResp(t, e.do("analyst", "GET", "/eradicate/v1/me", nil), 200, nil)
}

// TestGraphRemediateSendersCopy: remediateSendersCopy also soft-deletes the
// copy in an internal sender's Sent folder, as a second action.
func TestGraphRemediateSendersCopy(t *testing.T) {
	e := newEnv(t, nil)
	raw := "From: " + users[2] + "\r\nTo: " + users[0] + "\r\nSubject: oops\r\nMessage-ID: <internal@corp.example>\r\n\r\nmalware link\r\n"
	_, err := e.tenant.Deliver(t.Context(), []byte(raw), &mock.DeliverOptions{SenderCopy: true})
	require.NoError(t, err)
	require.Equal(t, map[string]int{mock.FolderSent: 1}, e.folders(users[2]))
	body := strings.Replace(graphBody("moveToDeletedItems", "internal@corp.example", users[0]), `"false"`, `true`, 1)
	resp := e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate", body)
	var acc api.AcceptedBody
	decodeResp(t, resp, http.StatusAccepted, &acc)
	require.Len(t, acc.Related, 1)
	main := e.wait("analyst", resp.Header.Get("Location"))
	sender := e.wait("analyst", "/eradicate/v1/actions/"+acc.Related[0])
	assert.Equal(t, remediation.MoveToDeleted, main.Action)
	assert.Equal(t, remediation.DeleteSenderCopy, sender.Action)
	assert.EqualValues(t, 1, main.Counts.Succeeded)
	assert.EqualValues(t, 1, sender.Counts.Succeeded)
	assert.Equal(t, map[string]int{mock.FolderDeleted: 1}, e.folders(users[0]))
	assert.Equal(t, map[string]int{mock.FolderRecoverable: 1}, e.folders(users[2]))
}

func TestQuarantineHeldAndRelease(t *testing.T) {
	e := newEnv(t, nil)
	raw := "From: news@partner.example\r\nTo: " + users[0] + ", " + users[1] + "\r\nSubject: Newsletter\r\nMessage-ID: <news-1@partner.example>\r\n\r\nhello\r\n"
	_, err := e.tenant.Deliver(t.Context(), []byte(raw), &mock.DeliverOptions{Role: mailbox.RoleQuarantine})
	require.NoError(t, err)

	var held api.HeldList
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/quarantine", nil), 200, &held)
	require.Len(t, held.Value, 1)
	assert.Equal(t, "news-1@partner.example", held.Value[0].MessageID)
	assert.Equal(t, "Newsletter", held.Value[0].Subject)
	assert.Equal(t, []string{users[0], users[1]}, held.Value[0].Recipients)
	assert.Len(t, held.Value[0].Copies, 2)

	rel := api.ReleaseRequest{MessageIDs: []string{"news-1@partner.example"}, Recipients: []string{users[0]}}
	assert.Equal(t, "Forbidden", graphError(t, e.do("reader", "POST", "/eradicate/v1/quarantine/release", rel), 403).Code)
	graphError(t, e.do("analyst", "POST", "/eradicate/v1/quarantine/release",
		api.ReleaseRequest{MessageIDs: []string{"news-1@partner.example"}, Recipients: []string{users[2]}}), 400)
	graphError(t, e.do("analyst", "POST", "/eradicate/v1/quarantine/release", api.ReleaseRequest{}), 400)

	resp := e.do("analyst", "POST", "/eradicate/v1/quarantine/release", rel)
	decodeResp(t, resp, http.StatusAccepted, nil)
	rec := e.wait("analyst", resp.Header.Get("Location"))
	assert.Equal(t, remediation.Release, rec.Action)
	assert.EqualValues(t, 1, rec.Counts.Succeeded)
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[0]))
	assert.Equal(t, map[string]int{mock.FolderQuarantine: 1}, e.folders(users[1]))
	// A second release to the same recipient says it was released already.
	assert.Equal(t, "Conflict", graphError(t, e.do("analyst", "POST", "/eradicate/v1/quarantine/release", rel), 409).Code)
}

// TestGraphMoveToQuarantine: Graph's moveToQuarantine quarantines the
// copies, and what quarantine holds names the action that holds them.
func TestGraphMoveToQuarantine(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("q@evil.example", "x", users[0], users[1])
	resp := e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate", graphBody("moveToQuarantine", "q@evil.example", users[0], users[1]))
	var acc api.AcceptedBody
	decodeResp(t, resp, http.StatusAccepted, &acc)
	rec := e.wait("analyst", resp.Header.Get("Location"))
	assert.Equal(t, remediation.Quarantine, rec.Action)
	assert.EqualValues(t, 2, rec.Counts.Succeeded)
	var held api.HeldList
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/quarantine", nil), 200, &held)
	require.Len(t, held.Value, 1)
	require.Len(t, held.Value[0].Reasons, 1)
	assert.Equal(t, acc.ID, held.Value[0].Reasons[0].RecordID)
	assert.Equal(t, "analyst", held.Value[0].Reasons[0].Actor)
	assert.Len(t, held.Value[0].Reasons[0].Copies, 2)
}

// TestShutdown: after Shutdown no action starts, and nothing is acted on.
func TestShutdown(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("late@evil.example", "x", users[0])
	require.NoError(t, e.h.Shutdown(t.Context()))
	resp := e.do("analyst", "POST", "/eradicate/v1/actions", api.ActionRequest{Action: remediation.SoftDelete, Selection: criteria("late@evil.example")})
	assert.Equal(t, "ServiceUnavailable", graphError(t, resp, http.StatusServiceUnavailable).Code)
	assert.Zero(t, e.records())
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[0]))

	// An engine closed under a handler still serving: refused as well.
	e2 := newEnv(t, nil)
	e2.deliver("late@evil.example", "x", users[0])
	require.NoError(t, e2.engine.Close(t.Context()))
	resp = e2.do("analyst", "POST", "/eradicate/v1/actions", api.ActionRequest{Action: remediation.SoftDelete, Selection: criteria("late@evil.example")})
	assert.Equal(t, "ServiceUnavailable", graphError(t, resp, http.StatusServiceUnavailable).Code)
	assert.Zero(t, e2.records())
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e2.folders(users[0]))
}

// TestConcurrentStartsOfOneActor: one identity's concurrent requests each
// get the Location of their own action.
func TestConcurrentStartsOfOneActor(t *testing.T) {
	e := newEnv(t, nil)
	const n = 8
	for i := range n {
		e.deliver(fmt.Sprintf("m%d@evil.example", i), "x", users[i%len(users)])
	}
	resps := make([]*http.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i] = e.do("analyst", "POST", "/eradicate/v1/actions", api.ActionRequest{
				Action: remediation.SoftDelete, Name: fmt.Sprintf("action %d", i),
				Selection: criteria(fmt.Sprintf("m%d@evil.example", i))})
		}()
	}
	wg.Wait()
	locs := make([]string, n)
	for i, resp := range resps {
		var acc api.AcceptedBody
		decodeResp(t, resp, http.StatusAccepted, &acc)
		assert.Equal(t, resp.Header.Get("Location"), acc.Location)
		locs[i] = acc.Location
	}
	seen := map[string]bool{}
	for i, loc := range locs {
		require.NotEmpty(t, loc)
		rec := e.wait("analyst", loc)
		assert.Equal(t, fmt.Sprintf("action %d", i), rec.Name)
		assert.Equal(t, remediation.StatusCompleted, rec.Status, rec.Error)
		assert.EqualValues(t, 1, rec.Counts.Succeeded)
		assert.False(t, seen[rec.ID])
		seen[rec.ID] = true
	}
}

// TestGraphRemediateExactPairs: copies that are not every message for
// every recipient are acted on exactly, as several actions; the others
// stay where they are.
func TestGraphRemediateExactPairs(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("m1@evil.example", "a", users[0], users[1], users[2])
	e.deliver("m2@evil.example", "b", users[0], users[1], users[2])
	body := `{"displayName": "Mixed", "action": "moveToJunk", "analyzedEmails": [
		{"networkMessageId": "m1@evil.example", "recipientEmailAddress": "` + users[0] + `"},
		{"networkMessageId": "<m2@evil.example>", "recipientEmailAddress": "` + users[0] + `"},
		{"networkMessageId": "m1@evil.example", "recipientEmailAddress": "` + strings.ToUpper(users[1]) + `"},
		{"networkMessageId": "m2@evil.example", "recipientEmailAddress": "` + users[2] + `"},
		{"networkMessageId": "m1@evil.example", "recipientEmailAddress": "` + users[0] + `"}]}`
	resp := e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate", body)
	var acc api.AcceptedBody
	decodeResp(t, resp, http.StatusAccepted, &acc)
	require.Len(t, acc.Related, 2, "three sets of recipients: three actions")
	var succeeded int64
	for _, id := range append([]string{acc.ID}, acc.Related...) {
		rec := e.wait("reader", "/eradicate/v1/actions/"+id)
		assert.Equal(t, remediation.StatusCompleted, rec.Status)
		assert.Contains(t, rec.Name, "Mixed (")
		succeeded += rec.Counts.Succeeded
	}
	assert.EqualValues(t, 4, succeeded)
	assert.Equal(t, map[string]int{mock.FolderJunk: 2}, e.folders(users[0]))
	assert.Equal(t, map[string]int{mock.FolderJunk: 1, mock.FolderInbox: 1}, e.folders(users[1]))
	assert.Equal(t, map[string]int{mock.FolderJunk: 1, mock.FolderInbox: 1}, e.folders(users[2]))
	for _, u := range users[1:3] {
		copies, err := e.tenant.Copies(u)
		require.NoError(t, err)
		for _, m := range copies {
			want := mock.FolderInbox
			if (u == users[1]) == (mailbox.NormalizeMessageID(m.MessageID) == mailbox.NormalizeMessageID("m1@evil.example")) {
				want = mock.FolderJunk
			}
			assert.Equal(t, want, m.Address.Folder, "%s in %s", m.MessageID, u)
		}
	}
}

// TestGraphRemediateByID: Graph's beta form names copies by the hunting
// index's id; they are looked up and acted on; an unknown id is refused
// before anything is recorded.
func TestGraphRemediateByID(t *testing.T) {
	e := newEnv(t, &api.Options{Index: &fakeIndex{}})
	e.deliver("m1@evil.example", "a", users[0], users[1])
	graphError(t, e.do("analyst", "POST", "/beta/security/collaboration/analyzedEmails/remediate",
		`{"action": "softDelete", "analyzedEmails": [{"id": "x1"}, {"id": "nope"}]}`), 400)
	assert.Zero(t, e.records())
	resp := e.do("analyst", "POST", "/beta/security/collaboration/analyzedEmails/remediate",
		`{"displayName": "Clean up Phish email", "severity": "medium", "action": "softDelete", "remediateSendersCopy": "false",
		  "analyzedEmails": [{"id": "x1"}]}`)
	decodeResp(t, resp, http.StatusAccepted, nil)
	rec := e.wait("reader", resp.Header.Get("Location"))
	assert.EqualValues(t, 1, rec.Counts.Succeeded)
	assert.Equal(t, map[string]int{mock.FolderRecoverable: 1}, e.folders(users[0]))
	assert.Equal(t, map[string]int{mock.FolderInbox: 1}, e.folders(users[1]))
}

// TestGraphApproverUpn: Graph's beta approverUpn is kept as the caller's
// statement on an action the caller may run; it is refused where the call
// is a proposal, which only a second identity's approval can carry out.
func TestGraphApproverUpn(t *testing.T) {
	e := newEnv(t, nil)
	e.deliver("m1@evil.example", "a", users[0])
	body := func(action string) string {
		return `{"action": "` + action + `", "description": "Delete email", "approverUpn": "soc-lead@corp.example",
			"analyzedEmails": [{"networkMessageId": "m1@evil.example", "recipientEmailAddress": "` + users[0] + `"}]}`
	}
	msg := graphError(t, e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate", body("hardDelete")), 400).Message
	assert.Contains(t, msg, "approve")
	assert.Zero(t, e.records())
	resp := e.do("analyst", "POST", "/security/collaboration/analyzedEmails/remediate", body("softDelete"))
	decodeResp(t, resp, http.StatusAccepted, nil)
	rec := e.wait("reader", resp.Header.Get("Location"))
	assert.Equal(t, "Delete email\napproverUpn (as stated by the caller): soc-lead@corp.example", rec.Description)
	assert.Equal(t, "analyst", rec.Actor)
	assert.Equal(t, "analyst", rec.DecidedBy, "a stated approver is not an approval")
}

// TestLocation: Location is absolute — from BaseURL when configured
// (whatever Host the request names), else from the request — and
// client-request-id is echoed, in errors too.
func TestLocation(t *testing.T) {
	e := newEnv(t, &api.Options{BaseURL: "https://mailsec.example.com/eradicate/"})
	e.deliver("m1@evil.example", "a", users[0])
	req, err := http.NewRequest("POST", e.srv.URL+"/security/collaboration/analyzedEmails/remediate",
		strings.NewReader(graphBody("softDelete", "m1@evil.example", users[0])))
	require.NoError(t, err)
	req.Host = "attacker.example"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens["analyst"])
	req.Header.Set("client-request-id", "7c6d8e2a-0b1f-4c2e-9a55-1d2e3f4a5b6c")
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	var acc api.AcceptedBody
	decodeResp(t, resp, http.StatusAccepted, &acc)
	assert.Equal(t, "https://mailsec.example.com/eradicate/eradicate/v1/actions/"+acc.ID, resp.Header.Get("Location"))
	assert.Equal(t, "7c6d8e2a-0b1f-4c2e-9a55-1d2e3f4a5b6c", resp.Header.Get("client-request-id"))

	req, err = http.NewRequest("GET", e.srv.URL+"/eradicate/v1/actions/nope", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.tokens["reader"])
	req.Header.Set("client-request-id", "abc-123")
	resp, err = e.srv.Client().Do(req)
	require.NoError(t, err)
	assert.Equal(t, "abc-123", graphError(t, resp, 404).InnerError.ClientRequestID)

	auth, err := api.NewTokens([]api.Token{{Name: "a", SHA256: api.HashToken("t"), Roles: []api.Role{api.RoleReader}}})
	require.NoError(t, err)
	for _, bad := range []string{"ftp://x.example", "/relative", "https://u:p@x.example", "https://x.example/?q=1", "https://"} {
		_, err := api.New(e.engine, api.Options{Auth: auth, BaseURL: bad})
		assert.Error(t, err, bad)
	}
}
