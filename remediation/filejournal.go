package remediation

import (
	"bytes"
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
// write and one fsync, and each returns once its entries are durable. Each
// write carries a checked header with its length, and each entry its own
// CRC-32C, so a torn last write (a crash in the middle of a group commit,
// whatever part of it reached the disk) is told from damage to durable
// entries: the torn write is cut off when the file is opened, and damage
// is refused with ErrCorrupt. It is safe for
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
	cut      int64 // bytes of a torn last write cut off at open
}

var _ Journal = (*FileJournal)(nil)

// OpenFileJournal opens (creating if needed) the journal file at path. A
// torn last write is truncated ([FileJournal.TornBytes] says how much);
// damage anywhere else gives an error wrapping ErrCorrupt and the file is
// left as it is. opts may be nil.
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
		j.cut = st.Size() - valid
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

// load reads every write to rebuild the string table and returns the
// length of the valid prefix. Only whole, checked writes reach the string
// table, so a torn last write leaves nothing of itself behind.
func (j *FileJournal) load(f *os.File) (int64, error) {
	var valid int64
	_, err := readWrites(f, -1, func(p []byte) error {
		if _, err := decodePayload(p, j.enc); err != nil {
			return err
		}
		return nil
	}, &valid)
	return valid, err
}

// The file format. Each write of the file journal (one group commit, or
// one chunk of a rewrite) is
//
//	"EJW1" | u32 length of the frames | u32 CRC-32C of the first 8 bytes | frames
//
// and the frames are those of the in-memory encoding (see appendFrame).
// The write header's own checksum means a damaged length is seen as
// damage, never trusted; the writes' extents let a torn last write (a
// crash while a group commit was being written, when any of its sectors
// may be missing) be told from damage to data that was already durable:
// the journal writes nothing after a write until that write is synced, so
// only the last write of the file can be torn.
const (
	writeMagic  = "EJW1"
	writeHeader = 12
	// rewriteChunk bounds the frames of one write of a rewrite, so that
	// reading holds at most this much (or one larger frame) at a time.
	rewriteChunk = 1 << 20
)

// putWriteHeader fills the header of a write of n bytes of frames.
func putWriteHeader(h []byte, n int) {
	copy(h, writeMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(n))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(h[:8], castagnoli))
}

// writeHeaderOK reports whether h is a write header with a good checksum,
// and the length of its frames.
func writeHeaderOK(h []byte) (int64, bool) {
	if len(h) < writeHeader || string(h[:4]) != writeMagic ||
		crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint32(h[4:])), true
}

// readWrites streams the writes of f from its start, up to limit bytes
// (-1: to the end of the file). A write's frames are all checked before fn
// sees any of them. It sets *valid to the end of the last good write and
// reports whether a torn last write follows it (torn). Damage anywhere else
// is an error wrapping ErrCorrupt.
func readWrites(f *os.File, limit int64, fn func(payload []byte) error, valid *int64) (torn bool, err error) {
	if limit < 0 {
		st, err := f.Stat()
		if err != nil {
			return false, fmt.Errorf("remediation: read journal: %w", err)
		}
		limit = st.Size()
	}
	sr := io.NewSectionReader(f, 0, limit)
	var hdr [writeHeader]byte
	var body []byte
	var frames [][]byte
	off := int64(0)
	*valid = 0
	for off < limit {
		if limit-off < writeHeader {
			return true, nil // the header itself was cut
		}
		if _, err := sr.ReadAt(hdr[:], off); err != nil {
			return false, fmt.Errorf("remediation: read journal: %w", err)
		}
		n, ok := writeHeaderOK(hdr[:])
		if !ok {
			return badHeader(sr, off, limit)
		}
		end := off + writeHeader + n
		if end > limit {
			return true, nil // the write's frames were cut
		}
		if int64(cap(body)) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := sr.ReadAt(body, off+writeHeader); err != nil {
			return false, fmt.Errorf("remediation: read journal: %w", err)
		}
		frames = frames[:0]
		if bad := splitFrames(body, &frames); bad >= 0 {
			if last, err := onlyZeros(sr, end, limit); err != nil || last {
				return last, err
			}
			return false, fmt.Errorf("%w: bad frame at offset %d, in the write at %d, which is not the last", ErrCorrupt, off+writeHeader+int64(bad), off)
		}
		for _, p := range frames {
			if err := fn(p); err != nil {
				return false, err
			}
		}
		off = end
		*valid = off
	}
	return false, nil
}

// splitFrames appends the payloads of the frames in b to *out. It returns
// the offset of the first bad frame, or -1 when every frame is good and
// they fill b exactly.
func splitFrames(b []byte, out *[][]byte) int {
	for off := 0; off < len(b); {
		p, n, ok := nextFrame(b[off:])
		if !ok {
			return off
		}
		*out = append(*out, p)
		off += n
	}
	return -1
}

// badHeader decides what a damaged write header at off is. It is a torn
// last write when no good write follows it; otherwise, and when it is the
// first frame of a file in the format before write headers, it is damage.
func badHeader(sr *io.SectionReader, off, limit int64) (bool, error) {
	if off == 0 && oldFormat(sr, limit) {
		return false, fmt.Errorf("%w: the file is in the journal format of an earlier version (frames without write headers); it cannot be read by this one", ErrCorrupt)
	}
	next, err := findWrite(sr, off+1, limit)
	if err != nil {
		return false, err
	}
	if next >= 0 {
		return false, fmt.Errorf("%w: bad write header at offset %d, with a good write at %d after it", ErrCorrupt, off, next)
	}
	return true, nil
}

// oldFormat reports whether the file starts with a good frame of the
// format before write headers.
func oldFormat(sr *io.SectionReader, limit int64) bool {
	var h [frameHeader]byte
	if limit < frameHeader {
		return false
	}
	if _, err := sr.ReadAt(h[:], 0); err != nil {
		return false
	}
	n := int64(binary.LittleEndian.Uint32(h[:]))
	if n == 0 || n > maxFrame || frameHeader+n > limit {
		return false
	}
	p := make([]byte, n)
	if _, err := sr.ReadAt(p, frameHeader); err != nil {
		return false
	}
	return crc32.Checksum(p, castagnoli) == binary.LittleEndian.Uint32(h[4:])
}

// findWrite returns the offset of the first write at or after from, before
// limit, whose header and frames are good, or -1.
func findWrite(sr *io.SectionReader, from, limit int64) (int64, error) {
	const block = 1 << 16
	buf := make([]byte, block+writeHeader)
	var frames [][]byte
	for pos := from; pos < limit; pos += block {
		n, err := sr.ReadAt(buf, pos)
		if err != nil && err != io.EOF {
			return -1, fmt.Errorf("remediation: read journal: %w", err)
		}
		b := buf[:n]
		for i := 0; i < len(b) && i < block; {
			k := bytes.Index(b[i:], []byte(writeMagic))
			if k < 0 || i+k >= block {
				break
			}
			at := pos + int64(i+k)
			var h [writeHeader]byte
			if _, err := sr.ReadAt(h[:], at); err == nil {
				if m, ok := writeHeaderOK(h[:]); ok && at+writeHeader+m <= limit {
					body := make([]byte, m)
					if _, err := sr.ReadAt(body, at+writeHeader); err == nil {
						frames = frames[:0]
						if splitFrames(body, &frames) < 0 {
							return at, nil
						}
					}
				}
			}
			i += k + 1
		}
	}
	return -1, nil
}

// onlyZeros reports whether the bytes from off to limit are all zero: a
// file extended by a write whose data never reached the disk.
func onlyZeros(sr *io.SectionReader, off, limit int64) (bool, error) {
	buf := make([]byte, 1<<16)
	for off < limit {
		n, err := sr.ReadAt(buf[:min(int64(len(buf)), limit-off)], off)
		if !allZero(buf[:n]) {
			return false, nil
		}
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("remediation: read journal: %w", err)
		}
		if n == 0 {
			break
		}
		off += int64(n)
	}
	return true, nil
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
		n, werr := j.writeSync(j.f, data)
		j.mu.Lock()
		j.spare = data[:0]
		j.flushing = false
		if werr != nil {
			j.err = fmt.Errorf("remediation: write journal: %w", werr)
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

// writeSync writes data, a run of frames, to f as one write (header and
// frames) and, unless NoSync, fsyncs it. It returns the bytes written.
func (j *FileJournal) writeSync(f *os.File, data []byte) (int64, error) {
	if len(data) == 0 {
		return 0, nil
	}
	var h [writeHeader]byte
	putWriteHeader(h[:], len(data))
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
		_, err = readWrites(f, limit, decodeEach(ctx, yield), &valid)
		if err == nil && valid != limit {
			err = fmt.Errorf("%w: read %d of %d durable bytes", ErrCorrupt, valid, limit)
		}
		if err != nil && !errors.Is(err, errStop) {
			yield(Entry{}, err)
		}
	}
}

// TornBytes returns how many bytes of a torn last write [OpenFileJournal]
// cut off the file: entries whose Append never returned, because the
// process or the machine stopped while they were written. It is 0 when
// the file was whole.
func (j *FileJournal) TornBytes() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cut
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
