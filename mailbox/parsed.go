package mailbox

import "time"

// Parsed is what [Parse] reads from a raw message: decoded headers, bodies,
// URLs, attachments and calendar parts. Fields that could not be read are
// left zero; [Parse] reports why in its error.
type Parsed struct {
	MessageID    string    // without angle brackets
	Subject      string    // RFC 2047-decoded
	From         string    // header From address, lower-cased (P2)
	FromName     string    // header From display name, decoded
	EnvelopeFrom string    // Return-Path address, lower-cased (P1); "" when absent
	ReplyTo      []string  // lower-cased addresses
	To           []string  // lower-cased addresses
	Cc           []string  // lower-cased addresses
	Bcc          []string  // lower-cased addresses
	Date         time.Time // zero when missing or unreadable
	// Received are the Received header values, newest (topmost) first.
	Received []string
	// Headers are all header fields in order, values RFC 2047-decoded.
	Headers []HeaderField

	// Text is the decoded text of the text/plain parts, joined by newlines.
	Text string
	// HTML is the decoded source of the text/html parts, joined.
	HTML string
	// URLs are the distinct URLs found in the text and in HTML links, in
	// order of first appearance, as written (not canonicalised).
	URLs []string
	// Attachments are the non-text parts and the parts with a file name.
	Attachments []Attachment
	// Calendars are the text/calendar parts and .ics attachments, kept
	// raw for the calendar package.
	Calendars []CalendarPart
	// Size is the size of the raw message in bytes.
	Size int
	// Truncated reports that Parse read the message only in part, to stay
	// within its limits: the links of attached files beyond the
	// per-message budget ([MaxInflatePerMessage], [MaxTokensPerMessage]),
	// URLs beyond [MaxURLs], parts beyond [MaxParts] or nested deeper
	// than [MaxDepth] were not read. URLs (and, for the part limits,
	// Attachments) may then miss what the message carries: a hunt that
	// does not match it on those fields has not seen it whole. Hostile
	// mail (decompression bombs) sets it; the message is kept.
	Truncated bool
}

// HeaderField is one header field with its decoded value.
type HeaderField struct {
	Key   string // the field name as written, e.g. "Message-ID"
	Value string // unfolded, trimmed, RFC 2047-decoded to UTF-8
}

// Attachment is one attached file.
type Attachment struct {
	Filename  string // decoded (RFC 2047 / RFC 2231); may be ""
	MediaType string // lower-cased, e.g. "application/pdf"
	Size      int64  // decoded size in bytes
	SHA256    string // lower-case hex SHA-256 of the decoded content
	Inline    bool   // Content-Disposition inline (e.g. an embedded logo)
	// Content is the decoded content. It aliases memory Parse allocated;
	// callers must not modify it.
	Content []byte
}

// CalendarPart is an iCalendar object carried by a message.
type CalendarPart struct {
	// Method is the METHOD parameter of the Content-Type (RFC 6047 section
	// 2.4), upper-cased; "" when absent (the calendar package then reads
	// the METHOD property).
	Method string
	// Filename is the part's file name, "" for an unnamed inline part.
	Filename string
	// Attachment reports a Content-Disposition of attachment: an .ics file
	// rather than the inline invitation part.
	Attachment bool
	// Raw is the decoded iCalendar text.
	Raw []byte
}

// Recipients returns To, Cc and Bcc in order, without duplicates.
func (p *Parsed) Recipients() []string {
	seen := make(map[string]bool, len(p.To)+len(p.Cc)+len(p.Bcc))
	var out []string
	for _, list := range [][]string{p.To, p.Cc, p.Bcc} {
		for _, a := range list {
			if a != "" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// InviteParts returns the indices in p.Calendars of the parts a mail
// client processes as the message's meeting invite when it is delivered
// (RFC 6047 section 2.4): the inline text/calendar parts; or, when there
// is none, the .ics attachments whose Content-Type names a method. Other
// .ics attachments are files a user may import, not an invite.
func (p *Parsed) InviteParts() []int {
	inline := false
	for _, c := range p.Calendars {
		if !c.Attachment {
			inline = true
			break
		}
	}
	var out []int
	for i, c := range p.Calendars {
		if !c.Attachment || !inline && c.Method != "" {
			out = append(out, i)
		}
	}
	return out
}

// Summary returns the [Message] fields p provides, with Address and Role
// left for the caller to fill.
func (p *Parsed) Summary() Message {
	return Message{
		MessageID:    p.MessageID,
		EnvelopeFrom: p.EnvelopeFrom,
		From:         p.From,
		Recipients:   p.Recipients(),
		Subject:      p.Subject,
		Date:         p.Date,
		Size:         int64(p.Size),
	}
}
