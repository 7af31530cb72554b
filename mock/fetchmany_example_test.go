package mock_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// A crawler reads many copies of a mailbox with one call when the store
// offers mailbox.BatchFetcher, and falls back to Fetch otherwise.
func ExampleTenant_FetchMany() {
	ctx := context.Background()
	tenant := mock.New(nil)
	if err := tenant.AddUser("alice@example.com"); err != nil {
		fmt.Println(err)
		return
	}
	var addrs []mailbox.Address
	for i := range 3 {
		raw := fmt.Appendf(nil, "From: news@example.org\r\nTo: alice@example.com\r\nSubject: Issue %d\r\n"+
			"Message-ID: <issue-%d@example.org>\r\n\r\nHello.\r\n", i, i)
		a, err := tenant.Append(ctx, "alice@example.com", mailbox.In(mailbox.RoleInbox), raw, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		addrs = append(addrs, a)
	}
	gone := addrs[2]
	gone.UID += 100 // no such copy
	addrs = append(addrs, gone)

	var store mailbox.Store = tenant
	bf, ok := store.(mailbox.BatchFetcher)
	if !ok {
		fmt.Println("no batched reads: Fetch each copy")
		return
	}
	err := bf.FetchMany(ctx, addrs, func(a mailbox.Address, raw []byte, err error) error {
		switch {
		case errors.Is(err, mailbox.ErrNotFound):
			fmt.Printf("UID %d: gone\n", a.UID)
		case err != nil:
			return err
		default:
			p, _ := mailbox.ParseHeader(raw) // raw is valid during the call only
			fmt.Printf("UID %d: %s\n", a.UID, p.Subject)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// UID 1: Issue 0
	// UID 2: Issue 1
	// UID 3: Issue 2
	// UID 103: gone
}
