package journal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

func sampleEntries() []remediation.Entry {
	crit := &mailbox.Criteria{SenderDomains: []string{"evil.example"}}
	rec := &remediation.Record{
		ID: "r1", Name: "campaign", Source: remediation.SourceHunting, Action: remediation.HardDelete,
		Actor: "ann", DecidedBy: "ben", Status: remediation.StatusRunning,
		Created: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Selection: remediation.Selection{Criteria: crit},
		Counts: remediation.Counts{Succeeded: 3},
	}
	in := &remediation.Intent{RecordID: "r1", Seq: 7, Mailbox: "alice@corp.example", To: mailbox.In(mailbox.RoleRecoverable),
		Copies: []remediation.IntentCopy{
			{Folder: "INBOX", UIDValidity: 11, UID: 900, MessageID: "a@x"},
			{Folder: "INBOX", UIDValidity: 11, UID: 3, MessageID: "b@x"},
			{Folder: "Junk", UIDValidity: 12, UID: 4000000000, MessageID: "a@x", Role: mailbox.RoleJunk},
			{Folder: "Junk", UIDValidity: 12, UID: 4000000001, MessageID: "c@x", Role: mailbox.RoleJunk},
			{Folder: "Junk", UIDValidity: 12, UID: 4000000002, MessageID: "d@x"},
		}}
	ob := &remediation.OutcomeBatch{RecordID: "r1", Seq: 7, Mailbox: "alice@corp.example", Done: true,
		Items: []remediation.Outcome{
			{Copy: mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 11, UID: 900}, To: mailbox.Address{Mailbox: "alice@corp.example", Folder: "Recoverable Items", UIDValidity: 15, UID: 1}, MessageID: "a@x", Kind: remediation.Succeeded},
			{Copy: mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 11, UID: 3}, MessageID: "b@x", Kind: remediation.Failed, Detail: "connection reset"},
			{Copy: mailbox.Address{Mailbox: "alice@corp.example", Folder: "Junk", UIDValidity: 12, UID: 4000000000}, To: mailbox.Address{Mailbox: "alice@corp.example", Folder: "Recoverable Items", UIDValidity: 15, UID: 2}, MessageID: "a@x", Kind: remediation.Succeeded, Retry: true},
			{Copy: mailbox.Address{Mailbox: "alice@corp.example", Folder: "Sent Items", UIDValidity: 13, UID: 5}, Kind: remediation.Skipped, Detail: "sender's copy"},
		}}
	cs := &remediation.CalendarStep{RecordID: "r1", Seq: 7, Plan: []remediation.SeriesRef{{Owner: "alice@corp.example", UID: "u1", Organizer: "evil@x"}},
		Decisions: []remediation.CalendarDecision{{Owner: "alice@corp.example", UID: "u1", Verdict: remediation.VerdictRemoved, Reason: "invite-series"}}}
	return []remediation.Entry{
		{Kind: remediation.EntryRecord, Record: rec},
		{Kind: remediation.EntryIntent, Intent: in},
		{Kind: remediation.EntryOutcomes, Outcomes: ob},
		{Kind: remediation.EntryCalendar, Calendar: cs},
		{Kind: remediation.EntryIntent, Intent: in}, // interned strings reused
	}
}

func replayAll(t *testing.T, j remediation.Journal) []remediation.Entry {
	t.Helper()
	var out []remediation.Entry
	for e, err := range j.Replay(context.Background()) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

func journals(t *testing.T) map[string]func() remediation.Journal {
	return map[string]func() remediation.Journal{
		"memory": func() remediation.Journal { return journal.NewMemory() },
		"file": func() remediation.Journal {
			j, err := journal.OpenFile(filepath.Join(t.TempDir(), "j"), nil)
			require.NoError(t, err)
			return j
		},
	}
}

func TestJournalRoundTrip(t *testing.T) {
	for name, mk := range journals(t) {
		t.Run(name, func(t *testing.T) {
			j := mk()
			want := sampleEntries()
			require.NoError(t, j.Append(context.Background(), want[:2]...))
			require.NoError(t, j.Append(context.Background(), want[2:]...))
			assert.Equal(t, want, replayAll(t, j))
			require.NoError(t, j.Close())
			require.ErrorIs(t, j.Append(context.Background(), want[0]), remediation.ErrClosed)
		})
	}
}

func TestJournalCancelledContext(t *testing.T) {
	for name, mk := range journals(t) {
		t.Run(name, func(t *testing.T) {
			j := mk()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			require.ErrorIs(t, j.Append(ctx, sampleEntries()[0]), context.Canceled)
			assert.Empty(t, replayAll(t, j))
		})
	}
}

func TestJournalConcurrentAppends(t *testing.T) {
	for name, mk := range journals(t) {
		t.Run(name, func(t *testing.T) {
			j := mk()
			const writers, each = 16, 25
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						in := &remediation.Intent{RecordID: fmt.Sprintf("w%d", w), Seq: uint64(i + 1), Mailbox: fmt.Sprintf("m%d@x", i%3),
							Copies: []remediation.IntentCopy{{Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1), MessageID: fmt.Sprintf("id%d", i%5)}}}
						assert.NoError(t, j.Append(context.Background(), remediation.Entry{Kind: remediation.EntryIntent, Intent: in}))
					}
				}()
			}
			wg.Wait()
			next := map[string]uint64{}
			n := 0
			for _, e := range replayAll(t, j) {
				n++
				require.Equal(t, next[e.Intent.RecordID]+1, e.Intent.Seq, "appends of one writer stay in order")
				next[e.Intent.RecordID] = e.Intent.Seq
				assert.Equal(t, uint32(e.Intent.Seq), e.Intent.Copies[0].UID)
			}
			assert.Equal(t, writers*each, n)
		})
	}
}

func TestFileJournalTornTail(t *testing.T) {
	ctx := context.Background()
	want := sampleEntries()
	path := filepath.Join(t.TempDir(), "j")
	j, err := journal.OpenFile(path, nil)
	require.NoError(t, err)
	require.NoError(t, j.Append(ctx, want[:3]...))
	good := j.Size()
	require.NoError(t, j.Append(ctx, want[3]))
	full := j.Size()
	require.NoError(t, j.Close())
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, full, int64(len(raw)))

	tests := []struct {
		name string
		data []byte
	}{
		{"cut in the payload", raw[:full-3]},
		{"cut in the header", raw[:good+5]},
		{"garbage payload", append(append([]byte{}, raw[:full-2]...), 0xff, 0xfe)},
		{"zeros after a crash", append(append([]byte{}, raw[:good]...), make([]byte, 4096)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "j")
			require.NoError(t, os.WriteFile(p, tc.data, 0o600))
			j, err := journal.OpenFile(p, nil)
			require.NoError(t, err)
			assert.Equal(t, want[:3], replayAll(t, j), "the torn entry is ignored")
			assert.Equal(t, int64(len(tc.data))-good, j.TornBytes())
			st, err := os.Stat(p)
			require.NoError(t, err)
			assert.Equal(t, good, st.Size(), "the torn tail is truncated")
			// Appending after the repair works, interned strings included.
			require.NoError(t, j.Append(ctx, want[4]))
			require.NoError(t, j.Close())
			j, err = journal.OpenFile(p, nil)
			require.NoError(t, err)
			assert.Equal(t, append(append([]remediation.Entry{}, want[:3]...), want[4]), replayAll(t, j))
			require.NoError(t, j.Close())
		})
	}

	t.Run("a whole file has no torn bytes", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "j")
		require.NoError(t, os.WriteFile(p, raw, 0o600))
		j, err := journal.OpenFile(p, nil)
		require.NoError(t, err)
		assert.Zero(t, j.TornBytes())
		assert.Equal(t, want[:4], replayAll(t, j))
		require.NoError(t, j.Close())
	})

	t.Run("damage before the end is refused", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "j")
		bad := append([]byte{}, raw...)
		bad[20] ^= 0x55 // inside the first frame
		require.NoError(t, os.WriteFile(p, bad, 0o600))
		_, err := journal.OpenFile(p, nil)
		require.ErrorIs(t, err, journal.ErrCorrupt)
		after, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, bad, after, "a damaged journal is left as it is")
	})
}

// FuzzFileJournalOpen opens arbitrary bytes as a journal file: it must not
// panic, and what it accepts it must replay.
func FuzzFileJournalOpen(f *testing.F) {
	ctx := context.Background()
	path := filepath.Join(f.TempDir(), "seed")
	j, err := journal.OpenFile(path, &journal.FileOptions{NoSync: true})
	require.NoError(f, err)
	require.NoError(f, j.Append(ctx, sampleEntries()...))
	require.NoError(f, j.Close())
	seed, err := os.ReadFile(path)
	require.NoError(f, err)
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "j")
		require.NoError(t, os.WriteFile(p, data, 0o600))
		j, err := journal.OpenFile(p, &journal.FileOptions{NoSync: true})
		if err != nil {
			return
		}
		defer j.Close()
		for _, err := range j.Replay(ctx) {
			require.NoError(t, err, "an opened journal replays")
		}
	})
}

// journalFile writes three appends (3 entries, 1, then 2 in one group
// commit) and returns the file's bytes and the end offset of each write.
func journalFile(t *testing.T) (raw []byte, ends []int64) {
	t.Helper()
	ctx := context.Background()
	want := sampleEntries()
	path := filepath.Join(t.TempDir(), "j")
	j, err := journal.OpenFile(path, nil)
	require.NoError(t, err)
	for _, batch := range [][]remediation.Entry{want[:3], want[3:4], want[3:5]} {
		require.NoError(t, j.Append(ctx, batch...))
		ends = append(ends, j.Size())
	}
	require.NoError(t, j.Close())
	raw, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, ends[2], int64(len(raw)))
	return raw, ends
}

// openBytes opens data as a journal file and returns the journal (nil on
// error), the error, and the file's bytes afterwards.
func openBytes(t *testing.T, data []byte) (*journal.File, error, []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "j")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	j, err := journal.OpenFile(p, nil)
	if j != nil {
		t.Cleanup(func() { j.Close() })
	}
	after, rerr := os.ReadFile(p)
	require.NoError(t, rerr)
	return j, err, after
}

// The layout of a journal file: a file header, then writes, each with a
// header (see remediation/fileformat.go).
const (
	fileHdr  = 24
	writeHdr = 12
)

// TestFileJournalDamageIsNotTorn: damage to durable entries is refused,
// however it looks, and the file is left as it is; only the last write
// can be torn.
func TestFileJournalDamageIsNotTorn(t *testing.T) {
	raw, ends := journalFile(t)

	damaged := map[string]func(b []byte) []byte{
		// The first frame's length now runs past the end of the file.
		"a frame length in the first write": func(b []byte) []byte { b[fileHdr+writeHdr+2] = 0x7f; return b },
		// The second write's header claims more than the file holds.
		"a write length in the middle": func(b []byte) []byte { b[ends[0]+5] ^= 0x40; return b },
		"a write magic in the middle":  func(b []byte) []byte { b[ends[0]] = 'X'; return b },
		"a whole write header zeroed": func(b []byte) []byte {
			clear(b[ends[0] : ends[0]+writeHdr])
			return b
		},
		"a payload byte of the second write": func(b []byte) []byte { b[ends[1]-1] ^= 1; return b },
		// The last write was synced before the torn one began.
		"a payload byte of a write before a torn one of zeros": func(b []byte) []byte {
			b[ends[1]-1] ^= 1
			clear(b[ends[1]:])
			return b
		},
		"a write header before a cut write": func(b []byte) []byte {
			b[ends[0]+5] ^= 0x40
			return b[:len(b)-3]
		},
		"the file header": func(b []byte) []byte { b[6] ^= 1; return b },
	}
	for name, damage := range damaged {
		t.Run(name, func(t *testing.T) {
			bad := damage(append([]byte{}, raw...))
			_, err, after := openBytes(t, bad)
			require.ErrorIs(t, err, journal.ErrCorrupt)
			assert.Equal(t, bad, after, "a damaged journal is left as it is")
		})
	}
}

// TestFileJournalCompactedDamage: a rewrite's chunks were synced before
// the file became the journal, so damage in one, the last included, is
// refused and never cut off as a torn write.
func TestFileJournalCompactedDamage(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "j")
	j, err := journal.OpenFile(p, nil)
	require.NoError(t, err)
	for _, batch := range [][]remediation.Entry{sampleEntries()[:3], sampleEntries()[3:]} {
		require.NoError(t, j.Append(ctx, batch...))
	}
	_, after, err := j.Rewrite(ctx, func(*remediation.Entry) bool { return true })
	require.NoError(t, err)
	assert.Equal(t, sampleEntries(), replayAll(t, j))
	require.NoError(t, j.Close())
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, after, int64(len(raw)))
	for _, at := range []int{fileHdr + 5, fileHdr + writeHdr + 20, len(raw) - 1} {
		bad := append([]byte{}, raw...)
		bad[at] ^= 1
		_, err, left := openBytes(t, bad)
		require.ErrorIs(t, err, journal.ErrCorrupt, "damage at %d", at)
		assert.Equal(t, bad, left)
	}
	_, err, _ = openBytes(t, raw[:len(raw)-2])
	require.ErrorIs(t, err, journal.ErrCorrupt, "a cut rewrite chunk")

	// A group commit after the rewrite can be torn as any other.
	j, err = journal.OpenFile(p, nil)
	require.NoError(t, err)
	require.NoError(t, j.Append(ctx, sampleEntries()[0]))
	require.NoError(t, j.Close())
	grown, err := os.ReadFile(p)
	require.NoError(t, err)
	j, err, left := openBytes(t, grown[:len(grown)-3])
	require.NoError(t, err)
	assert.Equal(t, int64(len(grown)-3-len(raw)), j.TornBytes())
	assert.Equal(t, raw, left)
	assert.Equal(t, sampleEntries(), replayAll(t, j))
}

// TestFileJournalTornGroupCommit: a crash while the last group commit was
// written can leave any of its sectors missing (zeros) or stale (another
// file's data, or this file's from elsewhere); the write was never
// acknowledged, so it is cut off whole, and the file is usable.
func TestFileJournalTornGroupCommit(t *testing.T) {
	raw, ends := journalFile(t)
	other, _ := journalFile(t) // another journal file: another salt
	want := sampleEntries()
	last := raw[ends[1]:]
	torn := map[string][]byte{
		// The first frame of the last write lost, the second one there.
		"a hole in the middle": func() []byte {
			b := append([]byte{}, raw...)
			clear(b[ends[1]+writeHdr : ends[1]+writeHdr+8])
			return b
		}(),
		// The header lost, the frames there.
		"the header missing": func() []byte {
			b := append([]byte{}, raw...)
			clear(b[ends[1] : ends[1]+writeHdr])
			return b
		}(),
		// Garbage where the header should be, nothing good after it.
		"the header garbled": func() []byte {
			b := append([]byte{}, raw...)
			for i := ends[1]; i < ends[1]+writeHdr; i++ {
				b[i] ^= 0xa5
			}
			return b
		}(),
		"zeros where the frames should be": append(append([]byte{}, raw[:ends[1]+writeHdr]...), make([]byte, len(last)-writeHdr)...),
		// Stale blocks: another journal's writes, and this journal's first
		// write, where the torn write's header should be.
		"another file's writes":            append(append(append([]byte{}, raw[:ends[1]]...), make([]byte, writeHdr)...), other[fileHdr:]...),
		"this file's write from elsewhere": append(append(append([]byte{}, raw[:ends[1]]...), make([]byte, writeHdr)...), raw[fileHdr:ends[0]]...),
	}
	for name, data := range torn {
		t.Run(name, func(t *testing.T) {
			j, err, after := openBytes(t, data)
			require.NoError(t, err)
			assert.Equal(t, want[:4], replayAll(t, j), "the acknowledged writes are whole")
			assert.Equal(t, int64(len(data))-ends[1], j.TornBytes())
			assert.Equal(t, raw[:ends[1]], after, "the torn write is cut off")
			require.NoError(t, j.Append(context.Background(), want[4]))
			assert.Equal(t, append(append([]remediation.Entry{}, want[:4]...), want[4]), replayAll(t, j))
		})
	}
}

// TestFileJournalTornStart: a crash while a new journal's header was
// written leaves at most a header's worth of bytes, and no entry: the
// journal starts again.
func TestFileJournalTornStart(t *testing.T) {
	for _, data := range [][]byte{{}, []byte("EJF1\x00\x01"), make([]byte, fileHdr)} {
		j, err, after := openBytes(t, data)
		require.NoError(t, err)
		assert.Empty(t, replayAll(t, j))
		assert.Equal(t, int64(len(data)), j.TornBytes())
		assert.Len(t, after, fileHdr)
		require.NoError(t, j.Append(context.Background(), sampleEntries()[0]))
		assert.Equal(t, sampleEntries()[:1], replayAll(t, j))
	}
}

// TestFileJournalOldFormat: a file of the format before file and write
// headers is refused with a clear error, never read as a torn write and
// emptied; so is a file that is not a journal.
func TestFileJournalOldFormat(t *testing.T) {
	raw, ends := journalFile(t)
	// The old format was the frames alone.
	old := append([]byte{}, raw[fileHdr+writeHdr:ends[0]]...)
	_, err, after := openBytes(t, old)
	require.ErrorIs(t, err, journal.ErrCorrupt)
	assert.ErrorContains(t, err, "earlier version")
	assert.Equal(t, old, after)

	notJournal := []byte("this is some other file, not a journal at all\n")
	_, err, after = openBytes(t, notJournal)
	require.ErrorIs(t, err, journal.ErrCorrupt)
	assert.Equal(t, notJournal, after)
}

// A memory journal's failed Append leaves nothing of the call, and the
// journal refuses further appends (as a file journal does) rather than
// write references to strings it never wrote.
func TestMemoryJournalFailedAppend(t *testing.T) {
	ctx := context.Background()
	j := journal.NewMemory()
	good := remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{RecordID: "a", Seq: 1, Mailbox: "bob"}}
	bad := remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{ID: "a", Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	require.Error(t, j.Append(ctx, good, bad))
	assert.Empty(t, replayAll(t, j), "nothing of the failed call")
	assert.Error(t, j.Append(ctx, good), "refused after a failed append")

	j = journal.NewMemory()
	huge := strings.Repeat("m", journal.MaxFrame+1)
	require.Error(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{RecordID: "act-1", Seq: 1, Mailbox: huge}}))
	assert.Error(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{RecordID: "act-1", Seq: 2, Mailbox: "bob"}}))
	assert.Empty(t, replayAll(t, j))
}

// Removed calendar entries come back byte for byte, invalid UTF-8
// included: the undo restores them as they were.
func TestRemovedEntryRawIsByteExact(t *testing.T) {
	ctx := context.Background()
	j := journal.NewMemory()
	raw := []byte("BEGIN:VCALENDAR\r\nSUMMARY:caf\xe9\r\nEND:VCALENDAR\r\n")
	step := &remediation.CalendarStep{RecordID: "a", Seq: 1, Removed: []remediation.RemovedEntry{{Owner: "o", Calendar: "c", UID: "u", Raw: raw}}}
	require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryCalendar, Calendar: step}))
	got := replayAll(t, j)
	require.Len(t, got, 1)
	assert.Equal(t, raw, got[0].Calendar.Removed[0].Raw)
}
