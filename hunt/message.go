package hunt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/eradicate-dev/eradicate/internal/tlsh"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// NewMessage returns what the index keeps of p: its summary, its URLs in
// canonical form ([mailbox.NormalizeURL]), its attachments with SHA-256
// and TLSH digests, and its [NetworkID]. The result shares no memory with
// p.
func NewMessage(p *mailbox.Parsed) Message {
	m := Message{
		NetworkID:    NetworkID(p),
		MessageID:    mailbox.NormalizeMessageID(p.MessageID),
		EnvelopeFrom: normAddr(p.EnvelopeFrom),
		From:         normAddr(p.From),
		FromName:     strings.Clone(p.FromName),
		Subject:      strings.Clone(p.Subject),
		Date:         p.Date,
		Size:         int64(p.Size),
		Truncated:    p.Truncated,
	}
	for _, r := range p.Recipients() {
		if r = normAddr(r); r != "" && !slices.Contains(m.Recipients, r) {
			m.Recipients = append(m.Recipients, r)
		}
	}
	seen := make(map[string]bool, len(p.URLs))
	for _, u := range p.URLs {
		if n := mailbox.NormalizeURL(u); n != "" && !seen[n] {
			seen[n] = true
			m.URLs = append(m.URLs, n)
		}
	}
	for _, a := range p.Attachments {
		att := Attachment{
			Name:   strings.Clone(a.Filename),
			Type:   strings.Clone(a.MediaType),
			Size:   a.Size,
			SHA256: strings.ToLower(a.SHA256),
			Inline: a.Inline,
		}
		if d, err := tlsh.Hash(a.Content); err == nil {
			att.TLSH = d.String()
		}
		m.Attachments = append(m.Attachments, att)
	}
	return m
}

// NetworkID returns eradicate's id of the message p, Defender's network
// message id: the same for every copy of one message, whichever mailbox
// holds it and whichever path (delivery, crawl) reads it, and different
// for messages that differ in Message-ID, senders (envelope and header),
// To, Cc, date, subject, text or attachments. It is a SHA-256 of those,
// written in the form of a UUID (version 8, RFC 9562), as Graph writes
// network message ids.
//
// Headers a server adds per copy (Delivered-To, Received) and Bcc are not
// part of it, so the copies of one delivery get one id; p.EnvelopeFrom
// must hold the envelope sender (a delivery path knows it, a crawl reads
// it from Return-Path). A sender who reuses another message's Message-ID
// still gets an id of its own unless everything else is equal too.
func NetworkID(p *mailbox.Parsed) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(mailbox.NormalizeMessageID(p.MessageID))
	field(normAddr(p.From))
	field(normAddr(p.EnvelopeFrom))
	for _, list := range [][]string{p.To, p.Cc} {
		field(strings.Join(list, ","))
	}
	if !p.Date.IsZero() {
		field(p.Date.UTC().Format("2006-01-02T15:04:05.999999999Z"))
	} else {
		field("")
	}
	field(p.Subject)
	field(p.Text)
	field(p.HTML)
	for _, a := range p.Attachments {
		field(strings.ToLower(a.SHA256))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // variant 10
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:16])
	return string(b[:])
}

// normAddr is the comparison form of an address [mailbox.Criteria] uses.
func normAddr(a string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
}

// normMailbox is the form in which the index names a mailbox.
func normMailbox(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
