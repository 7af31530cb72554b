package journal

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// The encoding. Every entry is a frame:
//
//	u32 length of payload (little endian) | u32 CRC-32C of payload | payload
//
// The payload starts with the kind byte. Records and calendar steps are
// JSON. Intents and outcomes are binary: strings are interned (the first
// occurrence is written out and numbered, later ones are a varint
// reference), folder and UIDVALIDITY are written only when they change
// from the previous copy, and UIDs are zig-zag varint deltas. The file
// journal groups frames in writes, each behind a checked header (see
// writeMagic).

// ErrCorrupt means a journal is damaged somewhere other than a torn last
// write, or is in a format this version cannot read. Opening, replaying
// or rewriting such a journal gives an error wrapping it.
var ErrCorrupt = errors.New("journal: corrupt")

const (
	frameHeader = 8
	maxFrame    = 1 << 28
	maxDict     = 1 << 20 // interned strings per journal
	maxInterned = 256     // longer strings are never interned
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// dict interns strings. Encoder and decoder grow it identically.
type dict struct {
	idx  map[string]uint32
	strs []string
}

func newDict() *dict { return &dict{idx: make(map[string]uint32)} }

func (d *dict) putStr(b []byte, s string) []byte {
	if i, ok := d.idx[s]; ok {
		return binary.AppendUvarint(b, uint64(i)+1)
	}
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, uint64(len(s)))
	b = append(b, s...)
	if len(s) <= maxInterned && len(d.strs) < maxDict {
		d.idx[s] = uint32(len(d.strs))
		d.strs = append(d.strs, s)
	}
	return b
}

func putRaw(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errShort = errors.New("journal: journal entry truncated")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) raw() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) str(d *dict) string {
	ref := r.uvarint()
	if r.err != nil {
		return ""
	}
	if ref > 0 {
		if ref-1 >= uint64(len(d.strs)) {
			r.err = fmt.Errorf("%w: string reference %d out of range", ErrCorrupt, ref)
			return ""
		}
		return d.strs[ref-1]
	}
	s := r.raw()
	if r.err == nil && len(s) <= maxInterned && len(d.strs) < maxDict {
		d.idx[s] = uint32(len(d.strs))
		d.strs = append(d.strs, s)
	}
	return s
}

// appendFrame encodes e as a frame at the end of b.
func appendFrame(b []byte, d *dict, e remediation.Entry) ([]byte, error) {
	start := len(b)
	b = append(b, make([]byte, frameHeader)...)
	b = append(b, byte(e.Kind))
	switch e.Kind {
	case remediation.EntryRecord, remediation.EntryCalendar:
		var v any = e.Record
		if e.Kind == remediation.EntryCalendar {
			v = e.Calendar
		}
		js, err := json.Marshal(v)
		if err != nil {
			return b[:start], err
		}
		b = append(b, js...)
	case remediation.EntryIntent:
		b = appendIntent(b, d, e.Intent)
	case remediation.EntryOutcomes:
		b = appendOutcomes(b, d, e.Outcomes)
	default:
		return b[:start], fmt.Errorf("journal: unknown journal entry kind %d", e.Kind)
	}
	payload := b[start+frameHeader:]
	if len(payload) > maxFrame {
		return b[:start], fmt.Errorf("journal: journal entry of %d bytes is too large", len(payload))
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b, nil
}

// uidDelta is cur - prev: consecutive UIDs are close, so the difference is
// short as a varint (binary.AppendVarint zig-zag encodes it).
func uidDelta(prev, cur uint32) int64 { return int64(cur) - int64(prev) }

func appendIntent(b []byte, d *dict, in *remediation.Intent) []byte {
	b = d.putStr(b, in.RecordID)
	b = binary.AppendUvarint(b, in.Seq)
	b = d.putStr(b, in.Mailbox)
	b = d.putStr(b, string(in.To.Role))
	b = d.putStr(b, in.To.Folder)
	b = binary.AppendUvarint(b, uint64(len(in.Copies)))
	var folder string
	var role mailbox.Role
	var uv, uid uint32
	for i, c := range in.Copies {
		// The flag: icNewFolder, then folder and UIDVALIDITY follow;
		// icRole, then the role follows (a copy of another role in the
		// same folder sets it alone).
		if i == 0 || c.Folder != folder || c.UIDValidity != uv || c.Role != role {
			var flag byte = icNewFolder
			if c.Role != "" {
				flag |= icRole
			}
			b = append(b, flag)
			b = d.putStr(b, c.Folder)
			b = binary.AppendUvarint(b, uint64(c.UIDValidity))
			if c.Role != "" {
				b = d.putStr(b, string(c.Role))
			}
			folder, uv, role = c.Folder, c.UIDValidity, c.Role
		} else {
			b = append(b, 0)
		}
		b = binary.AppendVarint(b, uidDelta(uid, c.UID))
		uid = c.UID
		b = d.putStr(b, c.MessageID)
	}
	return b
}

func readIntent(r *reader, d *dict) *remediation.Intent {
	in := &remediation.Intent{}
	in.RecordID = r.str(d)
	in.Seq = r.uvarint()
	in.Mailbox = r.str(d)
	in.To.Role = mailbox.Role(r.str(d))
	in.To.Folder = r.str(d)
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	in.Copies = make([]remediation.IntentCopy, 0, n)
	var folder string
	var role mailbox.Role
	var uv, uid uint32
	for range n {
		switch flag := r.byte(); {
		case flag == 0:
		case flag&^(icNewFolder|icRole) != 0 || flag&icNewFolder == 0:
			r.err = fmt.Errorf("%w: intent copy flag %#x", ErrCorrupt, flag)
			return nil
		default:
			folder = r.str(d)
			uv = uint32(r.uvarint())
			role = ""
			if flag&icRole != 0 {
				role = mailbox.Role(r.str(d))
			}
		}
		uid = uint32(int64(uid) + r.varint())
		in.Copies = append(in.Copies, remediation.IntentCopy{Folder: folder, UIDValidity: uv, UID: uid, MessageID: r.str(d), Role: role})
		if r.err != nil {
			return nil
		}
	}
	return in
}

// The flag before each copy of an intent.
const (
	icNewFolder = 1 << 0
	icRole      = 1 << 1
)

const (
	ofNewFrom   = 1 << 0
	ofHasTo     = 1 << 1
	ofNewTo     = 1 << 2
	ofHasDetail = 1 << 3
	ofKindShift = 4
	ofKindMask  = 7
	ofRetry     = 1 << 7
)

func appendOutcomes(b []byte, d *dict, ob *remediation.OutcomeBatch) []byte {
	b = d.putStr(b, ob.RecordID)
	b = binary.AppendUvarint(b, ob.Seq)
	b = d.putStr(b, ob.Mailbox)
	if ob.Done {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ob.Items)))
	var from, to mailbox.Address
	for i, o := range ob.Items {
		flags := byte(o.Kind) << ofKindShift
		newFrom := i == 0 || o.Copy.Folder != from.Folder || o.Copy.UIDValidity != from.UIDValidity
		hasTo := !o.To.IsZero()
		newTo := hasTo && (o.To.Folder != to.Folder || o.To.UIDValidity != to.UIDValidity)
		if newFrom {
			flags |= ofNewFrom
		}
		if hasTo {
			flags |= ofHasTo
		}
		if newTo {
			flags |= ofNewTo
		}
		if o.Detail != "" {
			flags |= ofHasDetail
		}
		if o.Retry {
			flags |= ofRetry
		}
		b = append(b, flags)
		if newFrom {
			b = d.putStr(b, o.Copy.Folder)
			b = binary.AppendUvarint(b, uint64(o.Copy.UIDValidity))
		}
		b = binary.AppendVarint(b, uidDelta(from.UID, o.Copy.UID))
		from = o.Copy
		if hasTo {
			if newTo {
				b = d.putStr(b, o.To.Folder)
				b = binary.AppendUvarint(b, uint64(o.To.UIDValidity))
			}
			b = binary.AppendVarint(b, uidDelta(to.UID, o.To.UID))
			to = o.To
		}
		b = d.putStr(b, o.MessageID)
		if o.Detail != "" {
			b = putRaw(b, o.Detail)
		}
	}
	return b
}

func readOutcomes(r *reader, d *dict) *remediation.OutcomeBatch {
	ob := &remediation.OutcomeBatch{}
	ob.RecordID = r.str(d)
	ob.Seq = r.uvarint()
	ob.Mailbox = r.str(d)
	ob.Done = r.byte() == 1
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	ob.Items = make([]remediation.Outcome, 0, n)
	var from, to mailbox.Address
	from.Mailbox, to.Mailbox = ob.Mailbox, ob.Mailbox
	for range n {
		flags := r.byte()
		var o remediation.Outcome
		o.Kind = remediation.OutcomeKind(flags >> ofKindShift & ofKindMask)
		o.Retry = flags&ofRetry != 0
		if flags&ofNewFrom != 0 {
			from.Folder = r.str(d)
			from.UIDValidity = uint32(r.uvarint())
		}
		from.UID = uint32(int64(from.UID) + r.varint())
		o.Copy = from
		if flags&ofHasTo != 0 {
			if flags&ofNewTo != 0 {
				to.Folder = r.str(d)
				to.UIDValidity = uint32(r.uvarint())
			}
			to.UID = uint32(int64(to.UID) + r.varint())
			o.To = to
		}
		o.MessageID = r.str(d)
		if flags&ofHasDetail != 0 {
			o.Detail = r.raw()
		}
		if r.err != nil {
			return nil
		}
		ob.Items = append(ob.Items, o)
	}
	return ob
}

// decodePayload decodes one frame's payload (CRC already checked).
func decodePayload(p []byte, d *dict) (remediation.Entry, error) {
	if len(p) == 0 {
		return remediation.Entry{}, fmt.Errorf("%w: empty entry", ErrCorrupt)
	}
	e := remediation.Entry{Kind: remediation.EntryKind(p[0])}
	r := &reader{b: p[1:]}
	switch e.Kind {
	case remediation.EntryRecord:
		e.Record = new(remediation.Record)
		if err := json.Unmarshal(r.b, e.Record); err != nil {
			return remediation.Entry{}, fmt.Errorf("%w: record: %v", ErrCorrupt, err)
		}
	case remediation.EntryCalendar:
		e.Calendar = new(remediation.CalendarStep)
		if err := json.Unmarshal(r.b, e.Calendar); err != nil {
			return remediation.Entry{}, fmt.Errorf("%w: calendar step: %v", ErrCorrupt, err)
		}
	case remediation.EntryIntent:
		e.Intent = readIntent(r, d)
	case remediation.EntryOutcomes:
		e.Outcomes = readOutcomes(r, d)
	default:
		return remediation.Entry{}, fmt.Errorf("%w: unknown entry kind %d", ErrCorrupt, e.Kind)
	}
	if r.err != nil {
		return remediation.Entry{}, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
	}
	return e, nil
}

// nextFrame reads the frame at the start of b: its payload and length,
// or ok false when b does not start with a whole, good frame.
func nextFrame(b []byte) (payload []byte, size int, ok bool) {
	if len(b) < frameHeader {
		return nil, 0, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n == 0 || n > maxFrame || frameHeader+n > len(b) {
		return nil, 0, false
	}
	p := b[frameHeader : frameHeader+n]
	if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, false
	}
	return p, frameHeader + n, true
}

// scanFrames calls fn for the payload of each frame in b, which holds
// whole frames only (a Memory's buffer).
func scanFrames(b []byte, fn func(payload []byte) error) error {
	for off := 0; off < len(b); {
		p, n, ok := nextFrame(b[off:])
		if !ok {
			return fmt.Errorf("%w: bad frame at offset %d", ErrCorrupt, off)
		}
		if err := fn(p); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// appendEntries is the Append encoder of both journals: it appends the
// frames of entries to buf, interning strings in d, and returns the grown
// buffer. *sticky is the journal's sticky error: when it is set nothing
// is encoded and it is returned. When an entry cannot be encoded, nothing
// of the call stays (buf comes back at its length on entry), the error is
// returned and *sticky set: the call's interned strings stay numbered in
// d, so the journal refuses further appends rather than write references
// to strings it never wrote.
// With a chain c, the call's entries are sealed (see sealKind).
func appendEntries(buf []byte, d *dict, sticky *error, entries []remediation.Entry, c *Chain) ([]byte, error) {
	if *sticky != nil {
		return buf, *sticky
	}
	start := len(buf)
	for _, e := range entries {
		var err error
		if buf, err = appendFrame(buf, d, e); err != nil {
			*sticky = fmt.Errorf("journal: journal unusable after encoding error: %w", err)
			return buf[:start], err
		}
	}
	if c != nil {
		buf = appendSeal(buf, start, c)
	}
	return buf, nil
}

var errStop = errors.New("stop")

func replayBytes(ctx context.Context, b []byte, cc *chainCheck, yield func(remediation.Entry, error) bool) {
	err := scanFrames(b, decodeEach(ctx, cc, yield))
	if err == nil {
		err = cc.end()
	}
	if err != nil && !errors.Is(err, errStop) {
		yield(remediation.Entry{}, err)
	}
}

// decodeEach returns a frame callback for a replay: it decodes each
// payload with one dictionary shared by the whole replay, checks the
// chain's seals (cc), yields the entries, checks ctx every 1024 frames
// and returns errStop when yield stops. The caller calls cc.end at the
// end of the frames.
func decodeEach(ctx context.Context, cc *chainCheck, yield func(remediation.Entry, error) bool) func([]byte) error {
	i := 0
	emit := func(e remediation.Entry) error {
		if !yield(e, nil) {
			return errStop
		}
		return nil
	}
	return func(p []byte) error {
		if i++; i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return cc.frame(p, emit)
	}
}
