package journal

import "github.com/eradicate-dev/eradicate/remediation"

// MarshalEntry appends the encoding of e to b: the payload of a frame of
// the memory and file journals, with strings interned within e alone, so
// that it decodes by itself ([UnmarshalEntry]). Journals of other kinds
// store entries in it (package pgjournal does): the encoding is compact
// (about 8 bytes per copy of an outcome batch) and names no Go field, so
// renaming one does not change what is stored.
func MarshalEntry(b []byte, e remediation.Entry) ([]byte, error) {
	return NewEncoder().Marshal(b, e)
}

// UnmarshalEntry decodes an entry [MarshalEntry] encoded. A damaged or
// unknown encoding gives an error wrapping [ErrCorrupt].
func UnmarshalEntry(p []byte) (remediation.Entry, error) {
	return NewDecoder().Unmarshal(p)
}

// Encoder encodes a run of entries as [MarshalEntry] does, with one
// dictionary of interned strings for the whole run: a string an earlier
// entry of the run wrote (a mailbox, a folder, a Message-ID) is a
// reference, so a run of entries about one campaign is much shorter than
// its entries encoded alone. A [Decoder] decodes the run's entries in the
// same order, from the first.
type Encoder struct{ d *dict }

// NewEncoder returns an Encoder at the start of a run.
func NewEncoder() *Encoder { return &Encoder{d: newDict()} }

// Marshal appends the encoding of e, the next entry of the run, to b.
// After an error the run is broken: start another with a new Encoder.
func (c *Encoder) Marshal(b []byte, e remediation.Entry) ([]byte, error) {
	start := len(b)
	b, err := appendFrame(b, c.d, e)
	if err != nil {
		return b, err
	}
	return append(b[:start], b[start+frameHeader:]...), nil
}

// Decoder decodes a run of entries an [Encoder] encoded.
type Decoder struct{ d *dict }

// NewDecoder returns a Decoder at the start of a run.
func NewDecoder() *Decoder { return &Decoder{d: newDict()} }

// Unmarshal decodes the next entry of the run. A damaged or unknown
// encoding gives an error wrapping [ErrCorrupt]; the run cannot be
// decoded further after one.
func (c *Decoder) Unmarshal(p []byte) (remediation.Entry, error) {
	return decodePayload(p, c.d)
}
