package journal

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/remediation"
)

func memEntries(t *testing.T, j *Memory) []remediation.Entry {
	t.Helper()
	var out []remediation.Entry
	for e, err := range j.Replay(context.Background()) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

// A memory journal's failed Append leaves nothing of the call, and the
// journal refuses further appends (as a file journal does) rather than
// write references to strings it never wrote.
func TestMemoryJournalFailedAppend(t *testing.T) {
	ctx := context.Background()
	j := NewMemory()
	good := remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{RecordID: "a", Seq: 1, Mailbox: "bob"}}
	bad := remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{ID: "a", Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	require.Error(t, j.Append(ctx, good, bad))
	assert.Empty(t, memEntries(t, j), "nothing of the failed call")
	assert.Error(t, j.Append(ctx, good), "refused after a failed append")

	j = NewMemory()
	huge := strings.Repeat("m", maxFrame+1)
	require.Error(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{RecordID: "act-1", Seq: 1, Mailbox: huge}}))
	assert.Error(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{RecordID: "act-1", Seq: 2, Mailbox: "bob"}}))
	assert.Empty(t, memEntries(t, j))
}

// Removed calendar entries come back byte for byte, invalid UTF-8
// included: the undo restores them as they were.
func TestRemovedEntryRawIsByteExact(t *testing.T) {
	ctx := context.Background()
	j := NewMemory()
	raw := []byte("BEGIN:VCALENDAR\r\nSUMMARY:caf\xe9\r\nEND:VCALENDAR\r\n")
	step := &remediation.CalendarStep{RecordID: "a", Seq: 1, Removed: []remediation.RemovedEntry{{Owner: "o", Calendar: "c", UID: "u", Raw: raw}}}
	require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryCalendar, Calendar: step}))
	got := memEntries(t, j)
	require.Len(t, got, 1)
	assert.Equal(t, raw, got[0].Calendar.Removed[0].Raw)
}
