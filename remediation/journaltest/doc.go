// Package journaltest is the conformance suite of [remediation.Journal]:
// the in-memory journal ([journal.Memory]) and the file journal
// ([journal.File]) run it, and so can any other journal, to
// show that the engine may trust it.
//
// # Adopting the suite
//
// A journal's test calls [Run] with a factory that returns a fresh
// [Harness] for each case, holding a new, empty, open journal:
//
//	func TestConformance(t *testing.T) {
//		journaltest.Run(t, func(t *testing.T) *journaltest.Harness {
//			path := filepath.Join(t.TempDir(), "journal")
//			open := func(t *testing.T) (remediation.Journal, error) {
//				j, err := myjournal.Open(path)
//				if err != nil {
//					return nil, err // not a nil *myjournal.Journal in a Journal
//				}
//				return j, nil
//			}
//			j, err := open(t)
//			require.NoError(t, err)
//			return &journaltest.Harness{
//				Journal: j,
//				Reopen:  open,
//				TearLastWrite: func(t *testing.T) {
//					// Cut the last write short, as a crash would.
//					st, err := os.Stat(path)
//					require.NoError(t, err)
//					require.NoError(t, os.Truncate(path, st.Size()-3))
//				},
//				Exclusive: true,
//			}
//		})
//	}
//
// The factory receives the case's *testing.T, so it can register cleanups
// with t.Cleanup and skip with t.Skip. The suite closes every journal it
// opens. The cases run as subtests named "Group/Case" (for example
// "Rewrite/Atomic"), with the case's t.Context(); a journal that cannot
// pass one lists it in [Harness.Skip] with the reason, so the gap shows
// in every test log. Run the suite with -race.
//
// # Optional capabilities
//
// As [testing/fstest.TestFS] tests ReadFileFS only of a file system that
// has it, the suite tests what a journal may lack only when it has it,
// and otherwise skips the case with a message saying why:
//
//   - [remediation.Rewriter], found by type assertion: the Rewrite cases.
//   - Durability, through [Harness.Reopen]: the journal opened again after
//     Close holds everything appended before.
//   - Torn writes, through [Harness.TearLastWrite] (and Reopen): a crash
//     in the middle of the last write loses that write alone.
//   - The lock, through [Harness.Exclusive] (and Reopen): a second open
//     fails with [journal.ErrLocked] while the journal is open.
//
// # What is covered
//
// The cases check the contract in the doc comments of
// [remediation.Journal] and [remediation.Rewriter], and two conventions
// the engine relies on that those leave unsaid: an Append of no entries
// succeeds and adds nothing, and a Rewrite with a done ctx fails with the
// ctx's error.
//
// Append then Replay gives back every kind of entry by value ([Entries]),
// in order, and only what was appended; Append keeps no memory of its
// caller's; a cancelled or expired ctx gives an error wrapping its cause
// and writes nothing; a failed Append (of an entry of no kind; a journal
// that accepts one skips the case) writes none of its entries and the
// journal refuses further appends; a Replay can stop early, and one
// running while Appends land yields the earlier entries in order;
// concurrent Appends each land exactly once, each call's entries
// together, while concurrent Replays read without error; after Close,
// Append, Replay and Rewrite fail with [remediation.ErrClosed].
//
// Rewrite keeps exactly the entries it is told to, in order; a rewrite
// cancelled part-way leaves all the old entries or exactly the kept ones,
// never a mix; a replay under way goes on reading the old entries;
// Appends during rewrites are neither lost nor doubled. Appends after a
// rewrite, a reopen or a torn write reuse the strings of entries written
// before. The reopened journal holds every entry appended before Close,
// every acknowledged one of Appends racing Close included; a torn last
// write is cut off whole.
//
// Entries are compared by value: an empty slice is equal to a nil one,
// and times are compared as instants.
package journaltest
