package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/remediation"
)

// inviteEML is a meeting invite of a malicious campaign: delivered, it
// creates a tentative entry in each recipient's calendar.
func inviteEML(msgID string, to ...string) string {
	return "From: ceo@evil.example\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: Quarterly review\r\n" +
		"Message-ID: <" + msgID + ">\r\nDate: Mon, 07 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nJoin: http://evil.example/join\r\n" +
		"--b\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n" +
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//evil//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:" + msgID + "-event\r\n" +
		"DTSTAMP:20261207T080000Z\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\nSUMMARY:Quarterly review\r\n" +
		"ORGANIZER:mailto:ceo@evil.example\r\nATTENDEE:mailto:" + strings.Join(to, "\r\nATTENDEE:mailto:") + "\r\nSEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n"
}

func plainEML(msgID, subject string, to ...string) string {
	return "From: billing@evil.example\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + msgID +
		">\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n\r\nPay now: http://evil.example/pay\r\n"
}

var e2eUsers = []string{"alice@corp.example", "bob@corp.example", "carol@corp.example"}

// graphRemediate is a client written from Microsoft Graph's published
// analyzedEmail: remediate request and response examples, not from this
// module's types: it posts the documented JSON and follows the Location of
// the 202 until the action's status is final. It returns the final action
// as generic JSON.
func graphRemediate(t *testing.T, base, token, action, networkMessageID string, recipients ...string) map[string]any {
	t.Helper()
	var emails []string
	for _, r := range recipients {
		emails = append(emails, fmt.Sprintf(`{"networkMessageId": %q, "recipientEmailAddress": %q}`, networkMessageID, r))
	}
	return graphPost(t, base+"/v1.0", token, action, emails)
}

// graphRemediateIDs is the same client in the form of Graph's beta
// example: the copies named by the hunting index's ids alone.
func graphRemediateIDs(t *testing.T, base, token, action string, ids ...string) map[string]any {
	t.Helper()
	var emails []string
	for _, id := range ids {
		emails = append(emails, fmt.Sprintf(`{"id": %q}`, id))
	}
	return graphPost(t, base+"/beta", token, action, emails)
}

// graphPost posts the remediate of Graph's examples with these
// analyzedEmails under root (a Graph version's base URL) and follows the
// Location.
func graphPost(t *testing.T, root, token, action string, emails []string) map[string]any {
	t.Helper()
	body := `{
    "displayName": "Clean up Phish email",
    "description": "Delete email",
    "severity": "medium",
    "action": "` + action + `",
    "remediateSendersCopy": "false",
    "analyzedEmails": [` + strings.Join(emails, ",") + `]
}`
	req, err := http.NewRequest("POST", root+"/security/collaboration/analyzedEmails/remediate", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "%s", b)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, strings.TrimSuffix(strings.TrimSuffix(root, "/v1.0"), "/beta")+"/"),
		"a 202 carries an absolute Location to poll: %q", loc)
	return poll(t, loc, token)
}

// poll reads a tracking URL until the status is not queued or running.
func poll(t *testing.T, u, token string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, err := http.NewRequest("GET", u, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%v", got)
		if s := got["status"]; s != "queued" && s != "running" {
			return got
		}
		require.True(t, time.Now().Before(deadline), "still %v", got["status"])
		time.Sleep(20 * time.Millisecond)
	}
}

// graphList is Graph's list analyzedEmails, written from its documented
// request: GET .../analyzedEmails with $filter; it returns the entries as
// generic JSON.
func graphList(t *testing.T, base, token, filter string) []map[string]any {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/v1.0/security/collaboration/analyzedEmails?$filter="+url.QueryEscape(filter), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var got struct {
		Value []map[string]any `json:"value"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return got.Value
}

// cli runs the command in this process as identity who against base and
// returns its standard output.
func cli(t *testing.T, base, token string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("ERADICATE_URL", base)
	t.Setenv("ERADICATE_TOKEN", token)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, args, &stdout, &stderr)
	return stdout.String(), err
}

func cliRecord(t *testing.T, base, token string, args ...string) remediation.Record {
	t.Helper()
	out, err := cli(t, base, token, args...)
	require.NoError(t, err, "eradicate %s", strings.Join(args, " "))
	var rec remediation.Record
	require.NoError(t, json.Unmarshal([]byte(out), &rec), "eradicate %s -json printed %q", strings.Join(args, " "), out)
	return rec
}

func status(t *testing.T, method, u, token string) int {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// e2e runs the operator's story against a running `eradicate serve`.
func e2e(t *testing.T, s *server, ids map[string]identity, users []string) (softDeleted string) {
	// A wrong token is 401; a reader cannot remediate (403).
	assert.Equal(t, 401, status(t, "GET", s.url+"/eradicate/v1/actions", ids["admin"].token+"x"))
	assert.Equal(t, 403, status(t, "POST", s.url+"/security/collaboration/analyzedEmails/remediate", ids["reader"].token))

	// A SOAR playbook hunts a phish in the index, as it would in Defender,
	// once the first crawl has run, and soft-deletes the copies it found.
	filter := "senderDetail/fromAddress eq 'billing@evil.example' and contains(subject,'invoice')"
	var found []map[string]any
	require.Eventually(t, func() bool {
		found = graphList(t, s.url, ids["reader"].token, filter)
		return len(found) == 2
	}, 60*time.Second, 100*time.Millisecond, "the crawler indexes the seeded mail")
	var recipients []string
	for _, e := range found {
		assert.Equal(t, "invoice@evil.example", e["networkMessageId"])
		recipients = append(recipients, e["recipientEmailAddress"].(string))
	}
	assert.ElementsMatch(t, users[:2], recipients)
	got := graphRemediate(t, s.url, ids["analyst"].token, "softDelete", found[0]["networkMessageId"].(string), recipients...)
	assert.Equal(t, "completed", got["status"])
	assert.Equal(t, "soft_delete", got["action"])
	assert.EqualValues(t, 2, got["counts"].(map[string]any)["succeeded"])

	// The CLI hunts the same copies; the index follows them to where the
	// action put them.
	require.Eventually(t, func() bool {
		out, err := cli(t, s.url, ids["reader"].token, "hunt", "-message-id", "invoice@evil.example", "-sender", "billing@evil.example", "-json")
		require.NoError(t, err)
		var list struct{ Value []api.AnalyzedEmail }
		require.NoError(t, json.Unmarshal([]byte(out), &list), out)
		require.Len(t, list.Value, 2, out)
		for _, e := range list.Value {
			if e.LatestDelivery == nil || e.LatestDelivery.Location != "deletedFolder" {
				return false
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "the index sees the soft-deleted copies in deleted items")
	require.Eventually(t, func() bool { return strings.Contains(s.logs.String(), "actions recorded in the index") },
		60*time.Second, 100*time.Millisecond, "serve tells the index what the actions did")
	// One copy was a false positive: Graph's beta form names it by the
	// index's id alone (stable across the move), and it goes back to the
	// inbox; the other stays deleted.
	got = graphRemediateIDs(t, s.url, ids["analyst"].token, "moveToInbox", found[0]["id"].(string))
	assert.Equal(t, "completed", got["status"])
	assert.Equal(t, "move_to_inbox", got["action"])
	assert.EqualValues(t, 1, got["counts"].(map[string]any)["succeeded"])
	out, err := cli(t, s.url, ids["reader"].token, "hunt", "-subject", "payroll", "-top", "2")
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(out, "\n"), "a header and two copies: %s", out)
	assert.Contains(t, out, "payroll@evil.example")
	_, err = cli(t, s.url, ids["reader"].token, "hunt", "-filter", "threatTypes eq 'phish'")
	require.ErrorContains(t, err, "400 BadRequest")
	require.ErrorContains(t, err, "cannot be filtered on")

	// It hard-deletes the invite campaign: from an analyst it is a proposal.
	got = graphRemediate(t, s.url, ids["lead"].token, "hardDelete", "<campaign@evil.example>", users...)
	assert.Equal(t, "pending_approval", got["status"])
	id := got["id"].(string)
	// The proposer cannot approve it, an analyst lacks the role.
	_, err = cli(t, s.url, ids["lead"].token, "approve", id, "-json")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "403 FourEyes")
	_, err = cli(t, s.url, ids["analyst"].token, "approve", id)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "403 Forbidden")
	// A second person approves it with the CLI.
	rec := cliRecord(t, s.url, ids["approver"].token, "approve", id, "-json")
	assert.Equal(t, remediation.StatusCompleted, rec.Status)
	assert.Equal(t, "approver", rec.DecidedBy)
	assert.Equal(t, "lead", rec.Actor)
	assert.EqualValues(t, len(users), rec.Counts.Succeeded)
	removed := 0
	for _, d := range rec.Calendar {
		if d.Verdict == remediation.VerdictRemoved {
			removed++
		}
	}
	assert.Equal(t, len(users), removed, "the invite's entries are gone from every calendar: %+v", rec.Calendar)

	// The CLI: dry run, soft delete, show, outcomes, undo.
	out, err = cli(t, s.url, ids["analyst"].token, "dryrun", "-message-id", "payroll@evil.example", "-json")
	require.NoError(t, err)
	var dr api.DryRunResult
	require.NoError(t, json.Unmarshal([]byte(out), &dr))
	assert.EqualValues(t, len(users), dr.Total)

	rec = cliRecord(t, s.url, ids["analyst"].token, "remediate", "-action", "soft_delete", "-name", "Payroll phish", "-message-id", "payroll@evil.example", "-json")
	assert.Equal(t, remediation.StatusCompleted, rec.Status)
	assert.EqualValues(t, len(users), rec.Counts.Succeeded)
	shown := cliRecord(t, s.url, ids["reader"].token, "show", rec.ID, "-json")
	assert.Equal(t, rec.ID, shown.ID)
	assert.Equal(t, "Payroll phish", shown.Name)
	out, err = cli(t, s.url, ids["reader"].token, "show", rec.ID, "-outcomes", "-json")
	require.NoError(t, err)
	assert.Equal(t, len(users), strings.Count(out, "\n"), "one NDJSON line per copy: %s", out)
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var o remediation.Outcome
		require.NoError(t, json.Unmarshal([]byte(line), &o))
		assert.Equal(t, remediation.Succeeded, o.Kind)
	}
	undo := cliRecord(t, s.url, ids["analyst"].token, "undo", rec.ID, "-json")
	assert.Equal(t, rec.ID, undo.UndoOf)
	assert.Equal(t, remediation.StatusCompleted, undo.Status)
	assert.EqualValues(t, len(users), undo.Counts.Succeeded)

	out, err = cli(t, s.url, ids["reader"].token, "actions", "-json")
	require.NoError(t, err)
	var list api.ActionList
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	assert.Len(t, list.Value, 5)
	out, err = cli(t, s.url, ids["reader"].token, "actions")
	require.NoError(t, err)
	assert.Contains(t, out, "Payroll phish")

	// Quarantine: the CLI lists what it holds and releases a false
	// positive to one recipient; a second release says it was released.
	out, err = cli(t, s.url, ids["reader"].token, "held", "-json")
	require.NoError(t, err)
	var held api.HeldList
	require.NoError(t, json.Unmarshal([]byte(out), &held))
	require.Len(t, held.Value, 1, out)
	assert.Equal(t, "statement@bank.example", held.Value[0].MessageID)
	assert.Len(t, held.Value[0].Recipients, len(users))
	rel := cliRecord(t, s.url, ids["analyst"].token, "release", "-message-id", "statement@bank.example", "-recipients", users[0], "-json")
	assert.Equal(t, remediation.Release, rel.Action)
	assert.Equal(t, remediation.StatusCompleted, rel.Status)
	assert.EqualValues(t, 1, rel.Counts.Succeeded)
	_, err = cli(t, s.url, ids["analyst"].token, "release", "-message-id", "statement@bank.example", "-recipients", users[0], "-json")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already released")
	out, err = cli(t, s.url, ids["reader"].token, "held")
	require.NoError(t, err)
	assert.Contains(t, out, "statement@bank.example", "still held for the others")

	// Every call was logged with its identity.
	assert.Contains(t, s.logs.String(), "identity=approver")
	assert.Contains(t, s.logs.String(), "identity=lead")
	return rec.ID
}

func TestServeMock(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "mail")
	require.NoError(t, os.MkdirAll(filepath.Join(seed, "quarantine"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "quarantine", "statement.eml"),
		[]byte(plainEML("statement@bank.example", "Your statement", e2eUsers...)), 0o644))
	for name, eml := range map[string]string{
		"campaign.eml": inviteEML("campaign@evil.example", e2eUsers...),
		"invoice.eml":  plainEML("invoice@evil.example", "Invoice", e2eUsers[0], e2eUsers[1]),
		"payroll.eml":  plainEML("payroll@evil.example", "Payroll", e2eUsers...),
	} {
		require.NoError(t, os.WriteFile(filepath.Join(seed, name), []byte(eml), 0o644))
	}
	ids := newIdentities(t)
	config := filepath.Join(dir, "eradicate.toml")
	tapAddr := freeAddr(t)
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen = %q
journal = %q
rules_file = %q
[tap]
listen = %q
downstream = "append"
[mock]
users = ["%s"]
seed = %q
[hunt]
index = %q
crawl_interval = "200ms"
`, freeAddr(t), filepath.Join(dir, "journal"), filepath.Join(dir, "rules.json"), tapAddr, strings.Join(e2eUsers, `", "`), seed, filepath.Join(dir, "hunt.db"))+tokensTOML(ids)), 0o600))

	s := startServe(t, config)
	id := e2e(t, s, ids, e2eUsers)

	// Detection rules, managed with the CLI by an admin only.
	ruleFile := filepath.Join(dir, "rule.json")
	require.NoError(t, os.WriteFile(ruleFile, []byte(`{"name": "payroll lure", "action": "quarantine", "mode": "execute",
		"criteria": {"sender_domains": ["payro11.example"]}}`), 0o600))
	_, err := cli(t, s.url, ids["analyst"].token, "rules", "add", "-file", ruleFile)
	require.ErrorContains(t, err, "403 Forbidden")
	out, err := cli(t, s.url, ids["admin"].token, "rules", "add", "-file", ruleFile, "-json")
	require.NoError(t, err)
	assert.Contains(t, out, `"payroll lure"`)

	// The delivery tap runs the rule before the message lands: it is
	// held, and quarantine says which rule holds it.
	lmtpSend(t, tapAddr, "hr@payro11.example", e2eUsers[0],
		"From: hr@payro11.example\r\nTo: "+e2eUsers[0]+"\r\nSubject: Your payslip\r\nMessage-ID: <payslip@payro11.example>\r\n\r\nOpen the attachment\r\n")
	out, err = cli(t, s.url, ids["reader"].token, "held", "-json")
	require.NoError(t, err)
	var held api.HeldList
	require.NoError(t, json.Unmarshal([]byte(out), &held))
	var payslip *api.HeldMessage
	for i := range held.Value {
		if held.Value[i].MessageID == "payslip@payro11.example" {
			payslip = &held.Value[i]
		}
	}
	require.NotNil(t, payslip, "the tap quarantined the message: %s", out)
	require.Len(t, payslip.Reasons, 1)
	assert.Equal(t, "payroll lure", payslip.Reasons[0].RuleName)

	// The tap indexes what it delivers: a second lure with the same link
	// joins the first in a cluster.
	lmtpSend(t, tapAddr, "hr@payro11.example", e2eUsers[1],
		"From: hr@payro11.example\r\nTo: "+e2eUsers[1]+"\r\nSubject: Payslip again\r\nMessage-ID: <payslip-2@payro11.example>\r\n\r\nhttp://payro11-secure.top/slip?id=9\r\n")
	lmtpSend(t, tapAddr, "hr@payro11.example", e2eUsers[2],
		"From: hr@payro11.example\r\nTo: "+e2eUsers[2]+"\r\nSubject: Payslip\r\nMessage-ID: <payslip-3@payro11.example>\r\n\r\nhttp://payro11-secure.top/slip?id=9\r\n")
	out, err = cli(t, s.url, ids["reader"].token, "clusters", "-of", "payslip-2@payro11.example", "-json")
	require.NoError(t, err)
	var cl api.ClusterView
	require.NoError(t, json.Unmarshal([]byte(out), &cl))
	assert.Equal(t, 2, cl.Messages, out)

	_, err = cli(t, s.url, ids["admin"].token, "rules", "disable", "payroll lure")
	require.NoError(t, err)
	require.NoError(t, s.stop(), "SIGTERM stops the server cleanly:\n%s", s.logs.String())

	// The action center and the rules survive a restart.
	s = startServe(t, config)
	rec := cliRecord(t, s.url, ids["reader"].token, "show", id, "-json")
	assert.NotEmpty(t, rec.UndoneBy)
	out, err = cli(t, s.url, ids["reader"].token, "rules", "-json")
	require.NoError(t, err)
	var list api.RuleList
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list.Value, 1, out)
	assert.Equal(t, "payroll lure", list.Value[0].Name)
	assert.True(t, list.Value[0].Disabled, "disabled before the restart")
	_, err = cli(t, s.url, ids["admin"].token, "rules", "delete", "payroll lure")
	require.NoError(t, err)
	out, err = cli(t, s.url, ids["reader"].token, "rules")
	require.NoError(t, err)
	assert.NotContains(t, out, "payroll lure")
	require.NoError(t, s.stop())
}

func TestInitAndConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eradicate.toml")
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"init", "-o", path}, &out, &errb))
	_, tok, ok := strings.Cut(out.String(), "ERADICATE_TOKEN=")
	require.True(t, ok, out.String())
	tok = strings.TrimSpace(tok)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(raw), api.HashToken(tok), "the file holds the token's hash")
	assert.NotContains(t, string(raw), tok, "and never the token")
	// init never overwrites.
	require.Error(t, run(context.Background(), []string{"init", "-o", path}, &out, &errb))

	// The sample has no password: refused with a clear message, and the
	// environment supplies it.
	_, err = loadConfig(path)
	require.ErrorContains(t, err, "ERADICATE_IMAP_PASSWORD")
	t.Setenv("ERADICATE_IMAP_PASSWORD", "s3cret")
	cfg, err := loadConfig(path)
	require.NoError(t, err)
	assert.Equal(t, "s3cret", cfg.IMAP.MasterPassword)
	require.NotNil(t, cfg.Hunt, "the sample keeps an events index")
	assert.Equal(t, 5*time.Minute, cfg.Hunt.CrawlInterval)
	assert.Equal(t, 10*time.Minute, cfg.Hunt.MaxAge, "twice the crawl interval")
	assert.False(t, cfg.Hunt.Narrow, "narrowing is the operator's choice")

	write := func(s string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.toml", time.Now().UnixNano()))
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	tokens := tokensTOML(newIdentities(t))
	for name, c := range map[string]struct{ config, err string }{
		"non-loopback without TLS": {"listen = \"0.0.0.0:8750\"\n[mock]\nusers=[\"a@b.c\"]\n" + tokens, "not loopback"},
		"unknown key":              {"listne = \"127.0.0.1:1\"\n[mock]\nusers=[\"a@b.c\"]\n" + tokens, "unknown keys: listne"},
		"no token":                 {"[mock]\nusers=[\"a@b.c\"]\n", "no [[token]]"},
		"hunt without index":       {"[mock]\nusers=[\"a@b.c\"]\n[hunt]\ncrawl_interval=\"1m\"\n" + tokens, "[hunt] needs index"},
		"hunt bad interval":        {"[mock]\nusers=[\"a@b.c\"]\n[hunt]\nindex=\"/tmp/h.db\"\ncrawl_interval=\"soon\"\n" + tokens, "soon"},
		"hunt negative max_age":    {"[mock]\nusers=[\"a@b.c\"]\n[hunt]\nindex=\"/tmp/h.db\"\nmax_age=\"-1m\"\n" + tokens, "max_age -1m0s must be positive"},
		"no store":                 {tokens, "exactly one of [imap] and [mock]"},
		"boilerplate of one":       {"[mock]\nusers=[\"a@b.c\"]\n[cluster]\nboilerplate_subjects=1\n" + tokens, "boilerplate_subjects must be 2 or more"},
		"bad role":                 {"[mock]\nusers=[\"a@b.c\"]\n[[token]]\nname=\"x\"\nsha256=\"" + api.HashToken("t") + "\"\nroles=[\"root\"]\n", "unknown role"},
		"client certs without TLS": {"client_ca = \"/x.pem\"\n[mock]\nusers=[\"a@b.c\"]\n[[client_cert]]\nname=\"soar\"\nroles=[\"analyst\"]\n", "need TLS"},
		"client certs without CA":  {"tls_cert=\"c\"\ntls_key=\"k\"\n[mock]\nusers=[\"a@b.c\"]\n[[client_cert]]\nname=\"soar\"\nroles=[\"analyst\"]\n", "go together"},
		"short provenance key": {"journal=\"/tmp/j\"\n[imap]\naddr=\"127.0.0.1:143\"\nmaster_user=\"m\"\nmaster_password=\"p\"\n[caldav]\nurl=\"http://127.0.0.1:1/\"\nadmin_user=\"a\"\nadmin_password=\"p\"\nprovenance_key=\"abcd\"\n" + tokens,
			"provenance_key"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(write(c.config))
			require.ErrorContains(t, err, c.err)
		})
	}
	// Non-loopback is allowed when the config says so.
	_, err = loadConfig(write("listen = \"0.0.0.0:8750\"\ninsecure_listen = true\n[mock]\nusers=[\"a@b.c\"]\n" + tokens))
	require.NoError(t, err)
	cfg, err = loadConfig(write("[mock]\nusers=[\"a@b.c\"]\n[cluster]\nboilerplate_subjects=-1\n" + tokens))
	require.NoError(t, err)
	assert.Equal(t, -1, cfg.Cluster.BoilerplateSubjects)
}

// TestServiceUnit: the systemd unit of docs/service starts eradicate with a
// command line it accepts: its ExecStart, with the config path replaced,
// runs `eradicate serve` up to reading that config.
func TestServiceUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "service", "eradicate.service"))
	require.NoError(t, err)
	var exec string
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			exec = v
		}
	}
	args := strings.Fields(exec)
	require.GreaterOrEqual(t, len(args), 4, "ExecStart=%s", exec)
	assert.Equal(t, "eradicate", filepath.Base(args[0]))
	missing := filepath.Join(t.TempDir(), "eradicate.toml")
	for i, a := range args {
		if a == "/etc/eradicate/eradicate.toml" {
			args[i] = missing
		}
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), args[1:], &out, &errb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing, "the command line is accepted and the config is read: %s", errb.String())
}

// lmtpSend delivers one message over LMTP to addr, as an MTA does.
func lmtpSend(t *testing.T, addr, from, rcpt, raw string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	require.NoError(t, c.Hello("mta.test"))
	require.NoError(t, c.Mail(from, nil))
	require.NoError(t, c.Rcpt(rcpt, nil))
	w, err := c.Data()
	require.NoError(t, err)
	_, err = w.Write([]byte(raw))
	require.NoError(t, err)
	_, err = w.CloseWithLMTPResponse()
	require.NoError(t, err)
	require.NoError(t, c.Quit())
}
