package automation_test

import (
	"context"
	"fmt"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/automation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// invoiceMail returns a message carrying the same HTML "invoice" file as
// every other message of its campaign.
func invoiceMail(id, to string) []byte {
	return []byte("Message-ID: <" + id + ">\r\nFrom: billing@invoices-portal.example\r\nTo: " + to + "\r\n" +
		"Subject: Invoice overdue\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nYour invoice is attached.\r\n" +
		"--b\r\nContent-Type: text/html; name=\"invoice.html\"\r\nContent-Disposition: attachment; filename=\"invoice.html\"\r\n\r\n" +
		"<html><body><h1>Invoice</h1><script>location='http://pay.invoices-portal.example/'</script></body></html>\r\n" +
		"--b--\r\n")
}

// folderOf returns the folder of owner's copy of the message id.
func folderOf(t *mock.Tenant, owner, id string) string {
	for m := range t.Search(context.Background(), owner, mailbox.Criteria{MessageIDs: []string{id}}) {
		return m.Address.Folder
	}
	return "(none)"
}

// Automated remediation of a "similar files" cluster: the campaign is
// soft-deleted without anyone's approval, recorded as decided by
// automation; a second run within the hour does nothing; an analyst undoes
// it.
func ExampleResponder_Remediate() {
	ctx := context.Background()
	tenant := mock.New(nil)
	users := []string{"alice@corp.example", "bob@corp.example", "carol@corp.example"}
	for i, u := range users {
		_ = tenant.AddUser(u)
		_, _ = tenant.Deliver(ctx, invoiceMail(fmt.Sprintf("inv%d@invoices-portal.example", i), u), nil)
	}

	// Cluster the tenant's mail and take the cluster of the malicious file.
	x := cluster.New(nil)
	if _, err := x.AddStore(ctx, tenant, nil); err != nil {
		fmt.Println(err)
		return
	}
	raw, _ := tenant.Fetch(ctx, mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 1})
	p, _ := mailbox.Parse(raw)
	c, err := x.ClusterOf(cluster.SeedFile(p.Attachments[0].SHA256), cluster.KindFile)
	if err != nil {
		fmt.Println(err)
		return
	}

	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	air, _ := automation.New(e, automation.Options{Kinds: cluster.KindFile})

	rec, decision, err := air.Remediate(ctx, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(decision)
	fmt.Println(rec.Name, "|", rec.Source, "| decided by", rec.DecidedBy, "|", rec.Status, rec.Counts.Succeeded)
	fmt.Println("bob's copy:", folderOf(tenant, "bob@corp.example", "inv1@invoices-portal.example"))

	_, decision, _ = air.Remediate(ctx, c)
	fmt.Println("again:", decision)

	undo, _ := e.Undo(ctx, rec.ID, "analyst@corp.example")
	fmt.Println("undo:", undo.Status, undo.Counts.Succeeded)
	fmt.Println("bob's copy:", folderOf(tenant, "bob@corp.example", "inv1@invoices-portal.example"))
	// Output:
	// executed
	// AIR: soft delete similar files cluster | automation | decided by automation | completed 3
	// bob's copy: Recoverable Items
	// again: skipped: acted on recently
	// undo: completed 3
	// bob's copy: INBOX
}
