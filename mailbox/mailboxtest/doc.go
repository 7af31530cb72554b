// Package mailboxtest is the conformance suite of [mailbox.Store]: every
// mail backend runs it, the in-memory tenant first, then the IMAP backend
// against an in-process server and a real Dovecot.
//
// # Adopting the suite
//
// A backend's test calls [Run] with a factory that returns a fresh
// [Harness] for each case:
//
//	func TestConformance(t *testing.T) {
//		mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
//			tenant := mock.New(nil)
//			owners := []string{"a@example.com", "b@example.com", "c@example.com"}
//			for _, o := range owners {
//				require.NoError(t, tenant.AddUser(o))
//			}
//			return &mailboxtest.Harness{Store: tenant, Owners: owners}
//		})
//	}
//
// The factory receives the case's *testing.T, so it can register cleanups
// with t.Cleanup, skip with t.Skip when a server is missing, and call
// t.Parallel when the backend can serve cases in parallel. A backend
// with a slow server may start one server and hand out fresh, empty
// owners for each case instead of a fresh server. The cases run as
// subtests named "Group/Case" (for example "Move/AlreadyInDestination"),
// with the case's t.Context(); a backend that cannot pass one lists it in
// [Harness.Skip] with the reason, so the gap shows in every test log.
// Run the suite with -race.
//
// The suite puts its test messages into the store with
// [mailbox.Store.Append] unless [Harness.Seed] says otherwise, and builds
// every message itself, with Message-IDs and subjects unique to the case,
// so cases never see each other's messages. Messages use CRLF line
// endings, as IMAP servers store them.
//
// # Optional capabilities
//
// As [testing/fstest.TestFS] tests ReadFileFS only of a file system that
// has it, the suite tests what a backend may lack only when it has it,
// and otherwise skips the case (or the part of it) with a message saying
// why. [mailbox.Store] has no optional interfaces; what a backend may
// lack is given by hooks:
//
//   - [Harness.ChangeUIDValidity]: the cases of a folder whose UIDVALIDITY
//     changed.
//   - [Harness.CreateFolder]: the parts of cases about ordinary folders
//     (without a role).
//
// # What is covered
//
// Listing mailboxes; appending to every role and to a folder by name;
// fetching identical bytes; missing copies ([mailbox.ErrNotFound]), stale
// UIDVALIDITY ([mailbox.ErrUIDValidity]), unknown mailboxes
// ([mailbox.ErrNoMailbox]) and folders ([mailbox.ErrNoFolder]); search by
// every [mailbox.Criteria] field, nested And and Or, refusal of empty and
// match-everything criteria, early stop of the stream; moves between roles,
// to folders by name, of copies already in place, of batches with a gone
// copy and of large batches; expunge of only its targets; a cancelled ctx
// for every method, with nothing changed; and concurrent movers and
// searchers, which must leave every message in the mailbox exactly once;
// and what quarantine needs: copies held from every folder, found by role
// across the mailbox, left in place when already held, moved back to the
// folder each came from (undo) or to the inbox (release).
// Run the suite with -race.
package mailboxtest
