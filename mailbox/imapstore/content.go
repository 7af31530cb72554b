package imapstore

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Bounds of one content batch: the messages whose contents one UID FETCH
// reads. A message bigger than maxBatchBytes is fetched alone.
const (
	maxBatchMessages = 500
	maxBatchBytes    = 8 << 20
)

// keepBuffer is the largest read buffer a scan keeps for the next
// message; a bigger message gets a buffer of its own, dropped after it.
const keepBuffer = 1 << 20

// candidate is a message whose content a criterion needs.
type candidate struct {
	uid  imap.UID
	size int64
}

// scan evaluates criteria on the contents of messages of the selected
// folder.
type scan struct {
	cn          *conn
	f           folder
	uidValidity uint32
	c           *mailbox.Criteria
	buf         []byte
}

// sizes returns the UID and size of every message of set.
func (sc *scan) sizes(set imap.UIDSet, all bool) ([]candidate, error) {
	var out []candidate
	opts := &imap.FetchOptions{UID: true, RFC822Size: true}
	for _, part := range fetchSets(set, all) {
		msgs, err := sc.cn.c.Fetch(part, opts).Collect()
		if err != nil {
			return nil, fmt.Errorf("imapstore: fetch sizes in %q of %q: %w", sc.f.Name, sc.cn.owner, err)
		}
		for _, m := range msgs {
			if m.UID != 0 {
				out = append(out, candidate{uid: m.UID, size: m.RFC822Size})
			}
		}
	}
	slices.SortFunc(out, func(a, b candidate) int { return cmp.Compare(a.uid, b.uid) })
	return out, nil
}

// batches splits candidates into batches of at most maxBatchMessages
// messages and maxBatchBytes bytes, in order.
func batches(cands []candidate) [][]candidate {
	var out [][]candidate
	start, bytes := 0, int64(0)
	for i, c := range cands {
		if i > start && (i-start == maxBatchMessages || bytes+c.size > maxBatchBytes) {
			out = append(out, cands[start:i])
			start, bytes = i, 0
		}
		bytes += c.size
	}
	if start < len(cands) {
		out = append(out, cands[start:])
	}
	return out
}

// contents fetches the candidates' contents batch by batch and returns
// those that match, by UID. Each message is parsed and matched as it
// arrives and its content dropped: a scan holds one message at a time.
// A candidate expunged meanwhile is skipped.
func (sc *scan) contents(cands []candidate) ([]mailbox.Message, error) {
	section := &imap.FetchItemBodySection{Peek: true}
	opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section}}
	var matches []mailbox.Message
	for _, batch := range batches(cands) {
		set := make(imap.UIDSet, 0, len(batch))
		for _, c := range batch {
			set.AddNum(c.uid)
		}
		cmd := sc.cn.c.Fetch(set, opts)
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			m, ok, err := sc.match(msg)
			if err != nil {
				_ = cmd.Close()
				return nil, err
			}
			if ok {
				matches = append(matches, m)
			}
		}
		if err := cmd.Close(); err != nil {
			return nil, fmt.Errorf("imapstore: fetch contents in %q of %q: %w", sc.f.Name, sc.cn.owner, err)
		}
	}
	slices.SortFunc(matches, func(a, b mailbox.Message) int { return cmp.Compare(a.Address.UID, b.Address.UID) })
	return matches, nil
}

// match reads one fetched message, parses it once (header and content)
// and matches it.
func (sc *scan) match(msg *imapclient.FetchMessageData) (mailbox.Message, bool, error) {
	var meta imapclient.FetchMessageBuffer
	var raw []byte
	haveBody := false
	for {
		item := msg.Next()
		if item == nil {
			break
		}
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			meta.UID = item.UID
		case imapclient.FetchItemDataFlags:
			meta.Flags = item.Flags
		case imapclient.FetchItemDataInternalDate:
			meta.InternalDate = item.Time
		case imapclient.FetchItemDataRFC822Size:
			meta.RFC822Size = item.Size
		case imapclient.FetchItemDataBodySection:
			haveBody = true
			if item.Literal == nil {
				raw = raw[:0]
				continue
			}
			var err error
			if raw, err = sc.read(item.Literal); err != nil {
				return mailbox.Message{}, false, fmt.Errorf("imapstore: fetch contents in %q of %q: %w", sc.f.Name, sc.cn.owner, err)
			}
		}
	}
	if meta.UID == 0 || !haveBody {
		return mailbox.Message{}, false, nil // not ours, or expunged meanwhile
	}
	// A malformed message still yields what could be read; matching
	// uses it rather than skipping the message.
	p, _ := mailbox.Parse(raw)
	m := p.Summary()
	fill(&m, sc.cn.owner, sc.f, sc.uidValidity, &meta)
	ok, err := sc.c.Match(&m, func() (*mailbox.Parsed, error) { return p, nil })
	if err != nil {
		return mailbox.Message{}, false, fmt.Errorf("imapstore: match %s: %w", m.Address, err)
	}
	return m, ok, nil
}

// read reads a literal into the scan's buffer, which a message of at most
// keepBuffer bytes reuses.
func (sc *scan) read(lit imap.LiteralReader) ([]byte, error) {
	n := lit.Size()
	var b []byte
	if n <= keepBuffer {
		if int64(cap(sc.buf)) < n {
			sc.buf = make([]byte, max(n, min(2*int64(cap(sc.buf)), keepBuffer), 64<<10))
		}
		b = sc.buf[:n]
	} else {
		b = make([]byte, n)
	}
	if _, err := io.ReadFull(lit, b); err != nil {
		return nil, err
	}
	return b, nil
}
