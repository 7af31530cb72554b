package pgjournal

import (
	"encoding/binary"
	"fmt"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A row's payload is a block of entries, in one of two formats:
//
//   - version 1 (rows written before schema version 4): each entry is a
//     uvarint length and that many bytes of its encoding
//     ([journal.MarshalEntry]), which decodes by itself; its MAC covers
//     those bytes.
//   - version 2: a zero byte (no version 1 entry has length 0), then runs:
//     a uvarint count and that many entries, each a uvarint length and
//     that many bytes, encoded by one [journal.Encoder] per run (one
//     Append call's entries), so that the strings the entries of a run
//     share are written once. An entry's MAC covers its position in its
//     run and its bytes (see macInput): an entry moved into another run,
//     where it would decode against another dictionary, does not verify.
const rowV2 = 0

// encodeBlock appends to b one run of entries (row format 2, without the
// row's leading zero byte).
func encodeBlock(b []byte, entries []remediation.Entry) ([]byte, error) {
	enc := journal.NewEncoder()
	b = binary.AppendUvarint(b, uint64(len(entries)))
	var scratch []byte
	for _, e := range entries {
		switch e.Kind {
		case remediation.EntryRecord, remediation.EntryIntent, remediation.EntryOutcomes, remediation.EntryCalendar:
		default:
			return nil, fmt.Errorf("pgjournal: unknown journal entry kind %d", e.Kind)
		}
		var err error
		if scratch, err = enc.Marshal(scratch[:0], e); err != nil {
			return nil, fmt.Errorf("pgjournal: encode entry: %w", err)
		}
		b = binary.AppendUvarint(b, uint64(len(scratch)))
		b = append(b, scratch...)
	}
	return b, nil
}

// splitBlock calls fn with the bytes of each entry of a row's payload,
// and its position in its run (-1 in a version 1 row, where each entry
// stands alone).
func splitBlock(b []byte, fn func(raw []byte, pos int) error) error {
	if len(b) == 0 || b[0] != rowV2 {
		return splitEntries(b, -1, fn)
	}
	b = b[1:]
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n == 0 {
			return fmt.Errorf("%w: run header damaged", journal.ErrCorrupt)
		}
		rest, err := splitRun(b[k:], int(min(n, uint64(len(b)))), fn)
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// splitRun calls fn with the n entries at the start of b, and returns
// what follows them.
func splitRun(b []byte, n int, fn func(raw []byte, pos int) error) ([]byte, error) {
	for pos := range n {
		raw, rest, err := nextEntry(b)
		if err != nil {
			return nil, err
		}
		if err := fn(raw, pos); err != nil {
			return nil, err
		}
		b = rest
	}
	return b, nil
}

// splitEntries calls fn with each entry of b (a version 1 row), at pos.
func splitEntries(b []byte, pos int, fn func(raw []byte, pos int) error) error {
	for len(b) > 0 {
		raw, rest, err := nextEntry(b)
		if err != nil {
			return err
		}
		if err := fn(raw, pos); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// nextEntry splits off the length-prefixed entry at the start of b.
func nextEntry(b []byte) (raw, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("%w: entry truncated", journal.ErrCorrupt)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// macInput returns what an entry's MAC covers: in a version 1 row
// (pos < 0) its bytes, in a version 2 row a 0xff byte, its position in
// its run and its bytes. buf is reused.
func macInput(buf, raw []byte, pos int) []byte {
	if pos < 0 {
		return raw
	}
	buf = append(buf[:0], 0xff)
	buf = binary.AppendUvarint(buf, uint64(pos))
	return append(buf, raw...)
}

// decoder decodes the entries splitBlock gives, in order: a new run
// starts at position 0, and a version 1 entry stands alone.
type decoder struct{ d *journal.Decoder }

func (d *decoder) decode(raw []byte, pos int) (remediation.Entry, error) {
	if pos <= 0 || d.d == nil {
		d.d = journal.NewDecoder()
	}
	e, err := d.d.Unmarshal(raw)
	if err != nil {
		d.d = nil
	}
	return e, err
}
