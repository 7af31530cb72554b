package pgjournal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eradicate-dev/eradicate/remediation"
)

// A row's payload is a block of entries: each is a uvarint length and
// that many bytes of the entry's encoding.

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

var errShort = errors.New("entry truncated")

// decodeBlock calls fn with each entry of a block.
func decodeBlock(b []byte, fn func(remediation.Entry) error) error {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return fmt.Errorf("%w: %v", remediation.ErrCorrupt, errShort)
		}
		var e remediation.Entry
		if err := json.Unmarshal(b[k:k+int(n)], &e); err != nil {
			return fmt.Errorf("%w: %v", remediation.ErrCorrupt, err)
		}
		b = b[k+int(n):]
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
