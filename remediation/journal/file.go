package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sync"

	"github.com/eradicate-dev/eradicate/remediation"
)

// FileOptions configure [OpenFile]. A nil pointer is the same as a
// zero value.
type FileOptions struct {
	// NoSync skips fsync. Entries then survive a crash of the process but
	// not of the machine. Only for tests and benchmarks that say so.
	NoSync bool
	// Key keys the journal's chain (see [Chain]): every Append call's
	// entries are sealed with their MACs, and opening, replaying and
	// rewriting the journal verify every entry. nil writes no seals and
	// verifies nothing. A journal written without a key does not verify
	// with one.
	Key *Key
	// Heads are heads of the chain exported earlier ([File.Head]):
	// opening and every replay check that they lie on the chain, so that
	// a journal cut short of one (at a write boundary, which a torn write
	// does not explain) is refused. They need Key.
	Heads []Head
}

// File is a [remediation.Journal] in one append-only file: the embedded
// default. Appends are group-committed: concurrent Append calls share one
// write and one fsync, and each returns once its entries are durable. Each
// write carries a checked header with its length, and each entry its own
// CRC-32C, so a torn last write (a crash in the middle of a group commit,
// whatever part of it reached the disk) is told from damage to durable
// entries: the torn write is cut off when the file is opened, and damage
// is refused with ErrCorrupt. It is safe for concurrent use by the
// goroutines of one process. One File at a time has the file: see
// [OpenFile] and [ErrLocked].
type File struct {
	path string
	opts FileOptions
	lock *os.File // the lock file, held until Close

	mu       sync.Mutex
	cond     *sync.Cond
	f        *os.File
	enc      *dict
	buf      []byte // encoded, not yet written
	spare    []byte
	pending  uint64 // number of Append calls encoded so far
	durable  uint64 // number of Append calls durable
	size     int64  // bytes written and synced
	flushing bool
	err      error // sticky write error
	closed   bool
	cut      int64 // bytes of a torn last write cut off at open
	layout   fileLayout
	chain    *Chain // nil without a key
	heads    *Heads
}

var _ remediation.Journal = (*File)(nil)

// ErrLocked means the journal file is already open in another
// File, of this process or another one. Two would each append with
// their own idea of the file's end and dictionary, overwriting each
// other's entries: records would vanish without an error, or the file
// would read as ErrCorrupt. The error names the file.
var ErrLocked = errors.New("journal: file is open in another journal.File")

// errLocked is what lockFile returns when another open holds the lock.
var errLocked = errors.New("locked")

// lockSuffix names the lock file beside a journal.
const lockSuffix = ".lock"

// OpenFile opens (creating if needed) the journal file at path. A
// torn last write is truncated ([File.TornBytes] says how much);
// damage anywhere else gives an error wrapping ErrCorrupt and the file is
// left as it is. opts may be nil.
//
// The journal is locked until [File.Close]: a second open of the
// same path, in this process or another, fails with an error wrapping
// [ErrLocked] that names the file. The lock is taken on a file
// beside the journal, path + ".lock", not on the journal itself, because
// a rewrite ([File.Rewrite]) replaces the journal by renaming a new
// file over it: a lock on the journal's own inode would stay with the old
// file and leave the new one unlocked. The lock file is created when
// missing and stays after Close (removing it would let a later opener
// lock a new file while an earlier one still holds the old). On Linux, the
// BSDs and macOS it is an flock(2), on Windows a handle opened without
// sharing; either is released by the system when the process ends, so a
// crash never leaves the journal locked. On other platforms there is no
// lock: the caller must ensure a single opener.
func OpenFile(path string, opts *FileOptions) (*File, error) {
	j := &File{path: path, enc: newDict()}
	if opts != nil {
		j.opts = *opts
	}
	if len(j.opts.Heads) > 0 {
		if j.opts.Key == nil {
			return nil, errors.New("journal: heads to check need the key")
		}
		hs, err := NewHeads(j.opts.Key, j.opts.Heads)
		if err != nil {
			return nil, err
		}
		j.heads = hs
	}
	j.cond = sync.NewCond(&j.mu)
	lock, err := lockFile(path + lockSuffix)
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: lock journal %s: %w", path, err)
	}
	// Everything from here, the removal of a rewrite's file included,
	// happens under the lock: an opener that is refused touches nothing.
	ok := false
	defer func() {
		if !ok {
			lock.Close()
		}
	}()
	// A rewrite that crashed before its rename left its new file: the
	// journal itself is whole.
	if err := os.Remove(path + compactSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("journal: remove an abandoned journal rewrite: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: open journal: %w", err)
	}
	if err := j.open(f); err != nil {
		f.Close()
		return nil, err
	}
	j.lock, ok = lock, true
	return j, nil
}

// open reads the journal file f (or starts it when it is new) and leaves
// it positioned for appends.
func (j *File) open(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("journal: open journal: %w", err)
	}
	size := st.Size()
	var h [fileHeader]byte
	n, err := f.ReadAt(h[:], 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("journal: open journal: %w", err)
	}
	layout, ok := parseFileHeader(h[:n])
	switch {
	case ok:
	case size <= fileHeader:
		// New, or its header was being written when the process or the
		// machine stopped: no entry can be in it yet.
		j.cut = size
		if err := newChainCheck(j.opts.Key, j.heads).end(); err != nil {
			return err // a head of entries: the journal was emptied
		}
		if j.opts.Key != nil {
			j.chain = NewChain(j.opts.Key)
		}
		return j.start(f)
	case oldFormat(f, size):
		return fmt.Errorf("%w: the file is in the journal format of an earlier version (frames without file and write headers); it cannot be read by this one", ErrCorrupt)
	default:
		return fmt.Errorf("%w: the file does not start with a journal header", ErrCorrupt)
	}
	j.layout = layout
	var valid int64
	cc := newChainCheck(j.opts.Key, j.heads)
	cc.d = j.enc
	discard := func(remediation.Entry) error { return nil }
	if _, err := readWrites(f, layout, size, func(p []byte) error {
		return cc.frame(p, discard)
	}, &valid); err != nil {
		return err
	}
	if err := cc.end(); err != nil {
		return err
	}
	j.chain = cc.c
	if size != valid {
		j.cut = size - valid
		if err := f.Truncate(valid); err != nil {
			return fmt.Errorf("journal: truncate torn journal tail: %w", err)
		}
		if !j.opts.NoSync {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("journal: sync journal: %w", err)
			}
		}
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		return fmt.Errorf("journal: open journal: %w", err)
	}
	j.f, j.size = f, valid
	return nil
}

// start makes f a new, empty journal: a file header with a new salt,
// synced with the directory entry.
func (j *File) start(f *os.File) error {
	l := fileLayout{salt: newSalt(), sealed: fileHeader}
	h := fileHeaderBytes(l)
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("journal: start journal: %w", err)
	}
	if _, err := f.WriteAt(h, 0); err != nil {
		return fmt.Errorf("journal: start journal: %w", err)
	}
	if !j.opts.NoSync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("journal: start journal: %w", err)
		}
		if err := syncDir(filepath.Dir(j.path)); err != nil {
			return fmt.Errorf("journal: start journal: %w", err)
		}
	}
	if _, err := f.Seek(fileHeader, io.SeekStart); err != nil {
		return fmt.Errorf("journal: start journal: %w", err)
	}
	j.f, j.size, j.layout = f, fileHeader, l
	return nil
}

// Append implements [remediation.Journal] with group commit.
func (j *File) Append(ctx context.Context, entries ...remediation.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return remediation.ErrClosed
	}
	var err error
	if j.buf, err = appendEntries(j.buf, j.enc, &j.err, entries, j.chain); err != nil {
		return err
	}
	j.pending++
	mine := j.pending
	for j.durable < mine && j.err == nil {
		if j.flushing {
			j.cond.Wait()
			continue
		}
		j.flushing = true
		data, upto, off := j.buf, j.pending, j.size
		j.buf = j.spare[:0]
		j.mu.Unlock()
		n, werr := j.writeSync(j.f, data, off)
		j.mu.Lock()
		j.spare = data[:0]
		j.flushing = false
		if werr != nil {
			j.err = fmt.Errorf("journal: write journal: %w", werr)
		} else {
			j.durable = upto
			j.size += n
		}
		j.cond.Broadcast()
	}
	if j.durable < mine {
		return j.err
	}
	return nil
}

// writeSync writes data, a run of frames, to f at its end off as one
// group commit (header and frames) and, unless NoSync, fsyncs it. It
// returns the bytes written.
func (j *File) writeSync(f *os.File, data []byte, off int64) (int64, error) {
	if len(data) == 0 {
		return 0, nil
	}
	var h [writeHeader]byte
	putWriteHeader(h[:], len(data), j.layout.salt, off)
	if _, err := f.Write(h[:]); err != nil {
		return 0, err
	}
	if _, err := f.Write(data); err != nil {
		return 0, err
	}
	if j.opts.NoSync {
		return writeHeader + int64(len(data)), nil
	}
	return writeHeader + int64(len(data)), f.Sync()
}

// Replay implements [remediation.Journal]: it reads the file up to what was durable
// when Replay was called.
func (j *File) Replay(ctx context.Context) iter.Seq2[remediation.Entry, error] {
	return func(yield func(remediation.Entry, error) bool) {
		// The file is opened with the size read, under the lock: a
		// Rewrite may replace the file at the path.
		j.mu.Lock()
		limit, closed, layout := j.size, j.closed, j.layout
		cc := newChainCheck(j.opts.Key, j.heads)
		var f *os.File
		var err error
		if !closed {
			f, err = os.Open(j.path)
		}
		j.mu.Unlock()
		if closed {
			yield(remediation.Entry{}, remediation.ErrClosed)
			return
		}
		if err != nil {
			yield(remediation.Entry{}, fmt.Errorf("journal: replay journal: %w", err))
			return
		}
		defer f.Close()
		var valid int64
		_, err = readWrites(f, layout, limit, decodeEach(ctx, cc, yield), &valid)
		if err == nil && valid != limit {
			err = fmt.Errorf("%w: read %d of %d durable bytes", ErrCorrupt, valid, limit)
		}
		if err == nil {
			err = cc.end()
		}
		if err != nil && !errors.Is(err, errStop) {
			yield(remediation.Entry{}, err)
		}
	}
}

// TornBytes returns how many bytes of a torn last write [OpenFile]
// cut off the file: entries whose Append never returned, because the
// process or the machine stopped while they were written. It is 0 when
// the file was whole.
func (j *File) TornBytes() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cut
}

// Size returns the number of durable bytes in the journal.
func (j *File) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}

// Close waits for a write under way, then closes the file and releases
// its lock.
func (j *File) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.flushing {
		j.cond.Wait()
	}
	if j.closed {
		return nil
	}
	j.closed = true
	j.cond.Broadcast()
	err := j.f.Close()
	// The lock goes last: another opener must not start before the file
	// is closed.
	if lerr := j.lock.Close(); err == nil {
		err = lerr
	}
	return err
}
