package linkscan

import "io"

// Limits on the work a [Set] does to find the links inside the attached
// files of one message, all files together. They are
// mailbox.MaxInflatePerMessage and mailbox.MaxTokensPerMessage, whose
// documentation says what they count. When one runs out, the files and
// parts of files not read yet are skipped and [Set.Truncated] reports it.
const (
	MaxInflatePerMessage = 16 << 20 // bytes decompressed
	MaxTokensPerMessage  = 1 << 20  // tags read, and passwords tried on PDF files
)

// pdfPasswordTokens is what one password tried on an AES-256 encrypted
// PDF costs in tokens: up to 64 tries per message. Older revisions cost
// 1/64 of it.
const pdfPasswordTokens = MaxTokensPerMessage / 64

// budget is the work left for reading the attached files of one message.
// Its zero value has spent nothing.
type budget struct {
	inflated  int  // bytes decompressed so far
	tokens    int  // tokens read so far
	truncated bool // a limit stopped the reading
	// scratch is reused for each decompressed part: its contents are
	// only read before the next part is.
	scratch []byte
}

// exhausted reports whether a limit has stopped the reading.
func (b *budget) exhausted() bool { return b.truncated }

// take spends n tokens; it reports false, and marks the message
// truncated, when fewer than n were left.
func (b *budget) take(n int) bool {
	if b.tokens+n > MaxTokensPerMessage {
		b.truncated = true
		return false
	}
	b.tokens += n
	return true
}

// inflate reads r, the decompressed form of a part, into the scratch
// buffer, up to the bytes left; sizeHint, when positive, is the size the
// part claims. It returns what was read, valid until the next call; when
// r held more than was left the message is marked truncated.
func (b *budget) inflate(r io.Reader, sizeHint int) []byte {
	left := MaxInflatePerMessage - b.inflated
	if left <= 0 {
		b.truncated = true
		return nil
	}
	want := min(left, 64<<10)
	if sizeHint > 0 {
		want = min(left, sizeHint)
	}
	// One byte more than is left tells whether r held more.
	if cap(b.scratch) < want+1 {
		b.scratch = make([]byte, 0, want+1)
	}
	buf := b.scratch[:0]
	for len(buf) <= left {
		if len(buf) == cap(buf) {
			next := make([]byte, len(buf), min(2*cap(buf), left+1))
			copy(next, buf)
			buf = next
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), left+1)])
		buf = buf[:len(buf)+n]
		if err != nil || n == 0 {
			break
		}
	}
	b.scratch = buf[:0]
	if len(buf) > left {
		buf = buf[:left]
		b.truncated = true
	}
	b.inflated += len(buf)
	return buf
}
