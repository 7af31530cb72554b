package main

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the quickstart and checks what it reports.
func TestQuickstart(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stdout := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	runErr := run()
	os.Stdout = stdout
	require.NoError(t, w.Close())
	text := <-out
	require.NoError(t, runErr)
	for _, want := range []string{
		"dry run: 3 copies in 3 mailboxes",
		"approval by the proposer refused: four eyes",
		"crawled 4 mailboxes: 13 copies indexed",
		"hunt by URL https://evil-payroll.example/verify:\n" +
			"    alice@corp.example   INBOX  \"Payroll update - action required\"\n" +
			"    bob@corp.example     INBOX  \"Payroll update - action required\"\n" +
			"    carol@corp.example   INBOX  \"Payroll update - action required\"\n" +
			"  hunt by file ",
		"    08:00  shop.example           4\n    09:00  evil-payroll.example   3\n    08:00  supplier.example       2\n",
		"completed: 3 purged",
		"file: invite.ics application/ics",
		"copy: bob@corp.example     delivered to INBOX, now purged",
		"action hard_delete on carol@corp.example's copy by analyst@corp.example (decided by soc-lead@corp.example): succeeded",
		`removed  alice@corp.example   "Payroll update - action required"`,
		`kept     carol@corp.example   "Payroll update - action required": imported by the user`,
		"release to bob refused:",
		"second release to dave refused: remediation: already released to this recipient",
		"released inv-7731@supplier.example to dave@corp.example by soc-lead@corp.example",
		"soft delete: completed, 4 copies to recoverable items",
		"undo: completed, 4 copies back where they were",
		"undo of the hard delete refused:",
		`removed  carol@corp.example   "Q1 kick-off"`,
		`restored dave@corp.example    "Q1 kick-off"`,
		"alice@corp.example: delivered to Quarantine",
		"bob@corp.example: delivered to Quarantine",
		`held: "Quick favour: gift cards" for alice@corp.example, bob@corp.example, by rule "Gift-card lure"`,
		"release to alice: completed, 1 copy to the inbox",
		"alice@corp.example: now in INBOX",
		"bob@corp.example: now in Quarantine",
		"== Action center",
		"engine.Get(", // by the short id of the table
		"hard_delete completed, decided by soc-lead@corp.example",
	} {
		assert.Contains(t, text, want)
	}
	// The action-center table: a header and one line per action.
	table := text[strings.Index(text, "== Action center"):strings.Index(text, "  engine.Get(")]
	assert.Equal(t, 9, strings.Count(table, "\n")-1, table)
}
