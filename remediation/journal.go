package remediation

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"iter"
	"sync"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Journal is the durable log of the action center. The engine writes every
// record change, every batch's intent before the batch moves, and every
// batch's outcomes after it; replaying the journal rebuilds the action
// center and tells [Engine.Resume] what was in flight.
//
// Implementations are safe for concurrent use. Entries passed to one Append
// call are written together and in order; entries of concurrent calls may
// interleave only between calls.
type Journal interface {
	// Append writes entries. It returns only when they are durable (for a
	// file: written and fsync'd), or with an error. ctx is checked before
	// writing: a done ctx gives an error wrapping ctx.Err() and writes
	// nothing; a write already under way is not abandoned. After any other
	// error the journal refuses further appends. Implementations must not
	// keep entries, or slices they hold, after Append returns: callers
	// reuse them.
	Append(ctx context.Context, entries ...Entry) error
	// Replay streams every entry appended so far, in order. Entries
	// appended while it runs may or may not be included.
	Replay(ctx context.Context) iter.Seq2[Entry, error]
	// Close releases the journal; later calls fail with ErrClosed.
	Close() error
}

// EntryKind is the kind of a journal [Entry].
type EntryKind uint8

// Entry kinds.
const (
	EntryRecord   EntryKind = 1 // a snapshot of a record (everything but outcomes)
	EntryIntent   EntryKind = 2 // copies about to be acted on
	EntryOutcomes EntryKind = 3 // the outcomes of an intent
	EntryCalendar EntryKind = 4 // calendar work of an action
)

// Entry is one journal entry. Exactly the field of its Kind is set.
type Entry struct {
	// Kind says which of the fields below is set.
	Kind EntryKind
	// Record is the snapshot of an [EntryRecord]: the record as it was
	// when written. Replay keeps the last snapshot of an ID and adds the
	// outcomes and calendar decisions journaled after it.
	Record *Record
	// Intent is the batch of an [EntryIntent].
	Intent *Intent
	// Outcomes are the outcomes of an [EntryOutcomes].
	Outcomes *OutcomeBatch
	// Calendar is the calendar work of an [EntryCalendar].
	Calendar *CalendarStep
}

// Intent lists the copies of one mailbox an action is about to act on,
// written durably before anything moves.
type Intent struct {
	// Action is the ID of the action's record.
	Action string
	// Seq numbers the batches of an action; the outcomes of this intent
	// carry the same Seq.
	Seq uint64
	// Mailbox is the owner of the mailbox every copy of the intent is in.
	Mailbox string
	// To is the destination; the zero Location means a purge.
	To mailbox.Location
	// Copies are the copies about to be acted on, in the order of the
	// backend call.
	Copies []IntentCopy
}

// IntentCopy is one copy of an [Intent]: its address and Message-ID (so a
// copy that left its source during a crash can be found at the
// destination).
type IntentCopy struct {
	// Folder is the folder the copy is in before the action (the mailbox
	// is the intent's).
	Folder string
	// UIDValidity is the UIDVALIDITY of Folder that UID belongs to.
	UIDValidity uint32
	// UID is the copy's UID in Folder.
	UID uint32
	// MessageID is the copy's Message-ID without angle brackets; "" when
	// unknown. Reconciliation after a crash looks the copy up by it, at
	// its source and at the destination.
	MessageID string
	// Role is the role of Folder when the action selected the copy; ""
	// when unknown. Resume applies the invites of a copy that a
	// MoveToInbox took out of quarantine by it.
	Role mailbox.Role
}

// OutcomeBatch holds the outcomes of one intent (or, with Seq 0, of
// copies guards skipped, of copies found again after their folder was
// renumbered, or the failures of a batch whose backend call failed as a
// whole and which stays in flight for [Engine.Resume]).
type OutcomeBatch struct {
	// Action is the ID of the action's record.
	Action string
	// Seq is the Seq of the intent these outcomes close; 0 when they close
	// none (skips left over at the end of a mailbox, the failures of a
	// batch left in flight, or only the Done mark). A batch that closes an intent may also carry the skips
	// decided before it.
	Seq uint64
	// Mailbox is the owner of the mailbox of every outcome's Copy and To:
	// the journal stores it once per batch, not per outcome.
	Mailbox string
	// Done marks the last batch of a mailbox: the mailbox is finished.
	Done bool
	// Items are the outcomes, one per copy. It may be empty: a batch that
	// only marks the mailbox done, or that closes an intent whose copies
	// all had outcomes already.
	Items []Outcome
}

// CalendarStep is calendar work of an action. A plan lists invite series
// found in copies about to be purged (written before the purge); the
// decisions record what was done (written after).
type CalendarStep struct {
	// Action is the ID of the action's record.
	Action string `json:"action"`
	// Seq is the Seq of the batch (intent) whose copies carried the
	// invites; the plan and the decisions of one batch share it.
	Seq uint64 `json:"seq"`
	// Plan lists the invite series still to be handled: all of them
	// before the purge, those not yet done after a failure. A later step
	// of the same Seq with an empty Plan closes the batch's calendar work;
	// until then [Engine.Resume] carries out the last Plan written.
	Plan []SeriesRef `json:"plan,omitempty"`
	// Decisions are what was done to calendar entries since the previous
	// step; replay appends them to [Record.Calendar].
	Decisions []CalendarDecision `json:"decisions,omitempty"`
	// Removed are the entries an action with RemoveInvites is about to
	// remove, whole, for its undo to put back: they are journaled before
	// they are removed. They stay in the journal only (not in the record).
	Removed []RemovedEntry `json:"removed,omitempty"`
}

// RemovedEntry is a calendar entry an action with RemoveInvites removed
// or reverted, as it was stored.
type RemovedEntry struct {
	// Owner is the calendar owner.
	Owner string `json:"owner"`
	// Calendar is the id of the calendar that held the entry.
	Calendar string `json:"calendar"`
	// UID is the entry's iCalendar UID.
	UID string `json:"uid"`
	// Organizer is the entry's organizer, lower-cased, without "mailto:".
	Organizer string `json:"organizer,omitempty"`
	// Provenance is the entry's provenance, restored with it.
	Provenance calendar.Provenance `json:"provenance"`
	// Raw is the entry's iCalendar text, byte for byte (JSON would
	// replace invalid UTF-8 in a string).
	Raw []byte `json:"raw"`
	// Reverted reports an entry put back as it was before a purged
	// update (its Provenance.Previous) rather than removed; the undo puts
	// this version back over the reverted one.
	Reverted bool `json:"reverted,omitempty"`
}

// SeriesRef names an invite series carried by one copy of one owner.
type SeriesRef struct {
	// Owner is the owner of the mailbox holding the copy, whose calendars
	// are cleaned.
	Owner string `json:"owner"`
	// MessageID is the message's Message-ID without angle brackets (the
	// header's, else the one selected); the invite entries that message
	// created are removed whatever their UID (see
	// calendar.RemoveInviteEntries).
	MessageID string `json:"message_id,omitempty"`
	// UID is the invite's iCalendar UID; "" when Err is set.
	UID string `json:"uid,omitempty"`
	// Organizer is the invite's normalized ORGANIZER address; "" when
	// Err is set or the invite names none.
	Organizer string `json:"organizer,omitempty"`
	// Err is set when the invite could not be read.
	Err string `json:"err,omitempty"`
}

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

var errShort = errors.New("remediation: journal entry truncated")

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
func appendFrame(b []byte, d *dict, e Entry) ([]byte, error) {
	start := len(b)
	b = append(b, make([]byte, frameHeader)...)
	b = append(b, byte(e.Kind))
	switch e.Kind {
	case EntryRecord, EntryCalendar:
		var v any = e.Record
		if e.Kind == EntryCalendar {
			v = e.Calendar
		}
		js, err := json.Marshal(v)
		if err != nil {
			return b[:start], err
		}
		b = append(b, js...)
	case EntryIntent:
		b = appendIntent(b, d, e.Intent)
	case EntryOutcomes:
		b = appendOutcomes(b, d, e.Outcomes)
	default:
		return b[:start], fmt.Errorf("remediation: unknown journal entry kind %d", e.Kind)
	}
	payload := b[start+frameHeader:]
	if len(payload) > maxFrame {
		return b[:start], fmt.Errorf("remediation: journal entry of %d bytes is too large", len(payload))
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b, nil
}

// uidDelta is cur - prev: consecutive UIDs are close, so the difference is
// short as a varint (binary.AppendVarint zig-zag encodes it).
func uidDelta(prev, cur uint32) int64 { return int64(cur) - int64(prev) }

func appendIntent(b []byte, d *dict, in *Intent) []byte {
	b = d.putStr(b, in.Action)
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

func readIntent(r *reader, d *dict) *Intent {
	in := &Intent{}
	in.Action = r.str(d)
	in.Seq = r.uvarint()
	in.Mailbox = r.str(d)
	in.To.Role = mailbox.Role(r.str(d))
	in.To.Folder = r.str(d)
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	in.Copies = make([]IntentCopy, 0, n)
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
		in.Copies = append(in.Copies, IntentCopy{Folder: folder, UIDValidity: uv, UID: uid, MessageID: r.str(d), Role: role})
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

func appendOutcomes(b []byte, d *dict, ob *OutcomeBatch) []byte {
	b = d.putStr(b, ob.Action)
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

func readOutcomes(r *reader, d *dict) *OutcomeBatch {
	ob := &OutcomeBatch{}
	ob.Action = r.str(d)
	ob.Seq = r.uvarint()
	ob.Mailbox = r.str(d)
	ob.Done = r.byte() == 1
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	ob.Items = make([]Outcome, 0, n)
	var from, to mailbox.Address
	from.Mailbox, to.Mailbox = ob.Mailbox, ob.Mailbox
	for range n {
		flags := r.byte()
		var o Outcome
		o.Kind = OutcomeKind(flags >> ofKindShift & ofKindMask)
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
func decodePayload(p []byte, d *dict) (Entry, error) {
	if len(p) == 0 {
		return Entry{}, fmt.Errorf("%w: empty entry", ErrCorrupt)
	}
	e := Entry{Kind: EntryKind(p[0])}
	r := &reader{b: p[1:]}
	switch e.Kind {
	case EntryRecord:
		e.Record = new(Record)
		if err := json.Unmarshal(r.b, e.Record); err != nil {
			return Entry{}, fmt.Errorf("%w: record: %v", ErrCorrupt, err)
		}
	case EntryCalendar:
		e.Calendar = new(CalendarStep)
		if err := json.Unmarshal(r.b, e.Calendar); err != nil {
			return Entry{}, fmt.Errorf("%w: calendar step: %v", ErrCorrupt, err)
		}
	case EntryIntent:
		e.Intent = readIntent(r, d)
	case EntryOutcomes:
		e.Outcomes = readOutcomes(r, d)
	default:
		return Entry{}, fmt.Errorf("%w: unknown entry kind %d", ErrCorrupt, e.Kind)
	}
	if r.err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
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
// whole frames only (a MemoryJournal's buffer).
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

// MemoryJournal is a [Journal] held in memory, in the same compact encoding
// as the file journal. It is safe for concurrent use.
type MemoryJournal struct {
	mu     sync.Mutex
	buf    []byte
	enc    *dict
	err    error // sticky: an Append failed while encoding
	closed bool
}

var _ Journal = (*MemoryJournal)(nil)

// NewMemoryJournal returns an empty in-memory journal.
func NewMemoryJournal() *MemoryJournal { return &MemoryJournal{enc: newDict()} }

// Append implements [Journal]. Entries are durable as soon as it returns
// (for the life of the process).
func (j *MemoryJournal) Append(ctx context.Context, entries ...Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	var err error
	j.buf, err = appendEntries(j.buf, j.enc, &j.err, entries)
	return err
}

// appendEntries is the Append encoder of both journals: it appends the
// frames of entries to buf, interning strings in d, and returns the grown
// buffer. *sticky is the journal's sticky error: when it is set nothing
// is encoded and it is returned. When an entry cannot be encoded, nothing
// of the call stays (buf comes back at its length on entry), the error is
// returned and *sticky set: the call's interned strings stay numbered in
// d, so the journal refuses further appends rather than write references
// to strings it never wrote.
func appendEntries(buf []byte, d *dict, sticky *error, entries []Entry) ([]byte, error) {
	if *sticky != nil {
		return buf, *sticky
	}
	start := len(buf)
	for _, e := range entries {
		var err error
		if buf, err = appendFrame(buf, d, e); err != nil {
			*sticky = fmt.Errorf("remediation: journal unusable after encoding error: %w", err)
			return buf[:start], err
		}
	}
	return buf, nil
}

// Replay implements [Journal].
func (j *MemoryJournal) Replay(ctx context.Context) iter.Seq2[Entry, error] {
	j.mu.Lock()
	b := j.buf[:len(j.buf):len(j.buf)]
	closed := j.closed
	j.mu.Unlock()
	return func(yield func(Entry, error) bool) {
		if closed {
			yield(Entry{}, ErrClosed)
			return
		}
		replayBytes(ctx, b, yield)
	}
}

// Size returns the number of bytes the journal holds.
func (j *MemoryJournal) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return int64(len(j.buf))
}

// Close implements [Journal].
func (j *MemoryJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	j.buf = nil
	return nil
}

var errStop = errors.New("stop")

func replayBytes(ctx context.Context, b []byte, yield func(Entry, error) bool) {
	err := scanFrames(b, decodeEach(ctx, yield))
	if err != nil && !errors.Is(err, errStop) {
		yield(Entry{}, err)
	}
}

// decodeEach returns a frame callback for a replay: it decodes each
// payload with one dictionary shared by the whole replay, yields the entry,
// checks ctx every 1024 entries and returns errStop when yield stops.
func decodeEach(ctx context.Context, yield func(Entry, error) bool) func([]byte) error {
	d := newDict()
	i := 0
	return func(p []byte) error {
		if i++; i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		e, err := decodePayload(p, d)
		if err != nil {
			return err
		}
		if !yield(e, nil) {
			return errStop
		}
		return nil
	}
}
