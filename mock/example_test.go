package mock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

func ExampleTenant() {
	ctx := context.Background()
	tenant := mock.New(nil)
	for _, u := range []string{"alice@example.com", "bob@example.com"} {
		if err := tenant.AddUser(u); err != nil {
			fmt.Println(err)
			return
		}
	}

	raw := []byte("From: IT Support <support@phish.example>\r\n" +
		"To: alice@example.com, bob@example.com\r\n" +
		"Subject: Your password expires today\r\n" +
		"Date: Mon, 04 Mar 2024 09:00:00 +0000\r\n" +
		"Message-ID: <pw-123@phish.example>\r\n" +
		"\r\n" +
		"Renew it at https://phish.example/renew\r\n")
	copies, err := tenant.Deliver(ctx, raw, &mock.DeliverOptions{
		EnvelopeFrom: "bounce@phish.example",
		Date:         time.Date(2024, 3, 4, 9, 0, 5, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("delivered", len(copies), "copies")

	owners, _ := tenant.Mailboxes(ctx)
	for _, owner := range owners {
		for m, err := range tenant.Search(ctx, owner, mailbox.Criteria{SenderDomains: []string{"phish.example"}}) {
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("%s: %q in %s from %s (P1 %s)\n", owner, m.Subject, m.Address.Folder, m.From, m.EnvelopeFrom)
		}
	}
	// Output:
	// delivered 2 copies
	// alice@example.com: "Your password expires today" in INBOX from support@phish.example (P1 bounce@phish.example)
	// bob@example.com: "Your password expires today" in INBOX from support@phish.example (P1 bounce@phish.example)
}
