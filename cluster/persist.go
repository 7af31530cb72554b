package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// ErrBadEntry means an entry of a [Log] cannot be read: it is truncated
// or corrupt, or was written by a newer version of this package.
var ErrBadEntry = errors.New("cluster: unreadable log entry")

// Log is durable storage for what an [Index] learns, so that a restarted
// process rebuilds the same clusters ([Open]): every message added with
// its indicators, every copy added to a message already indexed, and every
// malicious verdict ([Index.MarkMalicious]), as opaque entries in the
// order they happened. The package hunt/sqlstore implements it beside the
// events index, on SQLite and PostgreSQL.
//
// Implementations are safe for concurrent use; a done ctx ends a call
// with an error wrapping ctx.Err().
type Log interface {
	// AppendClusterEntries stores entries after those stored before, all
	// of them or none. The entries must not be kept after it returns
	// (copy them).
	AppendClusterEntries(ctx context.Context, entries [][]byte) error
	// ClusterEntries streams every stored entry in the order appended.
	// A read failure is yielded as an error, after which the sequence
	// ends.
	ClusterEntries(ctx context.Context) iter.Seq2[[]byte, error]
}

// Open returns an Index rebuilt from the entries of log, which then
// records in log what the index learns: every [Index.Add] (and
// [Index.AddAll], [Index.AddStore]) and [Index.MarkMalicious] queues an
// entry, and [Index.Flush] writes the queued entries. A new log gives an
// empty index. opts may be nil; the options should be those the index
// had before the restart (the log keeps what the index was given, not
// how it was configured, so new options re-cluster the same mail).
//
// Rebuilding replays the entries in order, so the index has the clusters,
// members, copies, benign and shared states and verdicts it had when the
// last entry was written. It costs about what adding the messages cost:
// some 19 CPU-seconds for a million messages read from a SQLite file
// (BenchmarkClusterRestart in hunt/sqlstore), the log read and decoded on
// a second goroutine. An entry that
// cannot be read stops Open with an error wrapping [ErrBadEntry] that
// names its position; nothing is skipped silently.
func Open(ctx context.Context, log Log, opts *Options) (*Index, error) {
	if log == nil {
		return nil, errors.New("cluster: Open needs a log")
	}
	x := New(opts)
	// The entries are read and decoded on a goroutine of their own while
	// this one adds them: reading and decoding cost a third of a
	// restart.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan replayBatch, 4)
	go readLog(ctx, log, batches)
	n := 0
	for b := range batches {
		for _, e := range b.entries {
			n++
			x.apply(&e)
		}
		if b.err != nil {
			cancel()
			for range batches {
			}
			if errors.Is(b.err, ErrBadEntry) {
				return nil, fmt.Errorf("cluster: log entry %d: %w", n+1, b.err)
			}
			return nil, fmt.Errorf("cluster: read the log: %w", b.err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cluster: read the log: %w", err)
	}
	x.rec = &recorder{log: log}
	return x, nil
}

// recorder queues the entries of an Index opened with a Log.
type recorder struct {
	log     Log
	flushMu sync.Mutex // one Flush at a time, so that entries keep their order
	pending [][]byte   // guarded by Index.mu
}

// Flush writes to the index's [Log] the entries queued since the last
// Flush, in order. An index made by [New] has no log: Flush does nothing.
// When the log fails, the entries stay queued for the next Flush and the
// error is returned. Call it after adding mail (the delivery tap's
// cluster indexer does, after every message) and before the process
// exits: what is queued is held in memory until then.
func (x *Index) Flush(ctx context.Context) error {
	r := x.rec
	if r == nil {
		return nil
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	x.mu.Lock()
	batch := r.pending
	r.pending = nil
	x.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := r.log.AppendClusterEntries(ctx, batch); err != nil {
		x.mu.Lock()
		r.pending = append(batch, r.pending...)
		x.mu.Unlock()
		return fmt.Errorf("cluster: write the log: %w", err)
	}
	return nil
}

// Pending returns the number of entries queued for the log and not yet
// written by [Index.Flush].
func (x *Index) Pending() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.rec == nil {
		return 0
	}
	return len(x.rec.pending)
}

// Entry kinds of the log format.
const (
	entryVersion = 1 // the first byte of every entry

	entryMessage = 1 // a message: its indicators and copies (Add)
	entryCopies  = 2 // copies of a message already indexed, by Message-ID
	entryVerdict = 3 // a key marked malicious (MarkMalicious)
)

// recordMessageLocked queues a new message for the log.
func (x *Index) recordMessageLocked(ind *Indicators, copies []mailbox.Address) {
	if x.rec != nil {
		x.rec.pending = append(x.rec.pending, encodeMessage(ind, copies))
	}
}

// recordCopiesLocked queues copies added to the message with Message-ID
// id for the log.
func (x *Index) recordCopiesLocked(id string, copies []mailbox.Address) {
	if x.rec == nil || !hasCopy(copies) {
		return
	}
	b := []byte{entryVersion, entryCopies}
	b = appendString(b, id)
	b = appendCopies(b, copies)
	x.rec.pending = append(x.rec.pending, b)
}

// recordVerdictLocked queues a malicious verdict for the log.
func (x *Index) recordVerdictLocked(k Key) {
	if x.rec == nil {
		return
	}
	b := []byte{entryVersion, entryVerdict, byte(k.Kind)}
	x.rec.pending = append(x.rec.pending, appendString(b, k.Value))
}

func hasCopy(copies []mailbox.Address) bool {
	for _, c := range copies {
		if !c.IsZero() {
			return true
		}
	}
	return false
}

// replayBatch is entries decoded from the log, in order, and the error
// that ended the log after them, if any.
type replayBatch struct {
	entries []entry
	err     error
}

// readLog sends the decoded entries of log to out in batches, then closes
// it. It stops at the first error (sent with the entries before it) and
// when ctx is done.
func readLog(ctx context.Context, log Log, out chan<- replayBatch) {
	defer close(out)
	const size = 512
	b := replayBatch{entries: make([]entry, 0, size)}
	send := func() bool {
		select {
		case out <- b:
			b = replayBatch{entries: make([]entry, 0, size)}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for raw, err := range log.ClusterEntries(ctx) {
		if err == nil {
			var e entry
			if e, err = decodeEntry(raw); err == nil {
				b.entries = append(b.entries, e)
			}
		}
		if err != nil {
			b.err = err
			send()
			return
		}
		if len(b.entries) == size && !send() {
			return
		}
	}
	if len(b.entries) > 0 {
		send()
	}
}

// apply applies a decoded log entry to x, which records nothing while it
// is rebuilt.
func (x *Index) apply(e *entry) {
	switch {
	case e.verdict:
		x.MarkMalicious(e.key)
	case e.ind != nil:
		x.Add(e.ind, e.copies...)
	default:
		x.mu.Lock()
		if v, ok := x.keys.get(x.hash(keyMessage, mailbox.NormalizeMessageID(e.id))); ok {
			x.addCopiesLocked(int32(v), e.copies)
		}
		x.mu.Unlock()
	}
}

// entry is a decoded log entry.
type entry struct {
	ind     *Indicators // a message
	id      string      // copies of the message with this Message-ID
	copies  []mailbox.Address
	verdict bool
	key     Key
}

// encodeMessage returns the log entry of a message.
func encodeMessage(ind *Indicators, copies []mailbox.Address) []byte {
	b := make([]byte, 0, 256)
	b = append(b, entryVersion, entryMessage)
	b = appendString(b, ind.MessageID)
	b = appendString(b, ind.Subject)
	b = appendString(b, ind.From)
	if ind.Date.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendVarint(b, ind.Date.Unix())
		b = binary.AppendUvarint(b, uint64(ind.Date.Nanosecond()))
	}
	b = appendString(b, ind.FromDomain)
	b = appendString(b, ind.EnvelopeDomain)
	ip, _ := ind.SenderIP.MarshalBinary()
	b = appendString(b, string(ip))
	b = binary.AppendUvarint(b, uint64(len(ind.URLs)))
	for i := range ind.URLs {
		u := &ind.URLs[i]
		b = appendString(b, u.Canonical)
		b = appendString(b, u.Host)
		b = appendString(b, u.Domain)
		b = appendString(b, u.HostPath)
		b = appendString(b, u.Template)
		b = binary.AppendUvarint(b, uint64(max(u.Unwrapped, 0)))
	}
	b = binary.AppendUvarint(b, uint64(len(ind.Files)))
	for i := range ind.Files {
		f := &ind.Files[i]
		b = appendString(b, f.Name)
		b = appendString(b, f.MediaType)
		b = binary.AppendVarint(b, f.Size)
		b = appendString(b, f.SHA256)
		b = appendString(b, f.TLSH)
		b = appendBool(b, f.Inline)
	}
	b = binary.LittleEndian.AppendUint64(b, ind.Body)
	return appendCopies(b, copies)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendCopies(b []byte, copies []mailbox.Address) []byte {
	n := 0
	for _, c := range copies {
		if !c.IsZero() {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for _, c := range copies {
		if c.IsZero() {
			continue
		}
		b = appendString(b, c.Mailbox)
		b = appendString(b, c.Folder)
		b = binary.AppendUvarint(b, uint64(c.UIDValidity))
		b = binary.AppendUvarint(b, uint64(c.UID))
	}
	return b
}

// decoder reads a log entry; the first failure sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrBadEntry, what)
	}
}

func (d *decoder) byte(what string) byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail(what + " missing")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what + " malformed")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads what binary.AppendVarint wrote: a zig-zag uvarint.
func (d *decoder) varint(what string) int64 {
	u := d.uvarint(what)
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) uint32(what string) uint32 {
	v := d.uvarint(what)
	if v > math.MaxUint32 {
		d.fail(what + " out of range")
		return 0
	}
	return uint32(v)
}

func (d *decoder) string(what string) string {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail(what + " truncated")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) bool(what string) bool {
	switch d.byte(what) {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(what + " not a boolean")
	return false
}

// count reads a number of items each at least min bytes long, refusing
// one the rest of the entry cannot hold.
func (d *decoder) count(what string, min int) int {
	n := d.uvarint(what)
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.fail(what + " larger than the entry")
		return 0
	}
	return int(n)
}

func (d *decoder) copies() []mailbox.Address {
	n := d.count("copy count", 4)
	var out []mailbox.Address
	for range n {
		a := mailbox.Address{Mailbox: d.string("copy mailbox"), Folder: d.string("copy folder"),
			UIDValidity: d.uint32("copy UIDVALIDITY"), UID: d.uint32("copy UID")}
		if d.err == nil && a.IsZero() {
			d.fail("empty copy address")
		}
		if d.err != nil {
			return nil
		}
		out = append(out, a)
	}
	return out
}

// decodeEntry reads one log entry.
func decodeEntry(raw []byte) (entry, error) {
	d := &decoder{b: raw}
	var e entry
	if v := d.byte("version"); d.err == nil && v != entryVersion {
		return e, fmt.Errorf("%w: format version %d, this program reads %d", ErrBadEntry, v, entryVersion)
	}
	switch kind := d.byte("kind"); {
	case d.err != nil:
	case kind == entryMessage:
		e.ind = d.indicators()
		e.copies = d.copies()
	case kind == entryCopies:
		e.id = d.string("Message-ID")
		e.copies = d.copies()
	case kind == entryVerdict:
		e.verdict = true
		e.key.Kind = KeyKind(d.byte("key kind"))
		e.key.Value = d.string("key value")
		if d.err == nil && (e.key.Kind < KeyFile || e.key.Kind > KeyBodyIP) {
			d.fail(fmt.Sprintf("unknown key kind %d", e.key.Kind))
		}
	default:
		d.fail(fmt.Sprintf("unknown entry kind %d", kind))
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail(fmt.Sprintf("%d bytes after the entry", len(d.b)))
	}
	if d.err != nil {
		return entry{}, d.err
	}
	return e, nil
}

func (d *decoder) indicators() *Indicators {
	ind := &Indicators{MessageID: d.string("Message-ID"), Subject: d.string("subject"), From: d.string("From")}
	if d.bool("date flag") {
		sec := d.varint("date")
		nsec := d.uvarint("date nanoseconds")
		if d.err == nil && nsec >= uint64(time.Second) {
			d.fail("date nanoseconds out of range")
		}
		ind.Date = time.Unix(sec, int64(nsec)).UTC()
	}
	ind.FromDomain = d.string("From domain")
	ind.EnvelopeDomain = d.string("envelope domain")
	if ip := d.string("sender IP"); d.err == nil && ip != "" {
		if err := ind.SenderIP.UnmarshalBinary([]byte(ip)); err != nil {
			d.fail("sender IP: " + err.Error())
		}
	}
	if n := d.count("URL count", 6); n > 0 {
		ind.URLs = make([]URL, n)
		for i := range ind.URLs {
			u := &ind.URLs[i]
			u.Canonical, u.Host, u.Domain = d.string("URL"), d.string("URL host"), d.string("URL domain")
			u.HostPath, u.Template = d.string("URL host and path"), d.string("URL template")
			u.Unwrapped = int(d.uint32("URL unwrap count"))
		}
	}
	if n := d.count("file count", 7); n > 0 {
		ind.Files = make([]File, n)
		for i := range ind.Files {
			f := &ind.Files[i]
			f.Name, f.MediaType = d.string("file name"), d.string("file media type")
			f.Size = d.varint("file size")
			f.SHA256, f.TLSH = d.string("file SHA-256"), d.string("file TLSH")
			f.Inline = d.bool("file inline flag")
		}
	}
	if d.err == nil && len(d.b) < 8 {
		d.fail("body fingerprint truncated")
	}
	if d.err != nil {
		return nil
	}
	ind.Body = binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return ind
}
