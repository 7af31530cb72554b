package imapstore_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// Example quarantines a phishing message and releases it again. An
// in-process IMAP server stands in for Dovecot.
func Example() {
	addr, stop := exampleServer()
	defer stop()

	store, err := imapstore.New(imapstore.Config{
		Addr:     addr,
		Security: imapstore.SecurityInsecure, // loopback only
		Credentials: imapstore.StaticCredentials{
			"alice@example.com": {Username: "alice@example.com", Password: "alice-pw"},
		},
		Mailboxes: []string{"alice@example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	raw := []byte("From: IT Desk <it@phish.example>\r\nTo: alice@example.com\r\n" +
		"Subject: Your password expires\r\nMessage-ID: <p1@phish.example>\r\n\r\nClick here.\r\n")
	if _, err := store.Append(ctx, "alice@example.com", mailbox.In(mailbox.RoleInbox), raw, nil); err != nil {
		log.Fatal(err)
	}

	var held []mailbox.Address
	for m, err := range store.Search(ctx, "alice@example.com", mailbox.Criteria{SenderDomains: []string{"phish.example"}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("found %q in %s from %s\n", m.Subject, m.Address.Folder, m.From)
		held = append(held, m.Address)
	}
	moved, err := store.Move(ctx, held, mailbox.In(mailbox.RoleQuarantine))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("quarantined in", moved[0].To.Folder)

	released, err := store.Move(ctx, []mailbox.Address{moved[0].To}, mailbox.In(mailbox.RoleInbox))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("released to", released[0].To.Folder)
	// Output:
	// found "Your password expires" in INBOX from it@phish.example
	// quarantined in Quarantine
	// released to INBOX
}

// exampleServer starts go-imap's in-memory server on a loopback port.
func exampleServer() (addr string, stop func()) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("alice@example.com", "alice-pw")
	for _, f := range []string{"INBOX", "Junk", "Trash", "Sent", "Quarantine"} {
		if err := u.Create(f, nil); err != nil {
			log.Fatal(err)
		}
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close() }
}
