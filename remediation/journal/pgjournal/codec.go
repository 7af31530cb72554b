package pgjournal

import (
	"encoding/binary"
	"fmt"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A row's payload is a block of entries: each is a uvarint length and
// that many bytes of the entry's encoding (journal.MarshalEntry), which
// the chain covers.

// encodeBlock appends the encodings of entries to b.
func encodeBlock(b []byte, entries []remediation.Entry) ([]byte, error) {
	var scratch []byte
	for _, e := range entries {
		switch e.Kind {
		case remediation.EntryRecord, remediation.EntryIntent, remediation.EntryOutcomes, remediation.EntryCalendar:
		default:
			return nil, fmt.Errorf("pgjournal: unknown journal entry kind %d", e.Kind)
		}
		var err error
		if scratch, err = journal.MarshalEntry(scratch[:0], e); err != nil {
			return nil, fmt.Errorf("pgjournal: encode entry: %w", err)
		}
		b = binary.AppendUvarint(b, uint64(len(scratch)))
		b = append(b, scratch...)
	}
	return b, nil
}

// splitBlock calls fn with the bytes of each entry of a block.
func splitBlock(b []byte, fn func(raw []byte) error) error {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n == 0 || n > uint64(len(b)-k) {
			return fmt.Errorf("%w: entry truncated", journal.ErrCorrupt)
		}
		if err := fn(b[k : k+int(n)]); err != nil {
			return err
		}
		b = b[k+int(n):]
	}
	return nil
}

// decodeEntry decodes the bytes of one entry.
func decodeEntry(raw []byte) (remediation.Entry, error) {
	return journal.UnmarshalEntry(raw)
}
