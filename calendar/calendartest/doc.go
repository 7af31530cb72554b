// Package calendartest is the conformance suite every [calendar.Store]
// backend runs: the in-memory tenant of package mock, the CalDAV backend,
// and any other.
//
// # Adopting the suite
//
// A backend's test calls [Run] with a factory that returns a fresh
// [Harness] for each case:
//
//	func TestConformance(t *testing.T) {
//		calendartest.Run(t, func(t *testing.T) *calendartest.Harness {
//			s := newStoreForTest(t) // stopped in t.Cleanup
//			return &calendartest.Harness{
//				Store:  s,
//				Owners: []string{"alice@example.com", "bob@example.com"},
//			}
//		})
//	}
//
// The factory receives the case's *testing.T, so it can register cleanups
// with t.Cleanup and skip with t.Skip when a server is missing. Owners
// must exist, each with at least one calendar, and hold no entries the
// suite did not put there; UIDs and message ids are unique per case, so a
// backend on a slow server may reuse one server (and even the same
// owners) across cases. The cases run as subtests named "Group/Case" (for
// example "HardDelete/Rule"), with the case's t.Context(); a backend that
// cannot pass one lists it in [Harness.Skip] with the reason, so the gap
// shows in every test log. Run the suite with -race.
//
// # Optional capabilities
//
// As [testing/fstest.TestFS] tests ReadFileFS only of a file system that
// has it, the suite tests what a backend may lack only when it has it,
// and otherwise skips the case with a message saying why:
//
//   - [calendar.DefaultCalendarStore], found by type assertion: the
//     DefaultCalendar cases (the default calendar is one of the owner's
//     calendars and stays the same, an unknown owner is ErrNoOwner, a
//     cancelled ctx gives context.Canceled, and [calendar.ApplyInvite]
//     puts new entries there).
//   - Several calendars of one owner, through [Harness.CreateCalendar]:
//     the cases about entries in more than one calendar.
//
// # What is covered
//
// Calendars and ErrNoOwner; Put then Find round-trips every field,
// overrides and the provenance of each kind; Find matches UIDs byte for
// byte and message ids exactly (case-insensitively, without angle
// brackets, never as substrings — servers such as Radicale match text as
// case-insensitive substrings, so a backend must verify on the client);
// Put replaces by ID and by UID and refuses a missing calendar
// (ErrNotFound); Delete is idempotent; an empty query is ErrEmptyQuery; a
// cancelled ctx gives context.Canceled and changes nothing; concurrent
// callers (run the suite with -race); owners are isolated; UIDs with
// slashes, spaces, unicode, percent signs and quotes; the iMIP rules of
// [calendar.ApplyInvite]; and the hard-delete rule
// ([calendar.RemoveInviteEntries]) through the store: invite entries
// removed in every calendar, imported, user-created entries and other
// organizers' entries kept.
package calendartest
