package remediation_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// openIMAP shows the IMAP store that takes the mock tenant's place against
// a real server (Dovecot with a master user); the README's "Using it"
// section quotes it.
func openIMAP(password string) (*imapstore.Store, error) {
	return imapstore.New(imapstore.Config{
		Addr:   "imap.example.com:993",
		Master: &imapstore.MasterUser{User: "eradicate-admin", Password: imapstore.Password(password)},
	})
}

// Example_usage is the core API as the README shows it: a store, an engine
// with a file journal, a hard delete by message id, and its outcomes.
func Example_usage() {
	dir, err := os.MkdirTemp("", "eradicate-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := usage(exampleTenant(), filepath.Join(dir, "journal")); err != nil {
		fmt.Println(err)
	}
	// Output:
	// completed 2 purged
	// alice@corp.example INBOX succeeded
	// bob@corp.example INBOX succeeded
}

// usage is the code of the README's "Using it" section.
func usage(store mailbox.Store, journalPath string) error {
	ctx := context.Background()
	j, err := journal.OpenFile(journalPath, nil)
	if err != nil {
		return err
	}
	defer j.Close()
	engine, err := remediation.New(store, nil, j, nil)
	if err != nil {
		return err
	}
	rec, err := engine.Execute(ctx, remediation.Request{
		Action: remediation.HardDelete, Name: "Password phish", Actor: "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"<phish-1@evil.example>"}}},
	})
	if err != nil {
		return err
	}
	fmt.Println(rec.Status, rec.Counts.Succeeded, "purged")
	var lines []string
	for o, err := range engine.Outcomes(ctx, rec.ID) {
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintln(o.Copy.Mailbox, o.Copy.Folder, o.Kind))
	}
	slices.Sort(lines) // mailboxes are worked on in parallel
	for _, l := range lines {
		fmt.Print(l)
	}
	return nil
}
