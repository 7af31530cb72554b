package journaltest_test

import (
	"context"
	"fmt"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journaltest"
)

// Entries are what the round-trip cases append; a journal's own tests can
// use them too. Here they go through a journal.Memory and come back.
// (Run itself needs the *testing.T of a test: see the package
// documentation for a harness.)
func ExampleEntries() {
	ctx := context.Background()
	j := journal.NewMemory()
	defer j.Close()
	if err := j.Append(ctx, journaltest.Entries()...); err != nil {
		fmt.Println(err)
		return
	}
	for e, err := range j.Replay(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		switch e.Kind {
		case remediation.EntryRecord:
			fmt.Printf("record   %s %s %s\n", e.Record.ID, e.Record.Action, e.Record.Status)
		case remediation.EntryIntent:
			fmt.Printf("intent   %s seq %d: %d copies of %s\n", e.Intent.RecordID, e.Intent.Seq, len(e.Intent.Copies), e.Intent.Mailbox)
		case remediation.EntryCalendar:
			c := e.Calendar
			fmt.Printf("calendar %s seq %d: %d to do, %d decided, %d removed\n", c.RecordID, c.Seq, len(c.Plan), len(c.Decisions), len(c.Removed))
		case remediation.EntryOutcomes:
			o := e.Outcomes
			fmt.Printf("outcomes %s seq %d: %d outcomes, done %t\n", o.RecordID, o.Seq, len(o.Items), o.Done)
		}
	}
	// Output:
	// record   20261123T090000-1a2b3c4d hard_delete running
	// intent   20261123T090000-1a2b3c4d seq 1: 5 copies of alice@corp.example
	// calendar 20261123T090000-1a2b3c4d seq 1: 2 to do, 0 decided, 0 removed
	// calendar 20261123T090000-1a2b3c4d seq 1: 1 to do, 0 decided, 1 removed
	// outcomes 20261123T090000-1a2b3c4d seq 1: 7 outcomes, done false
	// calendar 20261123T090000-1a2b3c4d seq 1: 0 to do, 2 decided, 0 removed
	// outcomes 20261123T090000-1a2b3c4d seq 0: 0 outcomes, done true
	// record   20261123T090000-1a2b3c4d hard_delete partially_completed
	// record   20261123T091500-5e6f7a8b release pending_approval
}
