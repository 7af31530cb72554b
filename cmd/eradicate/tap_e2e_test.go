package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/postfix"
	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
)

// docSample is a sample of docs (a path from the module's root) with the
// replacements (old, new, ...) made, each of which must apply.
func docSample(t *testing.T, rel string, oldNew ...string) string {
	t.Helper()
	s, err := servertest.Sample(rel, oldNew...)
	require.NoError(t, err)
	return s
}

// TestServeTapPostfixDovecot is the delivery path of docs/tap with the
// binary: mail sent by SMTP to a real Postfix goes over LMTP to the tap of
// `eradicate serve`, which delivers it to Dovecot's LMTP; Postfix and
// Dovecot run with the samples of docs/tap (and Dovecot with the master
// user and admin folders of docs/dovecot). A detection rule added with
// the CLI quarantines a lure on its way in, the benign mail lands in the
// INBOX, and the CLI releases the lure to its recipient.
func TestServeTapPostfixDovecot(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	const domain = "corp.test"
	users := []string{"alice@" + domain, "bob@" + domain}
	pw := map[string]string{}
	for _, u := range users {
		pw[u] = "pw-" + u
	}
	dove := dovecot.Start(t, &dovecot.Options{Users: pw, LMTP: true, LMTPConfig: func(port int) string {
		return docSample(t, "docs/tap/dovecot-lmtp.conf", "port = 24", fmt.Sprintf("port = %d", port))
	}})

	dir := t.TempDir()
	ids := newIdentities(t)
	tapAddr := freeAddr(t)
	config := filepath.Join(dir, "eradicate.toml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen = %q
journal = %q
rules_file = %q

[imap]
addr = %q
security = "insecure"
master_user = %q
mailboxes = ["%s"]

[tap]
listen = %q
downstream = %q
`, freeAddr(t), filepath.Join(dir, "journal"), filepath.Join(dir, "rules.json"), dove.Addr, dove.MasterUser,
		strings.Join(users, `", "`), tapAddr, dove.LMTPAddr)+tokensTOML(ids)), 0o600))
	s := startServe(t, config, "ERADICATE_IMAP_PASSWORD="+dove.MasterPassword)
	defer func() { require.NoError(t, s.stop(), "%s", s.logs.String()) }()

	pf := postfix.Start(t, &postfix.Options{MainCF: docSample(t, "docs/tap/postfix-main.cf",
		"virtual_mailbox_domains = example.com", "virtual_mailbox_domains = "+domain,
		"lmtp:inet:127.0.0.1:10024", "lmtp:inet:"+tapAddr)})

	ruleFile := filepath.Join(dir, "rule.json")
	require.NoError(t, os.WriteFile(ruleFile, []byte(`{"name": "payroll lure", "action": "quarantine", "mode": "execute",
		"criteria": {"sender_domains": ["payro11.example"]}}`), 0o600))
	_, err := cli(t, s.url, ids["admin"].token, "rules", "add", "-file", ruleFile)
	require.NoError(t, err)

	eml := func(from, to, subject, id string) []byte {
		return []byte(strings.ReplaceAll(fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\nDate: Mon, 07 Dec 2026 08:00:00 +0000\n\nHello.\n",
			from, to, subject, id), "\n", "\r\n"))
	}
	require.NoError(t, pf.Send("hr@payro11.example", []string{users[0]}, eml("hr@payro11.example", users[0], "Your payslip", "payslip@payro11.example")))
	require.NoError(t, pf.Send("carol@partner.example", []string{users[0], users[1]}, eml("carol@partner.example", users[0]+", "+users[1], "Lunch", "lunch@partner.example")))

	mail, err := imapstore.New(imapstore.Config{Addr: dove.Addr, Security: imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: dove.MasterUser, Password: imapstore.Password(dove.MasterPassword)},
		Mailboxes: users, Logger: testlog.Logger(t, slog.LevelWarn)})
	require.NoError(t, err)
	defer mail.Close()
	// folders returns the folders holding the message id in user's mailbox.
	folders := func(user, id string) []string {
		var out []string
		for m, err := range mail.Search(ctx, user, mailbox.Criteria{MessageIDs: []string{id}}) {
			require.NoError(t, err)
			out = append(out, m.Address.Folder)
		}
		return out
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not so after 60s\npostfix:\n%s\nserve:\n%s", what, pf.Log(), s.logs.String())
			}
			_ = pf.Flush(ctx)
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("the lure is quarantined", func() bool {
		return slices.Equal(folders(users[0], "payslip@payro11.example"), []string{dovecot.QuarantineFolder})
	})
	waitFor("the benign mail is in the inboxes", func() bool {
		return slices.Equal(folders(users[0], "lunch@partner.example"), []string{"INBOX"}) &&
			slices.Equal(folders(users[1], "lunch@partner.example"), []string{"INBOX"})
	})

	// The CLI says what holds the lure and releases it.
	out, err := cli(t, s.url, ids["reader"].token, "held", "-json")
	require.NoError(t, err)
	var held api.HeldList
	require.NoError(t, json.Unmarshal([]byte(out), &held))
	require.Len(t, held.Value, 1, out)
	assert.Equal(t, "payslip@payro11.example", held.Value[0].MessageID)
	require.Len(t, held.Value[0].Reasons, 1, out)
	assert.Equal(t, "payroll lure", held.Value[0].Reasons[0].RuleName)

	rel := cliRecord(t, s.url, ids["analyst"].token, "release", "-message-id", "payslip@payro11.example", "-json")
	assert.Equal(t, remediation.Release, rel.Action)
	assert.Equal(t, remediation.StatusCompleted, rel.Status)
	assert.EqualValues(t, 1, rel.Counts.Succeeded)
	assert.Equal(t, []string{"INBOX"}, folders(users[0], "payslip@payro11.example"), "released to the inbox")
	assert.Empty(t, folders(users[1], "payslip@payro11.example"), "nothing for a user the lure was not sent to")
	out, err = cli(t, s.url, ids["reader"].token, "held", "-json")
	require.NoError(t, err)
	held = api.HeldList{}
	require.NoError(t, json.Unmarshal([]byte(out), &held))
	assert.Empty(t, held.Value, out)
}
