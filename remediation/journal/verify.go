package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/eradicate-dev/eradicate/remediation"
)

var (
	_ Verifier = (*File)(nil)
	_ Verifier = (*Memory)(nil)
)

// ErrNoKey means a journal has no key: it has no chain to verify or head
// to export.
var ErrNoKey = errors.New("journal: the journal has no key")

// Head returns the head of the journal's chain: what the Append calls
// that returned so far wrote. Export it (see [Head.String]) where the
// journal's writers cannot change it, to check later with Verify or
// [FileOptions.Heads]. It needs a key ([ErrNoKey]).
func (j *File) Head() (Head, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.chain == nil {
		return Head{}, ErrNoKey
	}
	return j.chain.Head(), nil
}

// Verify implements [Verifier]: it reads the journal's durable entries
// from the file and checks the chain, the heads given and those of
// [FileOptions.Heads]. It needs a key ([ErrNoKey]).
func (j *File) Verify(ctx context.Context, heads ...Head) (Head, error) {
	j.mu.Lock()
	limit, closed, layout := j.size, j.closed, j.layout
	j.mu.Unlock()
	if closed {
		return Head{}, remediation.ErrClosed
	}
	if j.opts.Key == nil {
		return Head{}, ErrNoKey
	}
	f, err := os.Open(j.path)
	if err != nil {
		return Head{}, fmt.Errorf("journal: verify: %w", err)
	}
	defer f.Close()
	return verifyFile(ctx, f, layout, limit, j.opts.Key, slices.Concat(heads, j.opts.Heads))
}

// VerifyFile verifies the journal file at path without opening it for
// writing (it may be open in a [File], or be a copy): it checks every
// entry's MAC with key, and that each of heads lies on the chain, and
// returns the chain's head. A torn last write is left out, as OpenFile
// would cut it off; an exported head shows whether it held entries that
// were acknowledged. A broken chain gives a [*TamperError] naming the
// first entry that does not verify.
func VerifyFile(ctx context.Context, path string, key *Key, heads ...Head) (Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return Head{}, fmt.Errorf("journal: verify: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Head{}, fmt.Errorf("journal: verify: %w", err)
	}
	var h [fileHeader]byte
	n, err := f.ReadAt(h[:], 0)
	if err != nil && err != io.EOF {
		return Head{}, fmt.Errorf("journal: verify: %w", err)
	}
	layout, ok := parseFileHeader(h[:n])
	if !ok {
		if st.Size() > fileHeader {
			return Head{}, fmt.Errorf("%w: the file does not start with a journal header", ErrCorrupt)
		}
		return verifyFile(ctx, f, fileLayout{sealed: fileHeader}, fileHeader, key, heads)
	}
	return verifyFile(ctx, f, layout, st.Size(), key, heads)
}

func verifyFile(ctx context.Context, r io.ReaderAt, layout fileLayout, limit int64, key *Key, heads []Head) (Head, error) {
	hs, err := NewHeads(key, heads)
	if err != nil {
		return Head{}, err
	}
	cc := newChainCheck(key, hs)
	var valid int64
	if limit > fileHeader {
		_, err = readWrites(r, layout, limit, decodeEach(ctx, cc, func(remediation.Entry, error) bool { return true }), &valid)
		if err != nil {
			return Head{}, err
		}
	}
	if err := cc.end(); err != nil {
		return Head{}, err
	}
	return cc.c.Head(), nil
}

// Head returns the head of the journal's chain; see [File.Head]. It
// needs a key ([NewSealedMemory]; [ErrNoKey]).
func (j *Memory) Head() (Head, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.chain == nil {
		return Head{}, ErrNoKey
	}
	return j.chain.Head(), nil
}

// Verify implements [Verifier].
func (j *Memory) Verify(ctx context.Context, heads ...Head) (Head, error) {
	j.mu.Lock()
	b, closed, key := j.buf[:len(j.buf):len(j.buf)], j.closed, j.key
	j.mu.Unlock()
	if closed {
		return Head{}, remediation.ErrClosed
	}
	if key == nil {
		return Head{}, ErrNoKey
	}
	hs, err := NewHeads(key, heads)
	if err != nil {
		return Head{}, err
	}
	cc := newChainCheck(key, hs)
	if err := scanFrames(b, decodeEach(ctx, cc, func(remediation.Entry, error) bool { return true })); err != nil {
		return Head{}, err
	}
	if err := cc.end(); err != nil {
		return Head{}, err
	}
	return cc.c.Head(), nil
}
