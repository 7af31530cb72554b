package journal_test

import (
	"fmt"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// Entries of one campaign encoded as one run share their strings: the
// second mailbox's outcomes name the same message ids and folders, which
// the run writes once.
func ExampleEncoder() {
	outcomes := func(user string) remediation.Entry {
		ob := &remediation.OutcomeBatch{RecordID: "20261207T090000-1a2b3c4d", Mailbox: user, Done: true}
		for i := range 20 {
			ob.Items = append(ob.Items, remediation.Outcome{
				Copy:      mailbox.Address{Mailbox: user, Folder: "INBOX", UIDValidity: 7, UID: uint32(100 + i)},
				To:        mailbox.Address{Mailbox: user, Folder: "Deleted Items", UIDValidity: 9, UID: uint32(500 + i)},
				MessageID: fmt.Sprintf("campaign-%02d@evil.example", i),
				Kind:      remediation.Succeeded,
			})
		}
		return remediation.Entry{Kind: remediation.EntryOutcomes, Outcomes: ob}
	}
	entries := []remediation.Entry{outcomes("alice@corp.example"), outcomes("bob@corp.example")}

	alone := 0
	for _, e := range entries {
		b, _ := journal.MarshalEntry(nil, e)
		alone += len(b)
	}
	enc := journal.NewEncoder()
	var run [][]byte
	shared := 0
	for _, e := range entries {
		b, _ := enc.Marshal(nil, e)
		run = append(run, b)
		shared += len(b)
	}
	fmt.Println("run shorter:", shared < alone*3/4)

	dec := journal.NewDecoder()
	for _, b := range run {
		e, err := dec.Unmarshal(b)
		if err != nil {
			fmt.Println(err)
			return
		}
		o := e.Outcomes.Items[19]
		fmt.Println(e.Outcomes.Mailbox, o.Copy.UID, o.MessageID, "->", o.To.Folder)
	}
	// Output:
	// run shorter: true
	// alice@corp.example 119 campaign-19@evil.example -> Deleted Items
	// bob@corp.example 119 campaign-19@evil.example -> Deleted Items
}
