package remediation

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Rewriter is a [Journal] that can rewrite itself keeping only some of its
// entries. Both journals of this package are Rewriters; [Engine.Compact]
// needs one.
type Rewriter interface {
	// Rewrite replaces the journal's entries with those keep returns true
	// for, in their order, and returns the journal's size in bytes before
	// and after. It is atomic: after a crash the journal holds either all
	// the old entries or exactly the kept ones. Appends wait until it
	// returns; a Replay under way goes on reading the old entries. On an
	// error the journal is left as it was, unless the error says the
	// journal is no longer usable.
	Rewrite(ctx context.Context, keep func(*Entry) bool) (before, after int64, err error)
}

var (
	_ Rewriter = (*FileJournal)(nil)
	_ Rewriter = (*MemoryJournal)(nil)
)

// ErrNotRewritable means the journal cannot be compacted: it does not
// implement [Rewriter].
var ErrNotRewritable = errors.New("remediation: journal cannot be rewritten")

// CompactStats is what [Engine.Compact] did.
type CompactStats struct {
	// Removed is the number of records removed: those that finished
	// before the cutoff.
	Removed int
	// Kept is the number of records kept.
	Kept int
	// Before is the journal's size in bytes before the compaction.
	Before int64
	// After is the journal's size in bytes after it.
	After int64
}

// Compact rewrites the journal without what the action center no longer
// needs, and returns what it did:
//
//   - the records that finished before `before` (completed, partially
//     completed, failed, declined, cancelled or expired, and not
//     incomplete), with all their entries: the retention of the action
//     center's history. The zero time removes none. A removed action can
//     no longer be read, listed or undone.
//   - for every other finished record, its superseded snapshots, its
//     intents and its calendar steps: only an unfinished action reads
//     them, to resume. Its last snapshot, its outcomes and the calendar
//     entries it removed with RemoveInvites stay, so [Engine.Get],
//     [Engine.Query], [Engine.Outcomes] and [Engine.Undo] answer as
//     before.
//
// Records not finished (pending approval, queued, running, incomplete)
// are kept whole, whatever their age. The journal must implement
// [Rewriter] (ErrNotRewritable otherwise); Appends of actions running
// meanwhile wait until the rewrite is done.
func (e *Engine) Compact(ctx context.Context, before time.Time) (CompactStats, error) {
	rw, ok := e.j.(Rewriter)
	if !ok {
		return CompactStats{}, fmt.Errorf("%w: %T", ErrNotRewritable, e.j)
	}
	if err := ctx.Err(); err != nil {
		return CompactStats{}, err
	}
	e.expire(ctx)
	// What to do with each record's entries, decided on the records as
	// they are now. A record created meanwhile is unknown here and kept
	// whole.
	type fate uint8
	const (
		keepAll  fate = iota // unfinished: every entry
		keepLast             // finished: last snapshot and outcomes
		drop                 // finished before the cutoff: nothing
	)
	e.compactMu.Lock()
	defer e.compactMu.Unlock()
	fates := map[string]fate{}
	e.mu.Lock()
	for id, s := range e.records {
		r := &s.r
		switch {
		case s.running || !r.Status.Final() || r.Incomplete:
			fates[id] = keepAll
		case !before.IsZero() && cmp.Or(r.Finished, r.Decided, r.Created).Before(before):
			fates[id] = drop
		default:
			fates[id] = keepLast
		}
	}
	// An action and its undo go together: one kept keeps the other.
	for id, s := range e.records {
		if fates[id] != drop {
			continue
		}
		for _, other := range []string{s.r.UndoOf, s.r.UndoneBy} {
			if f, ok := fates[other]; other != "" && (!ok || f != drop) {
				fates[id] = keepLast
			}
		}
	}
	// The records to drop leave the action center now, before the journal
	// is rewritten: an Undo or Approve that starts meanwhile finds nothing
	// to act on rather than outcomes about to vanish. They come back if
	// the rewrite fails.
	dropped := map[string]*state{}
	for id, f := range fates {
		if f == drop {
			dropped[id] = e.records[id]
			delete(e.records, id)
		}
	}
	e.mu.Unlock()
	restore := func() {
		e.mu.Lock()
		for id, s := range dropped {
			if _, ok := e.records[id]; !ok {
				e.records[id] = s
			}
		}
		e.mu.Unlock()
	}

	// The position of each finished record's last snapshot.
	last := map[string]int{}
	i := 0
	for ent, err := range e.j.Replay(ctx) {
		if err != nil {
			restore()
			return CompactStats{}, fmt.Errorf("remediation: compact: %w", err)
		}
		if ent.Kind == EntryRecord {
			last[ent.Record.ID] = i
		}
		i++
	}

	i = -1
	keep := func(ent *Entry) bool {
		i++
		var id string
		switch ent.Kind {
		case EntryRecord:
			id = ent.Record.ID
		case EntryIntent:
			id = ent.Intent.Action
		case EntryOutcomes:
			id = ent.Outcomes.Action
		case EntryCalendar:
			id = ent.Calendar.Action
		default:
			return true
		}
		f, known := fates[id]
		switch {
		case !known || f == keepAll:
			return true
		case f == drop:
			return false
		case ent.Kind == EntryRecord:
			// Entries appended since the scan come after every position
			// it saw: a later snapshot is kept.
			return i >= last[id]
		case ent.Kind == EntryCalendar:
			// The entries an action with RemoveInvites removed: its undo
			// puts them back.
			return len(ent.Calendar.Removed) > 0
		default:
			return ent.Kind == EntryOutcomes
		}
	}
	before0, after, err := rw.Rewrite(ctx, keep)
	if err != nil {
		restore()
		return CompactStats{}, fmt.Errorf("remediation: compact: %w", err)
	}
	st := CompactStats{Before: before0, After: after, Removed: len(dropped)}
	e.mu.Lock()
	st.Kept = len(e.records)
	e.mu.Unlock()
	e.log.Info("remediation: journal compacted", "removed", st.Removed, "kept", st.Kept,
		"bytes_before", st.Before, "bytes_after", st.After)
	return st, nil
}

// compactSuffix names the file a FileJournal rewrite writes before it
// replaces the journal with it.
const compactSuffix = ".compact"

// Rewrite implements [Rewriter]. It writes the kept entries to a new file
// beside the journal (path + ".compact"), syncs it, renames it over the
// journal and syncs the directory. A crash before the rename leaves the
// old journal and a stray new file, which [OpenFileJournal] removes.
func (j *FileJournal) Rewrite(ctx context.Context, keep func(*Entry) bool) (int64, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.flushing {
		j.cond.Wait()
	}
	if j.closed {
		return 0, 0, ErrClosed
	}
	if j.err != nil {
		return 0, 0, j.err
	}
	// Frames that Appends encoded and are waiting to write belong to the
	// old file (they use its string table): write them first.
	if len(j.buf) > 0 {
		n, werr := j.writeSync(j.f, j.buf, j.size)
		if werr != nil {
			j.err = fmt.Errorf("remediation: write journal: %w", werr)
			j.cond.Broadcast()
			return 0, 0, j.err
		}
		j.size += n
		j.durable = j.pending
		j.buf = j.buf[:0]
		j.cond.Broadcast()
	}
	before := j.size

	tmp := j.path + compactSuffix
	nf, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, 0, fmt.Errorf("remediation: rewrite journal: %w", err)
	}
	abandon := func(err error) (int64, int64, error) {
		nf.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("remediation: rewrite journal: %w", err)
	}
	enc := newDict()
	bw := bufio.NewWriterSize(nf, 1<<16)
	// The header goes first as a placeholder; the final one, with the
	// rewritten length sealed, replaces it before the file is synced.
	layout := fileLayout{salt: newSalt(), sealed: fileHeader}
	bw.Write(fileHeaderBytes(layout))
	// Kept frames go out in rewrite chunks of about rewriteChunk bytes,
	// each with its header, as the reader expects.
	var chunk []byte
	after := int64(fileHeader)
	var valid int64
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		var h [writeHeader]byte
		putWriteHeader(h[:], len(chunk), layout.salt, after)
		bw.Write(h[:])
		_, err := bw.Write(chunk)
		after += writeHeader + int64(len(chunk))
		chunk = chunk[:0]
		return err
	}
	each := rewriteEach(ctx, keep, enc, &chunk)
	_, err = readWrites(j.f, j.layout, before, func(p []byte) error {
		if err := each(p); err != nil {
			return err
		}
		if len(chunk) >= rewriteChunk {
			return flush()
		}
		return nil
	}, &valid)
	if err == nil && valid != before {
		err = fmt.Errorf("%w: read %d of %d bytes", ErrCorrupt, valid, before)
	}
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		layout.sealed = after
		_, err = nf.WriteAt(fileHeaderBytes(layout), 0)
	}
	if err == nil && !j.opts.NoSync {
		err = nf.Sync()
	}
	if err != nil {
		return abandon(err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return abandon(err)
	}
	// From here the new file is the journal.
	old := j.f
	j.f, j.enc, j.size, j.layout = nf, enc, after, layout
	old.Close()
	if !j.opts.NoSync {
		if err := syncDir(filepath.Dir(j.path)); err != nil {
			// The rename may not survive a crash: appending to the new
			// file could then lose entries.
			j.err = fmt.Errorf("remediation: journal unusable: sync directory after rewrite: %w", err)
			return before, after, j.err
		}
	}
	return before, after, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Rewrite implements [Rewriter].
func (j *MemoryJournal) Rewrite(ctx context.Context, keep func(*Entry) bool) (int64, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return 0, 0, ErrClosed
	}
	enc := newDict()
	var out []byte
	err := scanFrames(j.buf, rewriteEach(ctx, keep, enc, &out))
	if err != nil {
		return 0, 0, fmt.Errorf("remediation: rewrite journal: %w", err)
	}
	before := int64(len(j.buf))
	// Replays under way hold the old slice, which is never written again.
	j.buf, j.enc = out, enc
	return before, int64(len(out)), nil
}

// rewriteEach returns the frame callback both rewrites share: it decodes
// each payload as a replay does ([decodeEach]: one dictionary, ctx checked
// every 1024 entries) and appends each entry keep returns true for to
// *out, encoded with enc, the rewritten journal's new dictionary.
func rewriteEach(ctx context.Context, keep func(*Entry) bool, enc *dict, out *[]byte) func([]byte) error {
	var aerr error
	each := decodeEach(ctx, func(ent Entry, _ error) bool {
		if keep(&ent) {
			*out, aerr = appendFrame(*out, enc, ent)
		}
		return aerr == nil
	})
	return func(p []byte) error {
		if err := each(p); err != nil {
			if errors.Is(err, errStop) {
				return aerr
			}
			return err
		}
		return nil
	}
}
