package calendar

import (
	"context"
	"errors"
	"fmt"

	"github.com/eradicate-dev/eradicate/internal/msgid"
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
	// candidates whatever their UID.
	MessageID string `json:"message_id,omitempty"`
	// Purged reports whether the message of a Message-ID (without angle
	// brackets) was purged too: by the same action, or an earlier one. An
	// entry created by such a message is removed like one MessageID
	// created. Nil means MessageID alone.
	Purged func(messageID string) bool `json:"-"`
}

// purged reports whether the message id was purged: it is s.MessageID or
// s.Purged says so. "" (unknown) never is.
func (s Series) purged(id string) bool {
	id = msgid.Normalize(id)
	if id == "" {
		return false
	}
	return s.MessageID != "" && EqualMessageID(id, s.MessageID) || s.Purged != nil && s.Purged(id)
}

// Reason is a stable code saying why [RemoveInviteEntries] removed or kept
// an entry. [Reason.Text] gives a sentence for people.
type Reason string

// Reasons of [RemoveInviteEntries].
const (
	// ReasonInviteSeries: removed; the entry was created by the invite of
	// another message of the series (same UID and organizer) that was
	// purged too ([Series.Purged]).
	ReasonInviteSeries Reason = "invite-series"
	// ReasonInviteMessage: removed; the entry was created by the invite of
	// the hard-deleted message itself.
	ReasonInviteMessage Reason = "invite-message"
	// ReasonReverted: put back as it was before; the hard-deleted message
	// (or another purged one) only updated the entry, which a message not
	// purged created.
	ReasonReverted Reason = "reverted"
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
	// ReasonOtherCreator: kept; an invite entry of the series created by
	// a message that was not purged. UID and ORGANIZER are written freely
	// by any sender: sharing them does not make an entry the purged
	// message's.
	ReasonOtherCreator Reason = "created-by-other-message"
	// ReasonPreviousUnknown: kept; a purged message updated the entry
	// last, but a message not purged created it and the version before the
	// update is not known (too large, or the update predates recording
	// it).
	ReasonPreviousUnknown Reason = "previous-version-unknown"
	// ReasonCreatorUnknown: kept; the provenance does not record which
	// message created the entry (it was stored before creators were
	// recorded; a message without a Message-ID is named by its invite,
	// see imipproc.InviteMessageID).
	ReasonCreatorUnknown Reason = "creator-unknown"
)

// Text returns the human-readable explanation of r.
func (r Reason) Text() string {
	switch r {
	case ReasonInviteSeries:
		return "created by the meeting invite of another purged message of this series (same UID and organizer)"
	case ReasonInviteMessage:
		return "created by the meeting invite of this message"
	case ReasonReverted:
		return "only updated by a purged meeting invite; put back as it was before that update"
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
	case ReasonOtherCreator:
		return "created by the meeting invite of another message, which was not purged; never removed"
	case ReasonPreviousUnknown:
		return "updated by a purged meeting invite but created by another message, and the version before the update is not known; left as it is"
	case ReasonCreatorUnknown:
		return "the message that created it is not recorded (stored before creators were recorded); never removed"
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
	// Reverted are the entries put back as they were before a purged
	// update ([ReasonReverted]); Entry is each as it was found, before.
	Reverted []Decision `json:"reverted,omitempty"`
	// Kept are the candidates left in place: imported, user-created and
	// unknown entries, and invite entries of another organizer or series,
	// or created by another message.
	Kept []Decision `json:"kept,omitempty"`
	// Failed are entries that should have been removed or reverted but
	// whose Delete or Put failed; each has Err set.
	Failed []Decision `json:"failed,omitempty"`
}

// RemoveInviteEntries applies the hard-delete rule to one recipient: it
// removes from every calendar of owner the invite entries that the purged
// message s.MessageID, or another purged message ([Series.Purged]),
// created; puts back as they were the entries such a message only
// updated; and keeps every other entry it finds.
//
// Candidates are the entries with UID s.UID (exact) and those whose
// provenance MessageID is s.MessageID. UID and ORGANIZER are
// written freely by any sender, so they only find candidates; what decides
// is the provenance the store kept when delivery applied an invite
// ([ApplyInvite]). An entry is removed whole (master and every override)
// when its provenance is [ProvenanceInvite] and its creator
// (Provenance.CreatedBy) was purged. An invite entry a message not purged
// created is kept ([ReasonOtherCreator]), unless a purged message updated
// it last: then it is put back as it was before that update
// (Provenance.Previous, [ReasonReverted]) when that version is known and
// was not written by a purged message, and kept ([ReasonPreviousUnknown])
// otherwise. An invite entry whose creator is not recorded (stored before
// creators were) is kept ([ReasonCreatorUnknown]). Imported, user-created
// and unknown entries are kept, as are invite entries of another organizer
// or series. Each decision is in the Report with its [Reason].
//
// A delete is conditional on the ETag of the version decided on, and a
// revert is made only when the entry still has that ETag when read again
// just before (a store write is not conditional, so a change in between
// those two calls is not seen): an entry that changed in between is read
// and decided again, so an entry that became the user's is kept.
//
// It is idempotent: an entry already gone is neither an error nor
// reported. A Series with neither UID nor MessageID is ErrEmptyQuery. The
// Report is always set; a failed Find stops the call, a failed Delete or
// Put is recorded in Report.Failed and the others go on; the error joins
// the failures.
func RemoveInviteEntries(ctx context.Context, s Store, owner string, series Series) (Report, error) {
	return inviteEntries(ctx, s, owner, series, true)
}

// InviteEntries applies the rule of [RemoveInviteEntries] without changing
// anything: Report.Removed lists the entries it would remove and
// Report.Reverted those it would put back as they were (each as it is
// stored now), and Report.Kept those it would keep. A caller that must
// record what it changes before changing it (to restore it later) calls
// this first, then [RevertInviteEntry] and [Store.Delete].
func InviteEntries(ctx context.Context, s Store, owner string, series Series) (Report, error) {
	return inviteEntries(ctx, s, owner, series, false)
}

func inviteEntries(ctx context.Context, s Store, owner string, series Series, change bool) (Report, error) {
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
			reason, verdict := decide(e, series)
			d := Decision{Entry: e, Reason: reason}
			if verdict == verdictKeep {
				rep.Kept = append(rep.Kept, d)
				break
			}
			if !change {
				rep.add(verdict, d)
				break
			}
			// The change is conditional on the version decided on: an
			// entry changed since (a newer invite, or the user importing
			// the .ics over it) is read and decided again.
			var err error
			if verdict == verdictRevert {
				_, err = RevertInviteEntry(ctx, s, owner, e)
				if errors.Is(err, ErrNotFound) {
					break // gone: nothing to put back
				}
			} else {
				err = s.Delete(ctx, owner, e.Calendar, e.ID, e.ETag)
			}
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
			rep.add(verdict, d)
			break
		}
	}
	return rep, errors.Join(errs...)
}

// add records d as removed or reverted, by v.
func (rep *Report) add(v verdict, d Decision) {
	if v == verdictRevert {
		rep.Reverted = append(rep.Reverted, d)
	} else {
		rep.Removed = append(rep.Removed, d)
	}
}

// RevertInviteEntry puts the invite entry e, as read from s, back as it
// was before its last update (e.Provenance.Previous), in its place and
// with the provenance of that version: the same creator, the message and
// method of the previous version, and no Previous. It returns the entry as
// stored. e without a previous version is ErrInvalid. The entry is read
// again first: one gone is ErrNotFound, one whose ETag is no longer
// e.ETag (when e has one) is ErrChanged and left as it is.
func RevertInviteEntry(ctx context.Context, s Store, owner string, e Entry) (Entry, error) {
	prev := e.Provenance.Previous
	if prev == nil || len(prev.Raw) == 0 {
		return Entry{}, fmt.Errorf("calendar: revert %s/%s of %s: %w: no previous version", e.Calendar, e.ID, owner, ErrInvalid)
	}
	old, err := DecodeEntry(prev.Raw)
	if err != nil {
		return Entry{}, fmt.Errorf("calendar: revert %s/%s of %s: previous version: %w", e.Calendar, e.ID, owner, err)
	}
	if old.UID != e.UID {
		return Entry{}, fmt.Errorf("calendar: revert %s/%s of %s: %w: previous version has UID %q", e.Calendar, e.ID, owner, ErrInvalid, old.UID)
	}
	cur, found, err := reread(ctx, s, owner, e)
	if err != nil {
		return Entry{}, fmt.Errorf("calendar: revert %s/%s of %s: %w", e.Calendar, e.ID, owner, err)
	}
	if !found {
		return Entry{}, fmt.Errorf("calendar: revert %s/%s of %s: %w", e.Calendar, e.ID, owner, ErrNotFound)
	}
	if e.ETag != "" && cur.ETag != e.ETag {
		return Entry{}, fmt.Errorf("calendar: revert %s/%s of %s: %w", e.Calendar, e.ID, owner, ErrChanged)
	}
	old.Calendar, old.ID, old.ETag = e.Calendar, e.ID, ""
	old.Provenance = Provenance{Kind: ProvenanceInvite, MessageID: prev.MessageID, Method: prev.Method,
		Organizer: e.Provenance.Organizer, SeriesUID: e.Provenance.SeriesUID, CreatedBy: e.Provenance.CreatedBy}
	stored, err := s.Put(ctx, owner, old)
	if err != nil {
		return Entry{}, fmt.Errorf("calendar: revert %s/%s of %s: %w", e.Calendar, e.ID, owner, err)
	}
	return stored, nil
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

type verdict int

const (
	verdictKeep verdict = iota
	verdictRemove
	verdictRevert
)

// decide applies the rule to one candidate.
func decide(e Entry, s Series) (Reason, verdict) {
	switch e.Provenance.Kind {
	case ProvenanceInvite:
	case ProvenanceImported:
		return ReasonImported, verdictKeep
	case ProvenanceUser:
		return ReasonUserCreated, verdictKeep
	default:
		return ReasonUnknown, verdictKeep
	}
	p := e.Provenance
	mine := s.MessageID != "" && (EqualMessageID(p.MessageID, s.MessageID) || EqualMessageID(p.CreatedBy, s.MessageID))
	if !mine {
		seriesUID := p.SeriesUID
		if seriesUID == "" {
			seriesUID = e.UID
		}
		if s.UID == "" || seriesUID != s.UID {
			return ReasonOtherSeries, verdictKeep
		}
		if !sameOrganizer(entryOrganizer(e), s.Organizer) {
			return ReasonOtherOrganizer, verdictKeep
		}
	}
	switch {
	case msgid.Normalize(p.CreatedBy) == "":
		return ReasonCreatorUnknown, verdictKeep
	case s.MessageID != "" && EqualMessageID(p.CreatedBy, s.MessageID):
		return ReasonInviteMessage, verdictRemove
	case s.purged(p.CreatedBy):
		return ReasonInviteSeries, verdictRemove
	case !s.purged(p.MessageID):
		return ReasonOtherCreator, verdictKeep
	case p.Previous == nil || len(p.Previous.Raw) == 0 || s.purged(p.Previous.MessageID):
		return ReasonPreviousUnknown, verdictKeep
	}
	return ReasonReverted, verdictRevert
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
