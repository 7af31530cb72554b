package hunt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// A crawler indexes a tenant's mailboxes; hunts, Explorer counts and the
// entity view then answer from the index.
func Example() {
	ctx := context.Background()
	tenant := mock.New(nil)
	for _, u := range []string{"alice@corp.example", "bob@corp.example"} {
		if err := tenant.AddUser(u); err != nil {
			panic(err)
		}
	}
	deliver := func(id, from, to, link string) {
		raw := "Message-ID: <" + id + ">\r\nFrom: " + from + "\r\nTo: " + to + "\r\nSubject: Payroll\r\n" +
			"Date: Mon, 2 Nov 2026 09:00:00 +0000\r\n\r\nSee " + link + "\r\n"
		if _, err := tenant.Deliver(ctx, []byte(raw), nil); err != nil {
			panic(err)
		}
	}
	deliver("p1@evil.example", "hr@evil.example", "alice@corp.example, bob@corp.example", "https://evil.example/login")
	deliver("n1@good.example", "news@good.example", "alice@corp.example", "https://good.example/news")

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

	// One worker, so that copies are indexed (and listed) in mailbox order.
	stats, err := hunt.NewCrawler(tenant, index, &hunt.CrawlerOptions{Workers: 1}).Crawl(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("indexed", stats.Fetched, "copies")

	// A hunt by URL, written as a Safe Links link would carry it.
	c := mailbox.Criteria{URLs: []string{"https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2Flogin"}}
	var id string
	for cp, err := range index.Copies(ctx, hunt.Query{Criteria: &c}) {
		if err != nil {
			panic(err)
		}
		fmt.Println("copy in", cp.Mailbox, cp.Address.Folder)
		id = cp.Message.NetworkID
	}

	// Explorer: copies per URL domain.
	for n, err := range index.Counts(ctx, hunt.CountQuery{By: hunt.ByURLDomain, Top: 5}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(n.Key, n.Copies)
	}

	// The entity view, after an action moved one copy to Junk.
	bob := mailbox.Criteria{MessageIDs: []string{"p1@evil.example"}}
	var found []mailbox.Message
	for m, err := range tenant.Search(ctx, "bob@corp.example", bob) {
		if err != nil {
			panic(err)
		}
		found = append(found, m)
	}
	for _, m := range found {
		moved, err := tenant.Move(ctx, []mailbox.Address{m.Address}, mailbox.In(mailbox.RoleJunk))
		if err != nil {
			panic(err)
		}
		at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
		if err := index.Annotate(ctx, []hunt.Annotation{{Kind: hunt.AnnotateAction, Address: m.Address, Name: "move to junk", Record: "rec-1", Outcome: "succeeded", Actor: "soc@corp.example", At: at}}); err != nil {
			panic(err)
		}
		if err := index.Relocate(ctx, []hunt.Relocation{{From: m.Address, To: moved[0].To, Role: mailbox.RoleJunk, At: at}}); err != nil {
			panic(err)
		}
	}
	ent, err := index.Entity(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(ent.Message.Subject, "from", ent.Message.From, ent.Message.URLs)
	for _, cp := range ent.Copies {
		fmt.Printf("  %s: delivered to %s, now in %s\n", cp.Mailbox, cp.DeliveredFolder, cp.Address.Folder)
	}
	for _, a := range ent.Annotations {
		fmt.Printf("  %s by %s on %s: %s\n", a.Name, a.Actor, a.Address.Mailbox, a.Outcome)
	}
	// Output:
	// indexed 3 copies
	// copy in alice@corp.example INBOX
	// copy in bob@corp.example INBOX
	// evil.example 2
	// good.example 1
	// Payroll from hr@evil.example [https://evil.example/login]
	//   alice@corp.example: delivered to INBOX, now in INBOX
	//   bob@corp.example: delivered to INBOX, now in Junk
	//   move to junk by soc@corp.example on bob@corp.example: succeeded
}
