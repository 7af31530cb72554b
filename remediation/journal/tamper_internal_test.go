package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
)

// The tamper tests edit a journal file as anyone who can write it could:
// with this package's format at hand but not the key. The checks that
// are not keyed (CRC-32C, the write headers' checks with the salt from
// the file header) are recomputed after each edit.

// fileWrites is a journal file split into its writes, each a list of
// frame payloads.
type fileWrites struct {
	header []byte
	salt   uint64
	writes [][][]byte
}

func readFileWrites(t *testing.T, path string) *fileWrites {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	l, ok := parseFileHeader(b[:fileHeader])
	require.True(t, ok)
	fw := &fileWrites{header: b[:fileHeader], salt: l.salt}
	for off := int64(fileHeader); off < int64(len(b)); {
		n, ok := parseWriteHeader(b[off:], l.salt, off)
		require.True(t, ok, "write header at %d", off)
		var frames [][]byte
		require.Equal(t, -1, splitFrames(b[off+writeHeader:off+writeHeader+n], &frames))
		var w [][]byte
		for _, p := range frames {
			w = append(w, bytes.Clone(p))
		}
		fw.writes = append(fw.writes, w)
		off += writeHeader + n
	}
	return fw
}

// entries returns the number of entries (not seals) in writes[:k].
func (fw *fileWrites) entries(k int) uint64 {
	var n uint64
	for _, w := range fw.writes[:k] {
		for _, p := range w {
			if p[0] != sealKind {
				n++
			}
		}
	}
	return n
}

// write writes the file back in place (the same inode: an open File
// keeps reading it), with every unkeyed check recomputed.
func (fw *fileWrites) write(t *testing.T, path string) {
	t.Helper()
	out := bytes.Clone(fw.header)
	for _, w := range fw.writes {
		var body []byte
		for _, p := range w {
			var h [frameHeader]byte
			binary.LittleEndian.PutUint32(h[:], uint32(len(p)))
			binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(p, castagnoli))
			body = append(append(body, h[:]...), p...)
		}
		var h [writeHeader]byte
		putWriteHeader(h[:], len(body), fw.salt, int64(len(out)))
		out = append(append(out, h[:]...), body...)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.Write(out)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func testKey(t *testing.T) *Key {
	t.Helper()
	k, err := NewKey([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return k
}

// fileHistory writes an engine's history to a keyed file journal: three
// soft deletes over the mock, and a fourth action interrupted (its record
// says running), which an engine's Resume takes up. It returns the
// journal (open), the engine, the tenant and the head exported at the
// end.
func fileHistory(t *testing.T, path string) (*File, *remediation.Engine, *mock.Tenant, Head) {
	t.Helper()
	ctx := context.Background()
	key := testKey(t)
	j, err := OpenFile(path, &FileOptions{Key: key, NoSync: true})
	require.NoError(t, err)
	tn := mock.New(nil)
	users := []string{"alice@corp.example", "bob@corp.example"}
	for _, u := range users {
		require.NoError(t, tn.AddUser(u))
	}
	e, err := remediation.New(tn, nil, j, nil)
	require.NoError(t, err)
	for i := range 4 {
		raw := fmt.Appendf(nil, "Message-ID: <m%d@evil.example>\r\nFrom: x@evil.example\r\nSubject: s%d\r\n\r\nbody\r\n", i, i)
		_, err := tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: users})
		require.NoError(t, err)
		if i == 3 {
			break
		}
		_, err = e.Execute(ctx, remediation.Request{
			Action: remediation.SoftDelete, Actor: "soc", Confirm: true,
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{fmt.Sprintf("m%d@evil.example", i)}}},
		})
		require.NoError(t, err)
	}
	now := time.Now().UTC()
	require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{
		ID: now.Format("20060102T150405") + "-0a0b0c0d", Action: remediation.SoftDelete, Actor: "soc", DecidedBy: "soc",
		Source: remediation.SourceManual, Status: remediation.StatusRunning, Created: now, Started: now,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"m3@evil.example"}}},
	}}))
	// The engine that runs from here knows the interrupted action.
	e, err = remediation.New(tn, nil, j, nil)
	require.NoError(t, err)
	h, err := j.Head()
	require.NoError(t, err)
	got, err := j.Verify(ctx, h)
	require.NoError(t, err)
	require.Equal(t, h, got)
	return j, e, tn, h
}

// requireTampered checks that the file journal at path is refused: Verify
// (VerifyFile) names the first bad entry, and OpenFile with the key and
// the exported head fails with ErrTampered, so no engine starts on it.
func requireTampered(t *testing.T, path string, head Head, firstBad uint64) {
	t.Helper()
	ctx := context.Background()
	_, err := VerifyFile(ctx, path, testKey(t), head)
	var te *TamperError
	require.ErrorAs(t, err, &te)
	require.Equal(t, firstBad, te.Entry, "VerifyFile: %v", err)
	_, err = OpenFile(path, &FileOptions{Key: testKey(t), Heads: []Head{head}})
	require.ErrorIs(t, err, ErrTampered, "OpenFile")
}

// changeActor changes one letter of the actor of the first record
// snapshot in write k or after; it returns the index of that entry.
func (fw *fileWrites) changeActor(t *testing.T, k int) uint64 {
	t.Helper()
	idx := fw.entries(k)
	for _, w := range fw.writes[k:] {
		for _, p := range w {
			if i := bytes.Index(p, []byte(`"actor":"soc"`)); p[0] == byte(remediation.EntryRecord) && i >= 0 {
				p[i+len(`"actor":"`)] = 'S'
				return idx
			}
			if p[0] != sealKind {
				idx++
			}
		}
	}
	t.Fatalf("no record snapshot from write %d on", k)
	return 0
}

func TestFileTamper(t *testing.T) {
	ctx := context.Background()
	t.Run("Untouched", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal")
		j, e, _, h := fileHistory(t, path)
		done, err := e.Resume(ctx)
		require.NoError(t, err)
		require.Len(t, done, 1)
		require.Equal(t, remediation.StatusCompleted, done[0].Status)
		require.NoError(t, j.Close())
		got, err := VerifyFile(ctx, path, testKey(t), h)
		require.NoError(t, err)
		require.Greater(t, got.Entries, h.Entries, "the resumed action appended")
	})
	t.Run("ChangedByte", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal")
		j, e, _, h := fileHistory(t, path)
		fw := readFileWrites(t, path)
		bad := fw.changeActor(t, 1)
		fw.write(t, path)
		// The running engine's Resume replays the file and refuses it.
		_, err := e.Resume(ctx)
		require.ErrorIs(t, err, ErrTampered, "Resume")
		require.NoError(t, j.Close())
		requireTampered(t, path, h, bad)
	})
	t.Run("RemovedEntry", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal")
		j, _, _, h := fileHistory(t, path)
		require.NoError(t, j.Close())
		fw := readFileWrites(t, path)
		require.Greater(t, len(fw.writes), 4)
		fw.writes = append(fw.writes[:2], fw.writes[3:]...)
		bad := fw.entries(2)
		fw.write(t, path)
		requireTampered(t, path, h, bad)
	})
	t.Run("Reordered", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal")
		j, _, _, h := fileHistory(t, path)
		require.NoError(t, j.Close())
		fw := readFileWrites(t, path)
		fw.writes[2], fw.writes[3] = fw.writes[3], fw.writes[2]
		fw.write(t, path)
		requireTampered(t, path, h, fw.entries(2))
	})
	t.Run("ReorderedInterned", func(t *testing.T) {
		// Strings are interned across the file: moved before the write
		// that interned them, an entry's references do not decode. That
		// is reported as tampering, at the moved entry, not as damage.
		path := filepath.Join(t.TempDir(), "journal")
		j, err := OpenFile(path, &FileOptions{Key: testKey(t)})
		require.NoError(t, err)
		const id, alice, mid = "20261207T090000-1a2b3c4d", "alice@corp.example", "phish@evil.example"
		require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{ID: id}}))
		require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{
			RecordID: id, Seq: 1, Mailbox: alice,
			Copies: []remediation.IntentCopy{{Folder: "INBOX", UIDValidity: 1, UID: 7, MessageID: mid}},
		}}))
		require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryOutcomes, Outcomes: &remediation.OutcomeBatch{
			RecordID: id, Seq: 1, Mailbox: alice,
			Items: []remediation.Outcome{{Copy: mailbox.Address{Mailbox: alice, Folder: "INBOX", UIDValidity: 1, UID: 7}, MessageID: mid, Kind: remediation.Succeeded}},
		}}))
		h, err := j.Head()
		require.NoError(t, err)
		require.NoError(t, j.Close())
		fw := readFileWrites(t, path)
		require.Len(t, fw.writes, 3)
		fw.writes[1], fw.writes[2] = fw.writes[2], fw.writes[1]
		fw.write(t, path)
		requireTampered(t, path, h, 1)
	})
	t.Run("TruncatedAtWriteBoundary", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal")
		j, _, _, h := fileHistory(t, path)
		require.NoError(t, j.Close())
		fw := readFileWrites(t, path)
		fw.writes = fw.writes[:len(fw.writes)-2]
		kept := fw.entries(len(fw.writes))
		fw.write(t, path)
		// Without the exported head, the shorter chain is whole.
		got, err := VerifyFile(ctx, path, testKey(t))
		require.NoError(t, err)
		require.Equal(t, kept, got.Entries)
		j2, err := OpenFile(path, &FileOptions{Key: testKey(t)})
		require.NoError(t, err)
		require.Zero(t, j2.TornBytes(), "a cut at a write boundary does not look torn")
		require.NoError(t, j2.Close())
		requireTampered(t, path, h, kept)
	})
	t.Run("PlantedWithoutKey", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "journal")
		j, _, _, h := fileHistory(t, path)
		require.NoError(t, j.Close())
		// The public API, without the key.
		pj, err := OpenFile(path, nil)
		require.NoError(t, err)
		now := time.Now().UTC()
		require.NoError(t, pj.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{
			ID: "20261207T000000-deadbeef", Action: remediation.SoftDelete, Actor: "mallory",
			Status: remediation.StatusCompleted, Created: now, Finished: now,
		}}))
		require.NoError(t, pj.Close())
		requireTampered(t, path, h, h.Entries)
	})
}

// A sealed memory journal verifies, and its rewrite starts a new chain.
func TestSealedMemory(t *testing.T) {
	ctx := context.Background()
	j := NewSealedMemory(testKey(t))
	rec := func(id string) remediation.Entry {
		return remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{ID: id}}
	}
	require.NoError(t, j.Append(ctx, rec("a"), rec("b")))
	require.NoError(t, j.Append(ctx, rec("c")))
	h, err := j.Head()
	require.NoError(t, err)
	require.EqualValues(t, 3, h.Entries)
	got, err := j.Verify(ctx, h)
	require.NoError(t, err)
	require.Equal(t, h, got)
	_, _, err = j.Rewrite(ctx, func(e *remediation.Entry) bool { return e.Record.ID != "b" })
	require.NoError(t, err)
	got, err = j.Verify(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, got.Entries)
	_, err = j.Verify(ctx, h)
	require.ErrorIs(t, err, ErrTampered, "a head from before a rewrite is not on the new chain")
}
