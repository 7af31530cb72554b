package calendar

import (
	"context"
	"errors"
	"fmt"
)

// Import is the user's action of adding an .ics file to their calendar:
// every UID of raw becomes an entry in the owner's default calendar with
// [ProvenanceImported] provenance naming the message messageID and the
// attachment file name. The entries keep the file's content (no METHOD,
// no TENTATIVE marking).
//
// CalDAV allows one object per UID in a calendar (RFC 4791 section
// 4.1), so an entry with the UID already in the default calendar is
// replaced, whatever its provenance: importing the file is the user taking
// ownership of the event, and the hard-delete rule then keeps it (an
// invite entry of the same UID in another calendar stays an invite entry).
// It returns the entries as stored; the others' failures are joined in the
// error. Text that cannot be read is an error wrapping [ErrInvalid].
func Import(ctx context.Context, s Store, owner string, raw []byte, messageID, attachment string) ([]Entry, error) {
	owner = NormalizeAddress(owner)
	entries, err := Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("calendar: import %q for %s: %w", attachment, owner, err)
	}
	cal, err := DefaultCalendar(ctx, s, owner)
	if err != nil {
		return nil, fmt.Errorf("calendar: import %q for %s: %w", attachment, owner, err)
	}
	prov := Provenance{Kind: ProvenanceImported, MessageID: trimMessageID(messageID), Attachment: attachment}
	var out []Entry
	var errs []error
	for _, e := range entries {
		found, err := s.Find(ctx, owner, Query{UID: e.UID})
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar: import %q UID %q for %s: %w", attachment, e.UID, owner, err))
			continue
		}
		e.Calendar, e.Provenance = cal, prov
		for _, f := range found {
			if f.Calendar == cal && f.UID == e.UID {
				e.ID = f.ID
			}
		}
		stored, err := s.Put(ctx, owner, e)
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar: import %q UID %q for %s: %w", attachment, e.UID, owner, err))
			continue
		}
		out = append(out, stored)
	}
	return out, errors.Join(errs...)
}
