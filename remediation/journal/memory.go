package journal

import (
	"context"
	"iter"
	"sync"

	"github.com/eradicate-dev/eradicate/remediation"
)

// Memory is a [remediation.Journal] held in memory, in the same compact encoding
// as the file journal. It is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	buf    []byte
	enc    *dict
	err    error // sticky: an Append failed while encoding
	closed bool
	key    *Key
	chain  *Chain // nil without a key
}

var _ remediation.Journal = (*Memory)(nil)

// NewMemory returns an empty in-memory journal.
func NewMemory() *Memory { return &Memory{enc: newDict()} }

// NewSealedMemory returns an empty in-memory journal whose entries are
// sealed with key, as the file journal's with [FileOptions.Key].
func NewSealedMemory(key *Key) *Memory {
	return &Memory{enc: newDict(), key: key, chain: NewChain(key)}
}

// Append implements [remediation.Journal]. Entries are durable as soon as it returns
// (for the life of the process).
func (j *Memory) Append(ctx context.Context, entries ...remediation.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return remediation.ErrClosed
	}
	var err error
	j.buf, err = appendEntries(j.buf, j.enc, &j.err, entries, j.chain)
	return err
}

// Replay implements [remediation.Journal].
func (j *Memory) Replay(ctx context.Context) iter.Seq2[remediation.Entry, error] {
	j.mu.Lock()
	b := j.buf[:len(j.buf):len(j.buf)]
	closed, key := j.closed, j.key
	j.mu.Unlock()
	return func(yield func(remediation.Entry, error) bool) {
		if closed {
			yield(remediation.Entry{}, remediation.ErrClosed)
			return
		}
		replayBytes(ctx, b, newChainCheck(key, nil), yield)
	}
}

// Size returns the number of bytes the journal holds.
func (j *Memory) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return int64(len(j.buf))
}

// Close implements [remediation.Journal].
func (j *Memory) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	j.buf = nil
	return nil
}
