package journal

import "github.com/eradicate-dev/eradicate/remediation"

// MarshalEntry appends the encoding of e to b: the payload of a frame of
// the memory and file journals, with strings interned within e alone, so
// that it decodes by itself ([UnmarshalEntry]). Journals of other kinds
// store entries in it (package pgjournal does): the encoding is compact
// (about 8 bytes per copy of an outcome batch) and names no Go field, so
// renaming one does not change what is stored.
func MarshalEntry(b []byte, e remediation.Entry) ([]byte, error) {
	start := len(b)
	b, err := appendFrame(b, newDict(), e)
	if err != nil {
		return b, err
	}
	return append(b[:start], b[start+frameHeader:]...), nil
}

// UnmarshalEntry decodes an entry [MarshalEntry] encoded. A damaged or
// unknown encoding gives an error wrapping [ErrCorrupt].
func UnmarshalEntry(p []byte) (remediation.Entry, error) {
	return decodePayload(p, newDict())
}
