// Package journal holds the journals of the remediation engine: [Memory],
// in memory, and [File], in one append-only file, the embedded default.
// Both implement [remediation.Journal] and [remediation.Rewriter] (so
// [remediation.Engine.Compact] can rewrite them), and both pass the
// conformance suite of package
// [github.com/eradicate-dev/eradicate/remediation/journaltest].
//
//	j, err := journal.OpenFile("/var/lib/eradicate/journal", nil)
//	if err != nil {
//		return err // journal.ErrLocked: another process has it open
//	}
//	defer j.Close()
//	e, err := remediation.New(mailStore, calStore, j, nil)
//
// # Encoding
//
// Both journals use one encoding: each entry is a frame of length (4
// bytes), CRC-32C (4 bytes) and payload. Records and calendar steps are
// JSON; intents and outcomes are binary, with every string interned (its
// first occurrence numbered, later ones a varint reference), folder and
// UIDVALIDITY written only when they change, and UIDs as zig-zag varint
// deltas: about 8 bytes per copy for a soft delete. The record id of a
// calendar step ([remediation.CalendarStep.RecordID]) keeps its JSON name
// "action" of earlier versions, so journals written before the field was
// renamed read as they did.
//
// # The file journal
//
// The file journal group-commits: concurrent appends share one write and
// one fsync, and each returns once its entries are durable. Each write
// has a header with its length and a check of its own (bound to the file
// and to the write's offset), and each entry a CRC-32C. Nothing is written
// after a write until it is synced, so only the last write can be torn (a
// crash while it was written, with any of its sectors missing or stale):
// it is cut off when the file is opened ([File.TornBytes]), and damage
// anywhere else, or anywhere in what a rewrite wrote, is reported as
// [ErrCorrupt], the file left as it is. One File at a time has a file: it
// holds a lock on path + ".lock" until Close, and a second open, of this
// process or another, fails with [ErrLocked]. A rewrite ([File.Rewrite])
// writes the kept entries to path + ".compact" and renames it over the
// journal.
//
// # Tamper evidence
//
// With a [Key] ([FileOptions.Key], [NewSealedMemory]) every entry is
// chained with HMAC-SHA256: the MACs of an Append call's entries follow
// them in a seal frame of the same write, and opening, replaying and
// rewriting the journal check every entry against its seal. Changing,
// removing, reordering or adding entries without the key gives a
// [*TamperError] (wrapping [ErrTampered]) naming the first bad entry;
// cutting whole writes off the end is caught against a [Head] exported
// earlier ([File.Head], [FileOptions.Heads], [File.Verify],
// [VerifyFile]). Package pgjournal chains its entries the same way with
// [Chain]. [MarshalEntry] and [UnmarshalEntry] give the entries'
// encoding to journals of other kinds.
//
// Journals of another kind (a database, a replicated log) implement
// [remediation.Journal] themselves and run the conformance suite to show
// that the engine may trust them; package
// [github.com/eradicate-dev/eradicate/remediation/journal/pgjournal] is
// one, in PostgreSQL.
package journal
