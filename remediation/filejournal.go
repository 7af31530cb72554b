package remediation

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"os"
	"sync"
)

// FileOptions configure [OpenFileJournal]. A nil pointer is the same as a
// zero value.
type FileOptions struct {
	// NoSync skips fsync. Entries then survive a crash of the process but
	// not of the machine. Only for tests and benchmarks that say so.
	NoSync bool
}

// FileJournal is a [Journal] in one append-only file: the embedded
// default. Appends are group-committed: concurrent Append calls share one
// write and one fsync, and each returns once its entries are durable. A
// torn last frame (a crash in the middle of a write) is detected by its
// length and CRC-32C and cut off when the file is opened. It is safe for
// concurrent use by the goroutines of one process; two processes must not
// open the same file.
type FileJournal struct {
	path string
	opts FileOptions

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
}

var _ Journal = (*FileJournal)(nil)

// OpenFileJournal opens (creating if needed) the journal file at path. A
// torn last frame is truncated; damage before the last frame gives an
// error wrapping ErrCorrupt and the file is left as it is. opts may be nil.
func OpenFileJournal(path string, opts *FileOptions) (*FileJournal, error) {
	j := &FileJournal{path: path, enc: newDict()}
	if opts != nil {
		j.opts = *opts
	}
	j.cond = sync.NewCond(&j.mu)
	// A rewrite that crashed before its rename left its new file: the
	// journal itself is whole.
	if err := os.Remove(path + compactSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remediation: remove an abandoned journal rewrite: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("remediation: open journal: %w", err)
	}
	valid, err := j.load(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("remediation: open journal: %w", err)
	}
	if st.Size() != valid {
		if err := f.Truncate(valid); err != nil {
			f.Close()
			return nil, fmt.Errorf("remediation: truncate torn journal tail: %w", err)
		}
		if !j.opts.NoSync {
			if err := f.Sync(); err != nil {
				f.Close()
				return nil, fmt.Errorf("remediation: sync journal: %w", err)
			}
		}
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("remediation: open journal: %w", err)
	}
	j.f = f
	j.size = valid
	return j, nil
}

// load reads every frame to rebuild the string table and returns the length
// of the valid prefix.
func (j *FileJournal) load(f *os.File) (int64, error) {
	var valid int64
	err := readFrames(f, -1, func(p []byte) error {
		if _, err := decodePayload(p, j.enc); err != nil {
			return err
		}
		return nil
	}, &valid)
	return valid, err
}

// readFrames streams the frames of f from its start, up to limit bytes
// (-1: to the end). It sets *valid to the end of the last good frame and
// returns an ErrCorrupt error for damage that is not a torn tail.
func readFrames(f *os.File, limit int64, fn func(payload []byte) error, valid *int64) error {
	if limit < 0 {
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("remediation: read journal: %w", err)
		}
		limit = st.Size()
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, limit), 1<<16)
	var hdr [frameHeader]byte
	var p []byte
	var off int64
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil // clean end or torn header
			}
			return fmt.Errorf("remediation: read journal: %w", err)
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		sum := binary.LittleEndian.Uint32(hdr[4:])
		if n == 0 || n > maxFrame {
			return tailOrCorrupt(br, hdr[:], off)
		}
		if off+frameHeader+int64(n) > limit {
			return nil // torn: the frame runs past the end
		}
		if cap(p) < int(n) {
			p = make([]byte, n)
		}
		p = p[:n]
		if _, err := io.ReadFull(br, p); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil // torn payload
			}
			return fmt.Errorf("remediation: read journal: %w", err)
		}
		if crc32.Checksum(p, castagnoli) != sum {
			return tailOrCorrupt(br, nil, off)
		}
		if err := fn(p); err != nil {
			return err
		}
		off += frameHeader + int64(n)
		*valid = off
	}
}

// tailOrCorrupt decides whether a bad frame at off is a torn tail (nothing
// but zeros follow) or damage.
func tailOrCorrupt(br *bufio.Reader, seen []byte, off int64) error {
	if !allZero(seen) {
		// A non-zero bad header: torn only if it is the last thing.
		rest, _ := io.ReadAll(br)
		if len(rest) == 0 {
			return nil
		}
		return fmt.Errorf("%w: bad frame at offset %d followed by %d more bytes", ErrCorrupt, off, len(rest))
	}
	rest, _ := io.ReadAll(br)
	if allZero(rest) {
		return nil
	}
	return fmt.Errorf("%w: bad frame at offset %d followed by %d more bytes", ErrCorrupt, off, len(rest))
}

// Append implements [Journal] with group commit.
func (j *FileJournal) Append(ctx context.Context, entries ...Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if j.err != nil {
		return j.err
	}
	start := len(j.buf)
	for _, e := range entries {
		var err error
		if j.buf, err = appendFrame(j.buf, j.enc, e); err != nil {
			// Frames of this call already encoded are dropped; their
			// interned strings stay numbered, so the journal can no longer
			// be written consistently.
			j.buf = j.buf[:start]
			j.err = fmt.Errorf("remediation: journal unusable after encoding error: %w", err)
			return err
		}
	}
	j.pending++
	mine := j.pending
	for j.durable < mine && j.err == nil {
		if j.flushing {
			j.cond.Wait()
			continue
		}
		j.flushing = true
		data, upto := j.buf, j.pending
		j.buf = j.spare[:0]
		j.mu.Unlock()
		werr := j.writeSync(j.f, data)
		j.mu.Lock()
		j.spare = data[:0]
		j.flushing = false
		if werr != nil {
			j.err = fmt.Errorf("remediation: write journal: %w", werr)
		} else {
			j.durable = upto
			j.size += int64(len(data))
		}
		j.cond.Broadcast()
	}
	if j.durable < mine {
		return j.err
	}
	return nil
}

// writeSync writes data to f and, unless NoSync, fsyncs it.
func (j *FileJournal) writeSync(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	if j.opts.NoSync {
		return nil
	}
	return f.Sync()
}

// Replay implements [Journal]: it reads the file up to what was durable
// when Replay was called.
func (j *FileJournal) Replay(ctx context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		// The file is opened with the size read, under the lock: a
		// Rewrite may replace the file at the path.
		j.mu.Lock()
		limit, closed := j.size, j.closed
		var f *os.File
		var err error
		if !closed {
			f, err = os.Open(j.path)
		}
		j.mu.Unlock()
		if closed {
			yield(Entry{}, ErrClosed)
			return
		}
		if err != nil {
			yield(Entry{}, fmt.Errorf("remediation: replay journal: %w", err))
			return
		}
		defer f.Close()
		var valid int64
		err = readFrames(f, limit, decodeEach(ctx, yield), &valid)
		if err != nil && !errors.Is(err, errStop) {
			yield(Entry{}, err)
		}
	}
}

// Size returns the number of durable bytes in the journal.
func (j *FileJournal) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}

// Close waits for a write under way, then closes the file.
func (j *FileJournal) Close() error {
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
	return j.f.Close()
}
