package remediation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// exampleTenant returns a tenant where a phishing message reached two
// users.
func exampleTenant() *mock.Tenant {
	ctx := context.Background()
	t := mock.New(nil)
	for _, u := range []string{"alice@corp.example", "bob@corp.example"} {
		_ = t.AddUser(u)
	}
	raw := []byte("Message-ID: <phish-1@evil.example>\r\nFrom: it-support@evil.example\r\n" +
		"To: alice@corp.example, bob@corp.example\r\nSubject: Password expires today\r\n" +
		"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nReset it at http://evil.example/reset\r\n")
	_, _ = t.Deliver(ctx, raw, nil)
	return t
}

func ExampleEngine_Execute() {
	ctx := context.Background()
	tenant := exampleTenant()
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)

	rec, err := e.Execute(ctx, remediation.Request{
		Action:    remediation.SoftDelete,
		Name:      "Password phish",
		Actor:     "analyst@corp.example",
		Source:    remediation.SourceExplorer,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Status, rec.Counts.Succeeded)
	// Mailboxes are worked on in parallel: sort the outcomes to print them.
	var lines []string
	for o := range e.Outcomes(ctx, rec.ID) {
		lines = append(lines, fmt.Sprintln(o.Copy.Mailbox, o.Copy.Folder, "->", o.To.Folder, o.Kind))
	}
	slices.Sort(lines)
	fmt.Print(strings.Join(lines, ""))
	// Output:
	// completed 2
	// alice@corp.example INBOX -> Recoverable Items succeeded
	// bob@corp.example INBOX -> Recoverable Items succeeded
}

func ExampleEngine_DryRun() {
	ctx := context.Background()
	tenant := exampleTenant()
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)

	p, err := e.DryRun(ctx, remediation.Selection{Criteria: &mailbox.Criteria{Subject: "password expires"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Total, "copies in", p.Mailboxes, "mailboxes")
	fmt.Println(p.Folders["alice@corp.example"])

	_, err = e.DryRun(ctx, remediation.Selection{Criteria: &mailbox.Criteria{Folders: []string{"INBOX"}}})
	fmt.Println(err)
	// Output:
	// 2 copies in 2 mailboxes
	// map[INBOX:1]
	// remediation: selection refused: mailbox: criteria would match every message: add a message id, sender, recipient, subject, URL or attachment hash
}

func ExampleEngine_Propose() {
	ctx := context.Background()
	tenant := exampleTenant()
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)

	p, _ := e.Propose(ctx, remediation.Request{
		Action:    remediation.HardDelete,
		Actor:     "analyst@corp.example",
		Source:    remediation.SourceHunting,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"phish-1@evil.example"}}},
	})
	fmt.Println(p.Status, "until", p.Expires.Sub(p.Created))

	rec, err := e.Approve(ctx, p.ID, "lead@corp.example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Status, "decided by", rec.DecidedBy, "purged", rec.Counts.Succeeded)
	// Output:
	// pending_approval until 168h0m0s
	// completed decided by lead@corp.example purged 2
}

func ExampleEngine_Undo() {
	ctx := context.Background()
	tenant := exampleTenant()
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)

	rec, _ := e.Execute(ctx, remediation.Request{
		Action:    remediation.MoveToJunk,
		Actor:     "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"phish-1@evil.example"}}},
	})
	undo, err := e.Undo(ctx, rec.ID, "analyst@corp.example")
	if err != nil {
		fmt.Println(err)
		return
	}
	var lines []string
	for o := range e.Outcomes(ctx, undo.ID) {
		lines = append(lines, fmt.Sprintln(o.Copy.Mailbox, o.Copy.Folder, "->", o.To.Folder, o.Kind))
	}
	slices.Sort(lines)
	fmt.Print(strings.Join(lines, ""))

	_, err = e.Undo(ctx, undo.ID, "analyst@corp.example")
	fmt.Println(errors.Is(err, remediation.ErrUndoUndo))
	// Output:
	// alice@corp.example Junk -> INBOX succeeded
	// bob@corp.example Junk -> INBOX succeeded
	// true
}

func ExampleEngine_Start() {
	ctx := context.Background()
	tenant := exampleTenant()
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	defer e.Close(ctx) // waits for the actions Start began

	rec, err := e.Start(ctx, remediation.Request{
		Action:    remediation.SoftDelete,
		Name:      "Password phish",
		Actor:     "soar@corp.example",
		Source:    remediation.SourceAPI,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The record is journaled before anything moves: its id can be
	// handed out (a Location to poll) while the action runs.
	fmt.Println(rec.Status)
	rec, err = e.Wait(ctx, rec.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Status, rec.Counts.Succeeded)

	// A request Execute would refuse, Start refuses before recording it.
	_, err = e.Start(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soar@corp.example"})
	fmt.Println(errors.Is(err, remediation.ErrEmptySelection))
	// Output:
	// running
	// completed 2
	// true
}
