// Package calendar models calendar entries with their provenance, reads
// and applies meeting invites (iMIP/iTIP, RFC 6047 and RFC 5546) the way a
// mail client does on delivery, and implements the rule a hard delete of a
// meeting invite follows: remove the entries the invite created, keep the
// ones the user made or imported.
//
// The package knows nothing of mail: it takes raw iCalendar text plus the
// facts of the message it came in (Message-ID, the Content-Type method
// parameter, the attachment's file name). Package mock and the invite
// processor of the CalDAV backend glue it to mailboxes.
//
// # Model
//
// An [Entry] is one calendar object as CalDAV stores it (RFC 4791 section
// 4.1): every VEVENT (or VTODO) sharing a UID in one calendar — the master
// and the overrides of single occurrences (RECURRENCE-ID). [Entry.Raw], the
// iCalendar text, is authoritative: a [Store] keeps Raw and the
// [Provenance]; the other fields are what [DecodeEntry] reads from Raw.
// [Store.Put] callers either leave Raw empty, and the store fills it with
// [Encode] from the fields, or set Raw, and the store reads the fields
// back from it ([Normalize] does both; backends call it in Put). [Decode]
// splits any iCalendar text into one entry per UID.
//
// Date-times are read as instants: a TZID is resolved as an IANA zone name
// (also with the "/mozilla.org/.../Europe/Berlin" prefixes), then by the
// VTIMEZONE of the same text (yearly BYMONTH/BYDAY rules, RDATEs), then by
// a table of Windows and Outlook zone names ("W. Europe Standard Time",
// "(GMT-05.00) Eastern Time (US & Canada)"), else as UTC; floating times
// and dates (VALUE=DATE, [Occurrence.AllDay]) are read as UTC. [Encode]
// writes UTC date-times.
//
// Reading is lenient about what real calendar programs send (Exchange,
// Outlook, Google, Apple, Domino, Thunderbird, Horde): CRLF, LF or CR line
// ends, folded lines, a byte order mark, unquoted parameter values with
// commas, unparseable lines (skipped), missing or mismatched END lines,
// bare VEVENTs, missing DTEND (DURATION, or one day for a date), unescaped
// commas in text, several masters of one UID (the highest SEQUENCE wins).
//
// # Provenance
//
// Every entry says where it came from ([ProvenanceKind]): created by an
// invite on delivery ([ProvenanceInvite], with the Message-ID of the
// message that created it (CreatedBy) and of the one that last updated
// it, the organizer, the method, the series UID, and the version before
// the last update when another message created the entry), imported by
// the user from an .ics file ([ProvenanceImported], with the message and
// the attachment's name), created by the user ([ProvenanceUser]), or
// unknown ([ProvenanceUnknown]): a backend that cannot tell says so, and
// unknown entries are never removed. The mock keeps provenance beside the
// entry; the CalDAV backend stores it on the object as an X- property,
// signed (see package caldavstore).
//
// # Processing invites
//
// [ParseInvite] reads one iTIP message from a mail part. Its method is the
// object's METHOD property, or the Content-Type method parameter when the
// object has none (RFC 6047 section 2.4); it holds the components of
// exactly one UID (an iTIP message is about one calendar component, RFC
// 5546). [ApplyInvite] then does what a
// client does on delivery (RFC 5546 section 3.2):
//
//   - REQUEST (section 3.2.2) creates a tentative entry (STATUS:TENTATIVE,
//     the owner's PARTSTAT=NEEDS-ACTION) with invite provenance in the
//     owner's default calendar ([DefaultCalendar]), or updates the owner's
//     invite entry of that UID and organizer when its SEQUENCE is higher
//     or equal (section 2.1.5, message sequencing: UID and RECURRENCE-ID
//     name a component, the higher SEQUENCE obsoletes the lower; a lower
//     one is stale and ignored). A REQUEST for the series replaces it
//     (keeping only newer occurrence overrides it does not carry, as
//     Exchange sends occurrence updates as messages of their own); a
//     REQUEST with RECURRENCE-IDs replaces or adds those overrides.
//   - CANCEL (section 3.2.5) marks the entry STATUS:CANCELLED, or with
//     RECURRENCE-IDs only those occurrences, as overrides with
//     STATUS:CANCELLED — never by EXDATE, so the occurrence stays visible
//     as cancelled and belongs to the entry the hard-delete rule removes.
//   - REPLY (section 3.2.3) updates the replying attendee's PARTSTAT in
//     the owner's copy when the owner is the organizer; the entry keeps its
//     provenance.
//   - PUBLISH, ADD, COUNTER, REFRESH and DECLINECOUNTER are not applied
//     automatically: the [Result] says so.
//
// An invite never converts or overwrites an entry of the same UID that is
// not invite provenance, nor one from another organizer: it is reported
// as [ActionSkipped]. [Import] is the user adding an .ics file: the
// entries get imported provenance; an entry of the same UID in the default
// calendar is replaced (CalDAV allows one object per UID in a calendar),
// so an invite entry the user then imports becomes the user's and is kept
// by a hard delete — Defender's behaviour.
//
// # The hard-delete rule
//
// When a copy of a message is hard-deleted, the engine calls
// [RemoveInviteEntries] for its recipient with the [Series] of each
// invite in the message that delivery applies ([Invite.Series]; MessageID
// alone when the invite could not be parsed; none for a plain .ics
// attachment: see MessageInvites in package calendar/imipproc), and the
// messages it purged too ([Series.Purged]). A purged message removes only
// what it, or another purged message, created: in every calendar of the owner the rule
// removes, whole (master and every override), each entry with invite
// provenance whose creator was purged. UID and ORGANIZER only find
// candidates, since any sender writes them: an entry another message
// created is kept, and one that a purged message only updated is put back
// as it was before that update when that version is known (else kept). It
// keeps imported, user-created and unknown entries, invite entries whose
// creator is not recorded, and invite entries of another organizer reusing
// the UID, and reports each decision with a stable [Reason] code and text.
// It is idempotent.
//
// # Hostile input
//
// Malformed iCalendar never blocks remediation: errors wrap [ErrInvalid]
// and say what was wrong, nothing panics, and input is bounded ([MaxSize],
// [MaxLines], [MaxComponents], nesting depth, list values). Recurrence
// rules are kept as text and never expanded, so a rule with a billion
// occurrences costs nothing.
package calendar
