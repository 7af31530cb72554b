package pgjournal

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/eradicate-dev/eradicate/remediation"
)

// A row's payload is a block of entries: each is a uvarint length and
// that many bytes of the entry's encoding, which the chain covers.

// encodeBlock appends the encodings of entries to b.
func encodeBlock(b []byte, entries []remediation.Entry) ([]byte, error) {
	for _, e := range entries {
		switch e.Kind {
		case remediation.EntryRecord, remediation.EntryIntent, remediation.EntryOutcomes, remediation.EntryCalendar:
		default:
			return nil, fmt.Errorf("pgjournal: unknown journal entry kind %d", e.Kind)
		}
		js, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("pgjournal: encode entry: %w", err)
		}
		b = binary.AppendUvarint(b, uint64(len(js)))
		b = append(b, js...)
	}
	return b, nil
}

// splitBlock calls fn with the bytes of each entry of a block.
func splitBlock(b []byte, fn func(raw []byte) error) error {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n == 0 || n > uint64(len(b)-k) {
			return fmt.Errorf("%w: entry truncated", remediation.ErrCorrupt)
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
	var e remediation.Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return remediation.Entry{}, fmt.Errorf("%w: %v", remediation.ErrCorrupt, err)
	}
	return e, nil
}
