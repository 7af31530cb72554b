package rules_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// Detection rules kept beside the events index: every change is saved,
// and the set a restarted process opens has the rules, enabled or not as
// they were.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "rules-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "index.db")
	tenant := mock.New(nil)
	_ = tenant.AddUser("alice@corp.example")
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)

	store, _ := sqlstore.OpenSQLite(ctx, path, nil)
	set, _ := rules.Open(ctx, e, &rules.Options{Store: store})
	_ = set.Add(rules.Rule{Name: "Invoice portal", Criteria: mailbox.Criteria{SenderDomains: []string{"invoices-portal.example"}},
		Action: remediation.SoftDelete, Mode: rules.ModeExecute})
	_ = set.Add(rules.Rule{Name: "Payroll link", Criteria: mailbox.Criteria{URLs: []string{"http://payroll.evil.example/login"}},
		Action: remediation.MoveToJunk, Mode: rules.ModePropose})
	_ = set.Enable("Payroll link", false)
	_ = set.Close(ctx)
	_ = store.Close()

	// A new process.
	store, _ = sqlstore.OpenSQLite(ctx, path, nil)
	defer store.Close()
	set, err := rules.Open(ctx, e, &rules.Options{Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Close(ctx)
	for _, r := range set.Rules() {
		fmt.Println(r.Name, r.Action, r.Mode, "disabled:", r.Disabled)
	}
	// Output:
	// Invoice portal soft_delete execute disabled: false
	// Payroll link move_to_junk propose disabled: true
}
