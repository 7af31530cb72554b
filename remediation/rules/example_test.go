package rules_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// A detection rule that soft-deletes, on delivery, every copy of mail from
// a sender domain, and another that proposes moving mail with a
// malicious link to junk for an analyst to approve.
func ExampleSet_OnDeliver() {
	ctx := context.Background()
	tenant := mock.New(nil)
	for _, u := range []string{"alice@corp.example", "bob@corp.example"} {
		_ = tenant.AddUser(u)
	}
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	set := rules.New(e, &rules.Options{FolderRole: tenant.FolderRole})
	defer func() { _ = set.Close(ctx) }()
	tenant.OnDeliver(set.OnDeliver)

	_ = set.Add(rules.Rule{
		Name:     "Invoice portal",
		Criteria: mailbox.Criteria{SenderDomains: []string{"invoices-portal.example"}},
		Action:   remediation.SoftDelete,
		Mode:     rules.ModeExecute,
	})
	err := set.Add(rules.Rule{
		Name:     "Everything in the inbox",
		Criteria: mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleInbox}},
		Action:   remediation.SoftDelete,
		Mode:     rules.ModeExecute,
	})
	fmt.Println("refused:", strings.Contains(err.Error(), "match every message"))
	_ = set.Add(rules.Rule{
		Name:     "Payroll link",
		Criteria: mailbox.Criteria{URLs: []string{"http://payroll.evil.example/login"}},
		Action:   remediation.MoveToJunk,
		Mode:     rules.ModePropose,
	})

	_, _ = tenant.Deliver(ctx, []byte("Message-ID: <inv@invoices-portal.example>\r\nFrom: billing@invoices-portal.example\r\n"+
		"To: alice@corp.example, bob@corp.example\r\nSubject: Invoice overdue\r\n\r\nYour invoice is attached.\r\n"), nil)
	_, _ = tenant.Deliver(ctx, []byte("Message-ID: <pay@evil.example>\r\nFrom: hr@evil.example\r\nTo: bob@corp.example\r\n"+
		"Subject: Payroll\r\n\r\nUpdate your details at http://payroll.evil.example/login\r\n"), nil)

	var lines []string
	for r := range e.Query(ctx, remediation.Filter{Sources: []remediation.Source{remediation.SourceDetectionRule}}) {
		lines = append(lines, fmt.Sprintln(r.RuleName, "|", r.Action, "|", r.Status, "|", r.Selection.Copies[0].Mailbox))
	}
	slices.Sort(lines)
	fmt.Print(strings.Join(lines, ""))
	// Output:
	// refused: true
	// Invoice portal | soft_delete | completed | alice@corp.example
	// Invoice portal | soft_delete | completed | bob@corp.example
	// Payroll link | move_to_junk | pending_approval | bob@corp.example
}
