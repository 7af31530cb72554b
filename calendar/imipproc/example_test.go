package imipproc_test

import (
	"context"
	"fmt"
	"log"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/calendar/internal/caldavmem"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// A delivery hook hands the processor the address of a delivered copy;
// the invite it carries becomes an entry with invite provenance in the
// recipient's CalDAV calendar.
func Example() {
	ctx := context.Background()
	mail := mock.New(nil)
	if err := mail.AddUser("ann@example.com"); err != nil {
		log.Fatal(err)
	}
	srv, err := caldavmem.New(map[string]string{"ann@example.com": "pw"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cal, err := caldavstore.New(srv.URL, caldavstore.PerUser(map[string]caldavstore.Credential{
		"ann@example.com": {Username: "ann@example.com", Password: "pw"},
	}), &caldavstore.Options{AllowInsecure: true, ProvenanceKey: []byte("load-me-from-your-secret-store")})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := cal.EnsureCalendar(ctx, "ann@example.com", "calendar", "Calendar"); err != nil {
		log.Fatal(err)
	}

	raw := inviteMail("inv-9@evil.example", "hr@evil.example", []string{"ann@example.com"},
		inviteICS("REQUEST", "payroll-9@evil.example", "hr@evil.example", 0, []string{"ann@example.com"}), "REQUEST")
	addr, err := mail.Append(ctx, "ann@example.com", mailbox.In(mailbox.RoleInbox), raw, nil)
	if err != nil {
		log.Fatal(err)
	}

	p := imipproc.New(mail, cal, nil)
	outcomes, err := p.Deliver(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range outcomes {
		fmt.Println(o.Method, o.UID, o.Action)
	}
	entries, err := cal.Find(ctx, "ann@example.com", calendar.Query{MessageID: "inv-9@evil.example"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(entries), entries[0].Provenance.Kind, entries[0].Master.Status)
	// Output:
	// REQUEST payroll-9@evil.example created
	// 1 invite TENTATIVE
}
