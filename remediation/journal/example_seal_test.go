package journal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A keyed file journal: its head, exported as a line after each action,
// shows up entries cut off the end later, which the chain alone cannot.
func ExampleFileOptions_key() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "journal-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "journal")
	key, err := journal.WriteKeyFile(filepath.Join(dir, "journal.key"))
	if err != nil {
		fmt.Println(err)
		return
	}

	j, err := journal.OpenFile(path, &journal.FileOptions{Key: key})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := func(id string) remediation.Entry {
		return remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{ID: id}}
	}
	_ = j.Append(ctx, rec("first"))
	st, _ := os.Stat(path)
	cut := st.Size() // the end of the first write
	_ = j.Append(ctx, rec("second"))
	head, _ := j.Head()
	line := head.String() // to syslog, a remote log...
	_ = j.Close()

	// Later: the journal lost its last write.
	_ = os.Truncate(path, cut)
	h, err := journal.VerifyFile(ctx, path, key)
	fmt.Println("entries:", h.Entries, err)
	exported, _ := journal.ParseHead(line)
	_, err = journal.VerifyFile(ctx, path, key, exported)
	fmt.Println("against the exported head:", errors.Is(err, journal.ErrTampered))
	// Output:
	// entries: 1 <nil>
	// against the exported head: true
}
