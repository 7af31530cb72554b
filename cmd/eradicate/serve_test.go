package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// lureEML is one message of a campaign: every message carries the same
// link, from the same sender.
func lureEML(msgID, to string) string {
	return "From: payments@lure-campaign.example\r\nTo: " + to + "\r\nSubject: Payment " + msgID[:6] + "\r\nMessage-ID: <" + msgID +
		">\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nConfirm your payment: https://secure-payments.top/confirm/form?id=7\r\n"
}

// eventually polls cond every 50 ms for up to 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out waiting: %s", what)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeAutomation: `eradicate serve` runs what its config names
// beside the API: a campaign delivered through the tap is found in the
// events index after the next crawl; when a detection rule catches one
// more of it at the tap, automation soft-deletes the rest of its cluster
// on its own (recorded as decided by automation); the journal, sealed with
// its key, is compacted on schedule and verifies.
func TestServeAutomation(t *testing.T) {
	dir := t.TempDir()
	ids := newIdentities(t)
	keyFile := filepath.Join(dir, "journal.key")
	_, err := journal.WriteKeyFile(keyFile)
	require.NoError(t, err)
	config := filepath.Join(dir, "eradicate.toml")
	tapAddr := freeAddr(t)
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen = %q
journal = %q
journal_key = %q
rules_file = %q
[tap]
listen = %q
downstream = "append"
[mock]
users = ["%s"]
[hunt]
index = %q
crawl_interval = "200ms"
[automation]
kinds = ["urls"]
[compact]
interval = "300ms"
`, freeAddr(t), filepath.Join(dir, "journal"), keyFile, filepath.Join(dir, "rules.json"), tapAddr,
		strings.Join(e2eUsers, `", "`), filepath.Join(dir, "hunt.db"))+tokensTOML(ids)), 0o600))
	s := startServe(t, config)
	reader, analyst, admin := ids["reader"].token, ids["analyst"].token, ids["admin"].token

	// The campaign lands in the inboxes; nothing catches it yet.
	for i, u := range e2eUsers {
		lmtpSend(t, tapAddr, "payments@lure-campaign.example", u, lureEML(fmt.Sprintf("lure-%d@lure-campaign.example", i), u))
	}
	// A crawl makes mail delivered since the start huntable.
	eventually(t, "the crawler indexes the delivered mail", func() bool {
		out, err := cli(t, s.url, reader, "hunt", "-sender", "payments@lure-campaign.example", "-json")
		require.NoError(t, err)
		var got struct {
			Value []struct {
				NetworkMessageID string `json:"networkMessageId"`
			} `json:"value"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &got), out)
		return len(got.Value) == 3
	})
	var dry api.DryRunResult
	out, err := cli(t, s.url, analyst, "dryrun", "-sender-domain", "lure-campaign.example", "-json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(out), &dry))
	require.EqualValues(t, 3, dry.Total, out)

	// A rule now catches the campaign at the tap: the next message is
	// held, and automation soft-deletes the cluster it belongs to.
	ruleFile := filepath.Join(dir, "rule.json")
	require.NoError(t, os.WriteFile(ruleFile, []byte(`{"name": "lure", "action": "quarantine", "mode": "execute",
		"criteria": {"sender_domains": ["lure-campaign.example"]}}`), 0o600))
	_, err = cli(t, s.url, admin, "rules", "add", "-file", ruleFile)
	require.NoError(t, err)
	lmtpSend(t, tapAddr, "payments@lure-campaign.example", e2eUsers[0], lureEML("lure-9@lure-campaign.example", e2eUsers[0]))

	var auto *remediation.Record
	eventually(t, "automation acts", func() bool {
		var list api.ActionList
		out, err := cli(t, s.url, reader, "actions", "-json")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal([]byte(out), &list))
		for _, r := range list.Value {
			if r.Source == remediation.SourceAutomation && r.Status.Final() {
				auto = r
			}
		}
		return auto != nil
	})
	assert.Equal(t, remediation.SoftDelete, auto.Action)
	assert.Equal(t, "automation", auto.DecidedBy, "no person decided")
	assert.Equal(t, remediation.StatusCompleted, auto.Status, "%+v", auto)
	assert.GreaterOrEqual(t, auto.Counts.Succeeded, int64(3), "%+v", auto.Counts)
	out, err = cli(t, s.url, analyst, "dryrun", "-sender-domain", "lure-campaign.example", "-json")
	require.NoError(t, err)
	dry = api.DryRunResult{}
	require.NoError(t, json.Unmarshal([]byte(out), &dry))
	for owner, folders := range dry.Folders {
		assert.Zero(t, folders["INBOX"], "%s's inbox still holds the campaign: %s", owner, out)
	}
	// The responder logs its decision once Remediate returns, which is
	// after the record is final (and after the action is recorded in the
	// index).
	eventually(t, "automation logs its decision", func() bool { return strings.Contains(s.logs.String(), "decision=executed") })

	eventually(t, "a compaction", func() bool { return strings.Contains(s.logs.String(), "msg=\"journal compacted\"") })
	require.NoError(t, s.stop(), "%s", s.logs.String())

	// The sealed journal verifies, with the heads serve logged: at its
	// start, after each compaction (which starts the chain over), at its
	// stop, and once a minute while it changes.
	logf := filepath.Join(dir, "serve.log")
	require.NoError(t, os.WriteFile(logf, []byte(s.logs.String()), 0o600))
	rep, _, err := runVerify(t, "-config", config, "-heads", logf)
	require.NoError(t, err, "%+v", rep)
	assert.True(t, rep.OK)
	assert.GreaterOrEqual(t, rep.HeadsChecked, 2, "the last compaction's head and the stop's")
	var last string
	for line := range strings.SplitSeq(s.logs.String(), "\n") {
		if strings.Contains(line, "eradicate-journal-head") {
			last = line
		}
	}
	h, err := journal.ParseHead(strings.ReplaceAll(last, `"`, " "))
	require.NoError(t, err)
	assert.Equal(t, h.String(), rep.Head, "the head at the stop is the journal's")
}

// TestServeRestartRemembers: with [hunt] and no rules_file, `eradicate
// serve` keeps what it learnt beside the events index: after a restart the
// detection rules are still there, and a lure arriving after the restart
// joins the cluster of the lures that arrived before it.
func TestServeRestartRemembers(t *testing.T) {
	dir := t.TempDir()
	ids := newIdentities(t)
	config := filepath.Join(dir, "eradicate.toml")
	tapAddr := freeAddr(t)
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen = %q
journal = %q
[tap]
listen = %q
downstream = "append"
[mock]
users = ["%s"]
[hunt]
index = %q
crawl_interval = "1h"
`, freeAddr(t), filepath.Join(dir, "journal"), tapAddr, strings.Join(e2eUsers, `", "`), filepath.Join(dir, "hunt.db"))+tokensTOML(ids)), 0o600))
	reader, admin := ids["reader"].token, ids["admin"].token

	s := startServe(t, config)
	ruleFile := filepath.Join(dir, "rule.json")
	require.NoError(t, os.WriteFile(ruleFile, []byte(`{"name": "lure", "action": "move_to_junk", "mode": "execute",
		"criteria": {"sender_domains": ["elsewhere.example"]}}`), 0o600))
	_, err := cli(t, s.url, admin, "rules", "add", "-file", ruleFile)
	require.NoError(t, err)
	for i, u := range e2eUsers[:2] {
		lmtpSend(t, tapAddr, "payments@lure-campaign.example", u, lureEML(fmt.Sprintf("lure-%d@lure-campaign.example", i), u))
	}
	clusterOf := func(s *server, id string) api.ClusterView {
		t.Helper()
		out, err := cli(t, s.url, reader, "clusters", "-of", id, "-json")
		require.NoError(t, err)
		var cl api.ClusterView
		require.NoError(t, json.Unmarshal([]byte(out), &cl), out)
		return cl
	}
	require.Equal(t, 2, clusterOf(s, "lure-0@lure-campaign.example").Messages)
	require.NoError(t, s.stop(), "%s", s.logs.String())

	s = startServe(t, config)
	out, err := cli(t, s.url, reader, "rules", "-json")
	require.NoError(t, err)
	var list api.RuleList
	require.NoError(t, json.Unmarshal([]byte(out), &list), out)
	require.Len(t, list.Value, 1, out)
	assert.Equal(t, "lure", list.Value[0].Name)
	assert.Equal(t, 2, clusterOf(s, "lure-1@lure-campaign.example").Messages, "the cluster index is rebuilt at start")
	lmtpSend(t, tapAddr, "payments@lure-campaign.example", e2eUsers[2], lureEML("lure-2@lure-campaign.example", e2eUsers[2]))
	assert.Equal(t, 3, clusterOf(s, "lure-2@lure-campaign.example").Messages, "the rest of the campaign joins the cluster from before the restart")
	assert.Contains(t, s.logs.String(), "cluster index rebuilt")
	require.NoError(t, s.stop(), "%s", s.logs.String())
}
