package imipproc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// MessageInvite is one invite of a message as delivery reads it
// ([MessageInvites]).
type MessageInvite struct {
	// Part is the index of the part in [mailbox.Parsed.Calendars].
	Part int
	// Invite is the part read by [calendar.ParseInvite]; nil when Err is set.
	Invite *calendar.Invite
	// Err is why the part could not be read (it wraps [ErrInvalid]).
	Err error
}

// Applied reports whether delivery applies the invite: it was read and
// its method is one [calendar.ApplyInvite] applies ([calendar.AppliedMethod]). Only an
// applied invite can have created or changed a calendar entry.
func (m MessageInvite) Applied() bool {
	return m.Err == nil && m.Invite != nil && calendar.AppliedMethod(m.Invite.Method)
}

// MessageInvites returns the invites of a parsed message in the order
// delivery processes them: the parts [mailbox.Parsed.InviteParts] names
// (inline text/calendar parts; .ics attachments only when there is none
// and their Content-Type names a method), each read by [calendar.ParseInvite], a
// UID once (its first part). A part that cannot be read is returned with
// Err. This is the one rule for what a message's invites are: delivery
// (the mock tenant, this package's [Processor], a release) applies those that are
// [MessageInvite.Applied] with [calendar.ApplyInvite], and a hard delete looks only
// for what those could have created, so a plain .ics attachment, which
// only the user can import, never drives removal.
func MessageInvites(p *mailbox.Parsed) []MessageInvite {
	if p == nil {
		return nil
	}
	var out []MessageInvite
	seen := map[string]bool{}
	for _, i := range p.InviteParts() {
		part := p.Calendars[i]
		inv, err := calendar.ParseInvite(part.Raw, part.Method)
		if err != nil {
			out = append(out, MessageInvite{Part: i, Err: err})
			continue
		}
		if seen[inv.UID] {
			continue
		}
		seen[inv.UID] = true
		out = append(out, MessageInvite{Part: i, Invite: inv})
	}
	return out
}

// InviteMessageID returns the message identity that delivery records in
// the provenance of the entries a message's invites create or update
// ([calendar.ApplyInvite]'s messageID), and that a hard delete of the message looks
// for: its Message-ID, or, for a message without one, an identity derived
// from its invite parts,
//
//	sha256-<first 16 bytes of SHA-256 of the invite parts, in hex>@no-message-id.invalid
//
// The invite parts are the same bytes in every recipient's copy and are not
// changed by delivery (headers are), so every copy of a message without a
// Message-ID still names the entries it created, and a sender cannot make
// an entry impossible to remove by leaving the header out. A message
// without invite parts and without Message-ID gives "".
func InviteMessageID(p *mailbox.Parsed) string {
	if p == nil {
		return ""
	}
	if p.MessageID != "" {
		return p.MessageID
	}
	parts := p.InviteParts()
	if len(parts) == 0 {
		return ""
	}
	h := sha256.New()
	for _, i := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p.Calendars[i].Raw)))
		h.Write(n[:])
		h.Write(p.Calendars[i].Raw)
	}
	return "sha256-" + hex.EncodeToString(h.Sum(nil)[:16]) + "@no-message-id.invalid"
}
