// Package hunttest is the conformance suite of [hunt.Store]: the SQLite
// store of package sqlstore runs it, and so can any other store, to show
// that hunts, Explorer counts and the entity view may trust it.
//
// # Adopting the suite
//
// A store's test calls [Run] with a factory that returns a fresh
// [Harness] for each case, holding a new, empty, open store:
//
//	func TestConformance(t *testing.T) {
//		hunttest.Run(t, func(t *testing.T) *hunttest.Harness {
//			path := filepath.Join(t.TempDir(), "index.db")
//			open := func(t *testing.T) (hunt.Store, error) {
//				s, err := mystore.Open(t.Context(), path)
//				if err != nil {
//					return nil, err // not a nil *mystore.Store in a Store
//				}
//				return s, nil
//			}
//			s, err := open(t)
//			require.NoError(t, err)
//			return &hunttest.Harness{Store: s, Reopen: open}
//		})
//	}
//
// The factory receives the case's *testing.T, so it can register cleanups
// with t.Cleanup and skip with t.Skip. The suite closes every store it
// opens. The cases run as subtests named "Group/Case" (for example
// "Query/EveryField"); a store that cannot pass one lists it in
// [Harness.Skip] with the reason, so the gap shows in every test log.
// Run the suite with -race.
//
// # What is covered
//
// Hunts are checked against [mailbox.Criteria.Match], the rule every
// mailbox store follows: for each field of the criteria, for nested And
// and Or, and for 300 random criteria over a fixture of messages with
// several copies each, the store must return exactly the copies Match
// selects, in the order they were ingested — before and after copies
// move or are removed, and after retention expired part of the index.
// Ingest is idempotent per address and all-or-nothing per call; a
// message's facts are those of its first ingest; the entity view gives
// back every field, URLs in canonical form once each, every copy with
// its delivery folder and current location, and annotations once each.
// Explorer counts (top-N and per time bucket) equal those computed from
// the fixture. A done ctx, a refused criteria, an unknown dimension and a
// closed store give errors of the documented identity; cursors survive
// replacement and, with [Harness.Reopen], everything survives a reopen.
//
// # State beside the index
//
// A store that also keeps the cluster index's log and the detection rules
// ([StateStore]: cluster.Log and rules.Store) runs [RunState] the same
// way, with a [StateHarness]: entries come back byte for byte in append
// order, across pages, concurrent writers and a reopen; rules come back
// as saved, each save replacing the last.
package hunttest
