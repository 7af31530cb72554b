package calendar

import (
	"context"
	"errors"
	"fmt"
)

// Series identifies the invite series of a hard-deleted message: the UID
// and ORGANIZER of its invite and its Message-ID. When the invite could not
// be parsed, UID and Organizer are empty and entries are found by
// MessageID alone.
type Series struct {
	// UID is the invite's iCalendar UID, compared byte for byte (only
	// surrounding blanks are trimmed).
	UID string `json:"uid,omitempty"`
	// Organizer is the invite's ORGANIZER address, compared after
	// [NormalizeAddress]; with UID it names the series.
	Organizer string `json:"organizer,omitempty"`
	// MessageID is the hard-deleted message's Message-ID, with or without
	// angle brackets; the invite entries it created or last updated are
	// removed whatever their UID.
	MessageID string `json:"message_id,omitempty"`
}

// Reason is a stable code saying why [RemoveInviteEntries] removed or kept
// an entry. [Reason.Text] gives a sentence for people.
type Reason string

// Reasons of [RemoveInviteEntries].
const (
	// ReasonInviteSeries: removed; the entry was created by an invite of
	// the series (same UID and organizer), whichever REQUEST of the series
	// created or last updated it.
	ReasonInviteSeries Reason = "invite-series"
	// ReasonInviteMessage: removed; the entry was created or last updated
	// by the invite of the hard-deleted message itself.
	ReasonInviteMessage Reason = "invite-message"
	// ReasonImported: kept; the user imported it from an .ics file.
	ReasonImported Reason = "imported"
	// ReasonUserCreated: kept; the user created it.
	ReasonUserCreated Reason = "user-created"
	// ReasonUnknown: kept; the store cannot tell where it came from.
	ReasonUnknown Reason = "unknown-provenance"
	// ReasonOtherOrganizer: kept; an invite entry with the UID from
	// another organizer.
	ReasonOtherOrganizer Reason = "other-organizer"
	// ReasonOtherSeries: kept; an invite entry whose recorded series UID
	// differs from the series.
	ReasonOtherSeries Reason = "other-series"
)

// Text returns the human-readable explanation of r.
func (r Reason) Text() string {
	switch r {
	case ReasonInviteSeries:
		return "created by a meeting invite of this series (same UID and organizer)"
	case ReasonInviteMessage:
		return "created or last updated by the meeting invite of this message"
	case ReasonImported:
		return "imported by the user from an .ics file"
	case ReasonUserCreated:
		return "created by the user"
	case ReasonUnknown:
		return "provenance unknown; never removed"
	case ReasonOtherOrganizer:
		return "a meeting invite with the same UID from a different organizer"
	case ReasonOtherSeries:
		return "a meeting invite of a different series"
	}
	return string(r)
}

// Decision is one entry [RemoveInviteEntries] considered.
type Decision struct {
	// Entry is the entry as found, Raw included (enough to put it back).
	Entry Entry `json:"entry"`
	// Reason is why the entry was removed or kept.
	Reason Reason `json:"reason"`
	// Err is why removing it failed; set only in [Report.Failed].
	Err error `json:"-"`
}

// Report is what [RemoveInviteEntries] did in one owner's calendars.
type Report struct {
	// Owner is the calendar owner, as given.
	Owner string `json:"owner"`
	// Series is the series as applied: UID trimmed, MessageID without
	// angle brackets, Organizer normalized.
	Series Series `json:"series"`
	// Removed are the entries deleted.
	Removed []Decision `json:"removed,omitempty"`
	// Kept are the candidates left in place: imported, user-created and
	// unknown entries, and invite entries of another organizer or series.
	Kept []Decision `json:"kept,omitempty"`
	// Failed are entries that should have been removed but whose Delete
	// failed; each has Err set.
	Failed []Decision `json:"failed,omitempty"`
}

// RemoveInviteEntries applies the hard-delete rule to one recipient: it
// removes from every calendar of owner the entries that the invite series
// s created, and keeps every other entry it finds.
//
// Candidates are the entries with UID s.UID (exact) and those whose
// provenance MessageID is s.MessageID. An entry is removed whole (master
// and every override) when its provenance is [ProvenanceInvite] and either
// it was created or last updated by the message s.MessageID, or its series
// UID is s.UID and its organizer is s.Organizer (compared by
// [NormalizeAddress]), so every REQUEST, update and CANCEL of the series is
// covered. Imported, user-created and unknown entries are kept, as are
// invite entries of another organizer that reuse the UID. Each decision is
// in the Report with its [Reason]. A delete is conditional on the ETag of
// the version decided on: an entry that changed in between (the user
// imported the .ics over it, or a newer invite updated it) is read and
// decided again, so an entry that became the user's is kept.
//
// It is idempotent: an entry already gone is neither an error nor
// reported. A Series with neither UID nor MessageID is ErrEmptyQuery. The
// Report is always set; a failed Find stops the call, a failed Delete is
// recorded in Report.Failed and the others go on; the error joins the
// failures.
func RemoveInviteEntries(ctx context.Context, s Store, owner string, series Series) (Report, error) {
	return inviteEntries(ctx, s, owner, series, true)
}

// InviteEntries applies the rule of [RemoveInviteEntries] without changing
// anything: Report.Removed lists the entries it would remove (as they are
// stored now) and Report.Kept those it would keep. A caller that must
// record what it removes before removing it (to restore it later) calls
// this first.
func InviteEntries(ctx context.Context, s Store, owner string, series Series) (Report, error) {
	return inviteEntries(ctx, s, owner, series, false)
}

func inviteEntries(ctx context.Context, s Store, owner string, series Series, remove bool) (Report, error) {
	series.UID = trimUID(series.UID)
	series.MessageID = trimMessageID(series.MessageID)
	series.Organizer = NormalizeAddress(series.Organizer)
	rep := Report{Owner: owner, Series: series}
	if series.UID == "" && series.MessageID == "" {
		return rep, fmt.Errorf("calendar: remove invite entries: %w", ErrEmptyQuery)
	}
	var cands []Entry
	seen := map[[2]string]bool{}
	for _, q := range []Query{{UID: series.UID}, {MessageID: series.MessageID}} {
		if q.UID == "" && q.MessageID == "" {
			continue
		}
		found, err := s.Find(ctx, owner, q)
		if err != nil {
			return rep, fmt.Errorf("calendar: remove invite entries of %s: %w", owner, err)
		}
		for _, e := range found {
			k := [2]string{e.Calendar, e.ID}
			if !seen[k] {
				seen[k] = true
				cands = append(cands, e)
			}
		}
	}
	var errs []error
	for _, e := range cands {
		for attempt := 1; ; attempt++ {
			reason, invite := decide(e, series)
			d := Decision{Entry: e, Reason: reason}
			if !invite {
				rep.Kept = append(rep.Kept, d)
				break
			}
			if !remove {
				rep.Removed = append(rep.Removed, d)
				break
			}
			// The delete is conditional on the version decided on: an
			// entry changed since (a newer invite, or the user importing
			// the .ics over it) is read and decided again.
			err := s.Delete(ctx, owner, e.Calendar, e.ID, e.ETag)
			if errors.Is(err, ErrChanged) && attempt < maxRereads {
				cur, found, ferr := reread(ctx, s, owner, e)
				if ferr == nil && !found {
					break // gone, or no longer this UID: not this series' entry
				}
				if ferr == nil {
					e = cur
					continue
				}
				err = errors.Join(err, ferr)
			}
			if err != nil {
				d.Err = err
				rep.Failed = append(rep.Failed, d)
				errs = append(errs, fmt.Errorf("calendar: remove %s/%s of %s: %w", e.Calendar, e.ID, owner, err))
				break
			}
			rep.Removed = append(rep.Removed, d)
			break
		}
	}
	return rep, errors.Join(errs...)
}

// maxRereads bounds how often one entry that keeps changing under a
// conditional delete is read and decided again before the delete is
// reported failed (with ErrChanged).
const maxRereads = 4

// reread returns the entry at e's calendar and id as it is now, found by
// its UID; found is false when it is gone or holds another UID.
func reread(ctx context.Context, s Store, owner string, e Entry) (Entry, bool, error) {
	found, err := s.Find(ctx, owner, Query{UID: e.UID})
	if err != nil {
		return Entry{}, false, err
	}
	for _, f := range found {
		if f.Calendar == e.Calendar && f.ID == e.ID {
			return f, true, nil
		}
	}
	return Entry{}, false, nil
}

// decide applies the rule to one candidate.
func decide(e Entry, s Series) (Reason, bool) {
	switch e.Provenance.Kind {
	case ProvenanceInvite:
	case ProvenanceImported:
		return ReasonImported, false
	case ProvenanceUser:
		return ReasonUserCreated, false
	default:
		return ReasonUnknown, false
	}
	if s.MessageID != "" && EqualMessageID(e.Provenance.MessageID, s.MessageID) {
		return ReasonInviteMessage, true
	}
	seriesUID := e.Provenance.SeriesUID
	if seriesUID == "" {
		seriesUID = e.UID
	}
	if s.UID == "" || seriesUID != s.UID {
		return ReasonOtherSeries, false
	}
	if !sameOrganizer(entryOrganizer(e), s.Organizer) {
		return ReasonOtherOrganizer, false
	}
	return ReasonInviteSeries, true
}

func trimUID(s string) string {
	// UIDs are compared byte for byte; only surrounding space, which no
	// parser keeps, is dropped.
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
