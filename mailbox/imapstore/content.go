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
// reads. A message bigger than maxBatchBytes is fetched alone; where
// sizes are not known, they are estimated from the messages read before
// (see batch).
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
	seen, bytes int64 // messages read and their bytes, for batch sizes
}

// uids returns the candidates of set, every message of the folder when
// all, their sizes unknown: a UID SEARCH, whose answer is one line
// (ranges with ESEARCH), costs both sides far less than fetching sizes.
func (sc *scan) uids(set imap.UIDSet, all bool) ([]candidate, error) {
	nums, ok := set.Nums()
	if all || !ok {
		var opts *imap.SearchOptions
		if sc.cn.c.Caps().Has(imap.CapESearch) {
			opts = &imap.SearchOptions{ReturnAll: true}
		}
		res, err := sc.cn.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, opts).Wait()
		if err == nil {
			nums, err = resultUIDs(res)
		}
		if err != nil {
			return nil, fmt.Errorf("imapstore: search %q of %q: %w", sc.f.Name, sc.cn.owner, err)
		}
	}
	out := make([]candidate, len(nums))
	for i, u := range nums {
		out[i] = candidate{uid: u, size: -1}
	}
	return out, nil
}

// batch returns the length of the next batch of cands: at most
// maxBatchMessages messages and maxBatchBytes bytes, at least one. A
// candidate of unknown size counts as the mean size of the messages read
// so far (seen of them, bytes in all), or maxBatchBytes/16 before the
// first.
func batch(cands []candidate, seen, bytes int64) int {
	guess := int64(maxBatchBytes / 16)
	if seen > 0 {
		guess = max(bytes/seen, 1)
	}
	n, total := 0, int64(0)
	for n < len(cands) && n < maxBatchMessages {
		size := cands[n].size
		if size < 0 {
			size = guess
		}
		if n > 0 && total+size > maxBatchBytes {
			break
		}
		total += size
		n++
	}
	return n
}

// contents fetches the candidates' contents batch by batch and returns
// those that match, by UID. Each message is parsed and matched as it
// arrives and its content dropped: a scan holds one message at a time.
// A candidate expunged meanwhile is skipped.
func (sc *scan) contents(cands []candidate) ([]mailbox.Message, error) {
	section := &imap.FetchItemBodySection{Peek: true}
	opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section}}
	var matches []mailbox.Message
	for len(cands) > 0 {
		n := batch(cands, sc.seen, sc.bytes)
		set := make(imap.UIDSet, 0, n)
		for _, c := range cands[:n] {
			set.AddNum(c.uid)
		}
		cands = cands[n:]
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
	meta, raw, ok, err := sc.readItems(msg)
	if err != nil || !ok {
		return mailbox.Message{}, false, err // not ours, or expunged meanwhile
	}
	// A malformed message still yields what could be read; matching
	// uses it rather than skipping the message.
	p, _ := mailbox.Parse(raw)
	m := p.Summary()
	fill(&m, sc.cn.owner, sc.f, sc.uidValidity, &meta)
	ok, err = sc.c.Match(&m, func() (*mailbox.Parsed, error) { return p, nil })
	if err != nil {
		return mailbox.Message{}, false, fmt.Errorf("imapstore: match %s: %w", m.Address, err)
	}
	return m, ok, nil
}

// readItems reads one fetched message: its metadata, and its content
// into the scan's buffer. ok is false when the response is not one of a
// message with content (no UID, or expunged meanwhile).
func (sc *scan) readItems(msg *imapclient.FetchMessageData) (meta imapclient.FetchMessageBuffer, raw []byte, ok bool, err error) {
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
				raw = []byte{}
				continue
			}
			if raw, err = sc.read(item.Literal); err != nil {
				return meta, nil, false, fmt.Errorf("imapstore: fetch contents in %q of %q: %w", sc.f.Name, sc.cn.owner, err)
			}
		}
	}
	if meta.UID == 0 || !haveBody {
		return meta, nil, false, nil
	}
	sc.seen++
	sc.bytes += int64(len(raw))
	return meta, raw, true, nil
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
