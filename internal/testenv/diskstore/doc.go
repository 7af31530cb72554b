// Package diskstore is a [mailbox.Store] kept in a directory: one file per
// copy, a folder per directory, moves by rename. It exists for tests that
// need mail to outlive a process, such as the remediation engine's crash
// test: every change is atomic against a crash of the process (a copy is
// in exactly one place at any moment), though not against a power loss
// (nothing is fsync'd).
//
// # Layout
//
//	root/<mailbox>/<folder>/meta      "uidvalidity role" of the folder
//	root/<mailbox>/<folder>/next      the next UID to hand out
//	root/<mailbox>/<folder>/<uid>.eml one copy
//
// Mailbox and folder names are path-escaped. UIDs are handed out by
// writing the next counter (by rename) before the copy is renamed into
// place, so a crash can skip a UID but never reuse one.
//
// # Concurrency
//
// A Store is safe for concurrent use by the goroutines of one process; two
// processes must not use one directory at the same time.
package diskstore
