package mailbox_test

import (
	"runtime"
	"testing"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// allocatedBy returns the bytes f allocates on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A message of about 1 MB carrying 16 attachment bombs (Office documents
// whose XML inflates to 16 MiB each, PDF files whose object streams do,
// plain or encrypted with the empty password, or AES-256 PDFs with
// sixteen password candidates to try) costs at most what one budget per
// message allows: the limits are not per file.
func TestParseAttachmentBombsShareOneMessageBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 16 MiB bombs")
	}
	const maxAlloc = 64 << 20
	for name, raw := range bombMessages(t) {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocatedBy(func() { _, err = mailbox.Parse(raw) })
			if err != nil {
				t.Errorf("Parse: %v", err)
			}
			if n > maxAlloc {
				t.Errorf("parsing %d bytes allocated %d MB; the budget allows %d MB", len(raw), n>>20, maxAlloc>>20)
			}
		})
	}
}
