package mailbox

import "errors"

// Parse reads a raw RFC 5322 message. It never panics. When the message is
// malformed it returns an error saying what is wrong together with a
// non-nil *Parsed holding what could be read, at least the headers.
func Parse(raw []byte) (*Parsed, error) {
	return &Parsed{Size: len(raw)}, errors.New("mailbox: Parse not implemented yet")
}

// ParseHeader reads only the header block of raw, for summaries.
func ParseHeader(raw []byte) (*Parsed, error) {
	return &Parsed{Size: len(raw)}, errors.New("mailbox: ParseHeader not implemented yet")
}

// NormalizeURL returns the form of a URL used to compare URLs for equality.
func NormalizeURL(u string) string { return u }
