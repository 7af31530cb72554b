package journaltest

import (
	"fmt"
	"time"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// Entries returns the entries of one hard delete as the engine journals
// it, one or more of every [remediation.EntryKind], with realistic values:
// the record when the action starts, the intent of a batch of copies in
// several folders, the calendar plan and the entries about to be removed,
// the outcomes of the batch (every [remediation.OutcomeKind], a retry, a
// move's new address and a purge's none), the calendar decisions, the
// mark that closes a mailbox (no outcomes), and the record's final
// snapshot. The round-trip cases write them; a journal's own tests and
// benchmarks may too. Each call returns new values that share no memory
// with earlier ones.
func Entries() []remediation.Entry {
	const (
		id    = "20261123T090000-1a2b3c4d"
		alice = "alice@corp.example"
		evil  = "billing@evil.example"
	)
	created := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	crit := &mailbox.Criteria{
		SenderDomains: []string{"evil.example"},
		Subject:       "Invoice overdue",
		Since:         created.Add(-72 * time.Hour),
		Roles:         []mailbox.Role{mailbox.RoleInbox, mailbox.RoleJunk},
	}
	start := &remediation.Record{
		ID: id, Name: "Invoice campaign", Description: "phishing wave, ticket SOC-4711",
		Severity: remediation.SeverityHigh, Source: remediation.SourceHunting, Action: remediation.HardDelete,
		Actor: "ann@corp.example", DecidedBy: "ben@corp.example", Status: remediation.StatusRunning,
		Created: created, Decided: created.Add(2 * time.Minute), Started: created.Add(2*time.Minute + 3*time.Second),
		Selection: remediation.Selection{Criteria: crit, Mailboxes: []string{alice, "bob@corp.example"}},
		Confirm:   true, MaxCopies: 5000,
	}
	intent := &remediation.Intent{RecordID: id, Seq: 1, Mailbox: alice, // To is zero: a purge
		Copies: []remediation.IntentCopy{
			{Folder: "INBOX", UIDValidity: 1700000001, UID: 4711, MessageID: "inv-1@evil.example", Role: mailbox.RoleInbox},
			{Folder: "INBOX", UIDValidity: 1700000001, UID: 12, MessageID: "inv-2@evil.example", Role: mailbox.RoleInbox},
			{Folder: "INBOX", UIDValidity: 1700000001, UID: 13, Role: mailbox.RoleInbox}, // no Message-ID
			{Folder: "Junk", UIDValidity: 1700000002, UID: 4294967290, MessageID: "inv-1@evil.example", Role: mailbox.RoleJunk},
			{Folder: "Archive/2026", UIDValidity: 1700000003, UID: 1, MessageID: "inv-3@evil.example"},
		}}
	plan := &remediation.CalendarStep{RecordID: id, Seq: 1,
		Plan: []remediation.SeriesRef{
			{Owner: alice, MessageID: "inv-1@evil.example", UID: "040000008200E00074C5B7101A82E008@evil.example", Organizer: evil},
			{Owner: alice, MessageID: "inv-3@evil.example", Err: "calendar: no VEVENT in the invite"},
		}}
	removed := &remediation.CalendarStep{RecordID: id, Seq: 1,
		Plan: plan.Plan[:1:1],
		Removed: []remediation.RemovedEntry{{
			Owner: alice, Calendar: "personal", UID: "040000008200E00074C5B7101A82E008@evil.example", Organizer: evil,
			Provenance: calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "inv-1b@evil.example",
				CreatedBy: "inv-1@evil.example", Organizer: evil, Method: "REQUEST",
				SeriesUID: "040000008200E00074C5B7101A82E008@evil.example",
				Previous:  &calendar.Revision{MessageID: "inv-1@evil.example", Method: "REQUEST", Raw: []byte("BEGIN:VCALENDAR\r\nSUMMARY:Pay now\r\nEND:VCALENDAR\r\n")}},
			// Raw byte for byte, invalid UTF-8 included.
			Raw:      []byte("BEGIN:VCALENDAR\r\nSUMMARY:Pay now \xff\xfe\r\nEND:VCALENDAR\r\n"),
			Reverted: true,
		}}}
	to := func(uid uint32) mailbox.Address {
		return mailbox.Address{Mailbox: alice, Folder: "Recoverable Items", UIDValidity: 1700000009, UID: uid}
	}
	from := func(folder string, uv, uid uint32) mailbox.Address {
		return mailbox.Address{Mailbox: alice, Folder: folder, UIDValidity: uv, UID: uid}
	}
	outcomes := &remediation.OutcomeBatch{RecordID: id, Seq: 1, Mailbox: alice,
		Items: []remediation.Outcome{
			{Copy: from("INBOX", 1700000001, 4711), MessageID: "inv-1@evil.example", Kind: remediation.Succeeded},
			{Copy: from("INBOX", 1700000001, 12), MessageID: "inv-2@evil.example", Kind: remediation.Failed, Detail: "imap: NO [SERVERBUG] internal error"},
			{Copy: from("INBOX", 1700000001, 12), MessageID: "inv-2@evil.example", Kind: remediation.Succeeded, Retry: true},
			{Copy: from("INBOX", 1700000001, 13), Kind: remediation.NotFound, Detail: "expunged since the selection"},
			{Copy: from("Junk", 1700000002, 4294967290), To: to(77), MessageID: "inv-1@evil.example", Kind: remediation.AlreadyInDestination},
			{Copy: from("Archive/2026", 1700000003, 1), To: to(78), MessageID: "inv-3@evil.example", Kind: remediation.Succeeded,
				Detail: "found at the destination after an interruption"},
			{Copy: from("Sent Items", 1700000004, 9), MessageID: "inv-1@evil.example", Kind: remediation.Skipped, Detail: "sender's copy"},
		}}
	decisions := &remediation.CalendarStep{RecordID: id, Seq: 1,
		Decisions: []remediation.CalendarDecision{
			{Owner: alice, MessageID: "inv-1@evil.example", UID: "040000008200E00074C5B7101A82E008@evil.example", Organizer: evil,
				Calendar: "personal", EntryID: "e-0001.ics", Summary: "Pay now", Verdict: remediation.VerdictReverted, Reason: "invite-update"},
			{Owner: alice, MessageID: "inv-3@evil.example", Verdict: remediation.VerdictError, Reason: "unreadable-invite",
				Detail: "calendar: no VEVENT in the invite"},
		}}
	done := &remediation.OutcomeBatch{RecordID: id, Mailbox: alice, Done: true} // no outcomes: only the mark
	final := &remediation.Record{}
	*final = *start
	final.Status = remediation.StatusPartial
	final.Incomplete = true
	final.Finished = created.Add(5 * time.Minute)
	final.Counts = remediation.Counts{Succeeded: 2, AlreadyInDestination: 1, NotFound: 1, Skipped: 1}
	final.Calendar = decisions.Decisions
	final.Error = "bob@corp.example: imap: connection reset by peer"
	release := &remediation.Record{
		ID: "20261123T091500-5e6f7a8b", Name: "release", Source: remediation.SourceAPI, Action: remediation.Release,
		Actor: "soc-bot", DecidedBy: "carol@corp.example", Status: remediation.StatusPending,
		Created: created.Add(15 * time.Minute), Expires: created.Add(15*time.Minute + 24*time.Hour),
		Selection:  remediation.Selection{Copies: []mailbox.Address{{Mailbox: "quarantine@corp.example", Folder: "Quarantine", UIDValidity: 1, UID: 42}}},
		Recipients: []string{"dave@corp.example"},
	}
	return []remediation.Entry{
		{Kind: remediation.EntryRecord, Record: start},
		{Kind: remediation.EntryIntent, Intent: intent},
		{Kind: remediation.EntryCalendar, Calendar: plan},
		{Kind: remediation.EntryCalendar, Calendar: removed},
		{Kind: remediation.EntryOutcomes, Outcomes: outcomes},
		{Kind: remediation.EntryCalendar, Calendar: decisions},
		{Kind: remediation.EntryOutcomes, Outcomes: done},
		{Kind: remediation.EntryRecord, Record: final},
		{Kind: remediation.EntryRecord, Record: release},
	}
}

// intentEntry is a small intent, unique by action and seq, with strings
// that repeat across entries (so an encoder that interns them reuses
// them).
func intentEntry(action string, seq int) remediation.Entry {
	return remediation.Entry{Kind: remediation.EntryIntent, Intent: &remediation.Intent{
		RecordID: action, Seq: uint64(seq), Mailbox: fmt.Sprintf("user%d@corp.example", seq%7),
		To: mailbox.In(mailbox.RoleJunk),
		Copies: []remediation.IntentCopy{
			{Folder: "INBOX", UIDValidity: 3, UID: uint32(seq + 1), MessageID: fmt.Sprintf("m%d@x.example", seq%11), Role: mailbox.RoleInbox},
		},
	}}
}
