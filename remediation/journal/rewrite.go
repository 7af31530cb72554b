package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eradicate-dev/eradicate/remediation"
)

// compactSuffix names the file a File rewrite writes before it
// replaces the journal with it.
const compactSuffix = ".compact"

// Rewrite implements [remediation.Rewriter]. It writes the kept entries to a new file
// beside the journal (path + ".compact"), syncs it, renames it over the
// journal and syncs the directory. A crash before the rename leaves the
// old journal and a stray new file, which [OpenFile] removes.
func (j *File) Rewrite(ctx context.Context, keep func(*remediation.Entry) bool) (int64, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.flushing {
		j.cond.Wait()
	}
	if j.closed {
		return 0, 0, remediation.ErrClosed
	}
	if j.err != nil {
		return 0, 0, j.err
	}
	// Frames that Appends encoded and are waiting to write belong to the
	// old file (they use its string table): write them first.
	if len(j.buf) > 0 {
		n, werr := j.writeSync(j.f, j.buf, j.size)
		if werr != nil {
			j.err = fmt.Errorf("journal: write journal: %w", werr)
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
		return 0, 0, fmt.Errorf("journal: rewrite journal: %w", err)
	}
	abandon := func(err error) (int64, int64, error) {
		nf.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("journal: rewrite journal: %w", err)
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
	rw := newRewriter(ctx, keep, j.opts.Key, j.heads, enc, &chunk)
	flush := func() error {
		rw.seal()
		if len(chunk) == 0 {
			return nil
		}
		var h [writeHeader]byte
		putWriteHeader(h[:], len(chunk), layout.salt, after)
		bw.Write(h[:])
		_, err := bw.Write(chunk)
		after += writeHeader + int64(len(chunk))
		chunk = chunk[:0]
		rw.sealed = 0
		return err
	}
	_, err = readWrites(j.f, j.layout, before, func(p []byte) error {
		if err := rw.frame(p); err != nil {
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
		err = rw.cc.end()
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
	j.f, j.enc, j.size, j.layout, j.chain = nf, enc, after, layout, rw.chain
	old.Close()
	if !j.opts.NoSync {
		if err := syncDir(filepath.Dir(j.path)); err != nil {
			// The rename may not survive a crash: appending to the new
			// file could then lose entries.
			j.err = fmt.Errorf("journal: journal unusable: sync directory after rewrite: %w", err)
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

// Rewrite implements [remediation.Rewriter].
func (j *Memory) Rewrite(ctx context.Context, keep func(*remediation.Entry) bool) (int64, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return 0, 0, remediation.ErrClosed
	}
	enc := newDict()
	var out []byte
	rw := newRewriter(ctx, keep, j.key, nil, enc, &out)
	err := scanFrames(j.buf, rw.frame)
	if err == nil {
		err = rw.cc.end()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("journal: rewrite journal: %w", err)
	}
	rw.seal()
	before := int64(len(j.buf))
	// Replays under way hold the old slice, which is never written again.
	j.buf, j.enc, j.chain = out, enc, rw.chain
	return before, int64(len(out)), nil
}

// rewriter is what both rewrites share: it reads the old frames as a
// replay does ([decodeEach]: one dictionary, the chain checked when there
// is a key, ctx checked every 1024 frames) and appends each entry keep
// returns true for to *out, encoded with enc, the rewritten journal's new
// dictionary. With a key the kept entries start a new chain: seal seals
// the frames appended since the last seal.
type rewriter struct {
	cc     *chainCheck
	frame  func([]byte) error
	out    *[]byte
	chain  *Chain // the new chain; nil without a key
	sealed int    // the end of *out's sealed frames
}

func newRewriter(ctx context.Context, keep func(*remediation.Entry) bool, key *Key, heads *Heads, enc *dict, out *[]byte) *rewriter {
	rw := &rewriter{cc: newChainCheck(key, heads), out: out}
	if key != nil {
		rw.chain = NewChain(key)
	}
	var aerr error
	each := decodeEach(ctx, rw.cc, func(ent remediation.Entry, _ error) bool {
		if keep(&ent) {
			*out, aerr = appendFrame(*out, enc, ent)
		}
		return aerr == nil
	})
	rw.frame = func(p []byte) error {
		if err := each(p); err != nil {
			if errors.Is(err, errStop) {
				return aerr
			}
			return err
		}
		return nil
	}
	return rw
}

// seal seals the kept frames not yet sealed.
func (rw *rewriter) seal() {
	if rw.chain != nil && rw.sealed < len(*rw.out) {
		*rw.out = appendSeal(*rw.out, rw.sealed, rw.chain)
	}
	rw.sealed = len(*rw.out)
}
