package hunt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// The engine feeds the index with every action it runs: with
// RecordActions as its AfterAction, the index follows where the copies
// went and files the detection of a rule's action, without the embedder
// recording anything.
func ExampleRecordActions() {
	ctx := context.Background()
	tenant := mock.New(nil)
	for _, u := range []string{"alice@corp.example", "bob@corp.example"} {
		if err := tenant.AddUser(u); err != nil {
			panic(err)
		}
	}
	raw := "Message-ID: <p1@evil.example>\r\nFrom: hr@evil.example\r\nTo: alice@corp.example, bob@corp.example\r\n" +
		"Subject: Payroll\r\nDate: Mon, 2 Nov 2026 09:00:00 +0000\r\n\r\nSee https://evil.example/login\r\n"
	if _, err := tenant.Deliver(ctx, []byte(raw), nil); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "hunt-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	index, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "index.db"), nil)
	if err != nil {
		panic(err)
	}
	defer index.Close()
	// One worker each, so that copies and outcomes come in mailbox order.
	if _, err := hunt.NewCrawler(tenant, index, &hunt.CrawlerOptions{Workers: 1}).Crawl(ctx); err != nil {
		panic(err)
	}

	e, err := remediation.New(tenant, tenant, journal.NewMemory(), &remediation.Options{Workers: 1, AfterAction: hunt.RecordActions(index, 0)})
	if err != nil {
		panic(err)
	}
	c := mailbox.Criteria{URLs: []string{"https://evil.example/login"}}
	if _, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Source: remediation.SourceDetectionRule,
		RuleName: "Payroll lure", Actor: "rules", Selection: remediation.Selection{Criteria: &c}}); err != nil {
		panic(err)
	}
	var id string
	for cp, err := range index.Copies(ctx, hunt.Query{Criteria: &c}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(cp.Mailbox, "now in", cp.Address.Folder)
		id = cp.Message.NetworkID
	}
	ent, err := index.Entity(ctx, id)
	if err != nil {
		panic(err)
	}
	for _, a := range ent.Annotations {
		if a.Kind == hunt.AnnotateAction {
			fmt.Println(a.Kind, a.Name, a.Outcome, "in", a.Address.Mailbox)
		} else {
			fmt.Println(a.Kind, a.Name, "by", a.Actor)
		}
	}
	// Output:
	// alice@corp.example now in Junk
	// bob@corp.example now in Junk
	// action move_to_junk succeeded in alice@corp.example
	// detection Payroll lure by rules
	// action move_to_junk succeeded in bob@corp.example
}
