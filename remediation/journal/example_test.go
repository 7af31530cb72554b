package journal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// The file journal is the action center across restarts: an engine
// started over the same file finds the actions of the one before, and
// while one journal has the file, a second open is refused.
func ExampleOpenFile() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "journal-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "journal")

	tenant := mock.New(nil)
	_ = tenant.AddUser("alice@corp.example")
	_, _ = tenant.Deliver(ctx, []byte("Message-ID: <phish@evil.example>\r\nFrom: it@evil.example\r\n"+
		"To: alice@corp.example\r\nSubject: Reset your password\r\n\r\nhttp://evil.example/reset\r\n"), nil)

	j, err := journal.OpenFile(path, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = journal.OpenFile(path, nil)
	fmt.Println("second open refused:", errors.Is(err, journal.ErrLocked))

	e, _ := remediation.New(tenant, nil, j, nil)
	rec, err := e.Execute(ctx, remediation.Request{
		Action: remediation.SoftDelete, Actor: "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"phish@evil.example"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = j.Close()

	// A restart: a new journal over the same file, a new engine.
	j, err = journal.OpenFile(path, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()
	fmt.Println("torn bytes cut off:", j.TornBytes())
	e, _ = remediation.New(tenant, nil, j, nil)
	again, err := e.Get(ctx, rec.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(again.Action, again.Status, again.Counts.Succeeded)
	// Output:
	// second open refused: true
	// torn bytes cut off: 0
	// soft_delete completed 1
}

// The memory journal holds the action center for the life of the
// process, in the same encoding as the file journal.
func ExampleNewMemory() {
	ctx := context.Background()
	tenant := mock.New(nil)
	_ = tenant.AddUser("bob@corp.example")
	_, _ = tenant.Deliver(ctx, []byte("Message-ID: <spam@evil.example>\r\nFrom: deals@evil.example\r\n"+
		"To: bob@corp.example\r\nSubject: Deals\r\n\r\nhttp://evil.example/deals\r\n"), nil)

	j := journal.NewMemory()
	e, _ := remediation.New(tenant, nil, j, nil)
	rec, _ := e.Execute(ctx, remediation.Request{
		Action: remediation.MoveToJunk, Actor: "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"spam@evil.example"}}},
	})
	kinds := map[remediation.EntryKind]int{}
	for ent, err := range j.Replay(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		kinds[ent.Kind]++
	}
	fmt.Println(rec.Status, "| intents:", kinds[remediation.EntryIntent], "| outcome batches:", kinds[remediation.EntryOutcomes] > 0)
	// Output:
	// completed | intents: 1 | outcome batches: true
}
