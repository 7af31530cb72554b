package journaltest

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/conformance"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

type testCase = conformance.Case[*env]

func groups() []conformance.Group[*env] {
	return []conformance.Group[*env]{
		{Name: "Append", Cases: appendCases()},
		{Name: "Replay", Cases: replayCases()},
		{Name: "Concurrent", Cases: concurrentCases()},
		{Name: "Close", Cases: closeCases()},
		{Name: "Rewrite", Cases: rewriteCases()},
		{Name: "Reopen", Cases: reopenCases()},
		{Name: "TornTail", Cases: tornTailCases()},
		{Name: "Lock", Cases: lockCases()},
	}
}

func appendCases() []testCase {
	return []testCase{
		{Name: "RoundTrip", Run: func(t *testing.T, e *env) {
			es := Entries()
			e.append(t, e.Journal, es[:3]...)
			e.append(t, e.Journal, es[3:]...)
			e.requireEntries(t, e.Journal, Entries(), "every kind of entry, by value")
			e.requireEntries(t, e.Journal, Entries(), "a second replay")
		}},
		{Name: "Order", Run: func(t *testing.T, e *env) {
			// Calls of 1 to 5 entries; strings repeat across calls.
			var want []remediation.Entry
			for seq := 1; seq <= 300; {
				var call []remediation.Entry
				for range 1 + len(want)%5 {
					call = append(call, intentEntry("order", seq))
					seq++
				}
				e.append(t, e.Journal, call...)
				want = append(want, call...)
			}
			e.requireEntries(t, e.Journal, want, "entries in the order of the calls and within each call")
		}},
		{Name: "NoEntries", Run: func(t *testing.T, e *env) {
			require.NoError(t, e.Journal.Append(e.ctx), "an Append of no entries")
			e.requireEntries(t, e.Journal, nil)
			e.append(t, e.Journal, intentEntry("a", 1))
			require.NoError(t, e.Journal.Append(e.ctx), "an Append of no entries")
			e.requireEntries(t, e.Journal, []remediation.Entry{intentEntry("a", 1)})
		}},
		{Name: "CallerReusesEntries", Run: func(t *testing.T, e *env) {
			// Append must not keep the entries or the slices they hold:
			// the engine reuses them once it returns.
			es := Entries()
			e.append(t, e.Journal, es...)
			scramble(es)
			e.requireEntries(t, e.Journal, Entries(), "the entries as they were when Append was called")
		}},
		{Name: "CancelledContext", Run: func(t *testing.T, e *env) {
			e.append(t, e.Journal, Entries()[:2]...)
			ctx, cancel := context.WithCancel(e.ctx)
			cancel()
			err := e.Journal.Append(ctx, Entries()...)
			require.ErrorIs(t, err, context.Canceled)
			ctx, cancel = context.WithDeadline(e.ctx, time.Now().Add(-time.Second))
			defer cancel()
			err = e.Journal.Append(ctx, Entries()...)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			e.requireEntries(t, e.Journal, Entries()[:2], "an Append with a done ctx writes nothing")
		}},
		{Name: "FailureLeavesNothing", Run: func(t *testing.T, e *env) {
			// An entry of no kind cannot be written; the entries of one
			// call are written together, so none of them is, and the
			// journal refuses further appends.
			j := e.Journal
			e.append(t, j, Entries()[:2]...)
			if err := j.Append(e.ctx, intentEntry("failed", 1), remediation.Entry{}); err == nil {
				t.Skip("the journal accepted an entry of no kind: no failed Append to check")
			}
			e.requireEntries(t, j, Entries()[:2], "a failed Append leaves none of its entries")
			require.Error(t, j.Append(e.ctx, intentEntry("later", 1)), "after a failed Append the journal refuses further appends")
			e.requireEntries(t, j, Entries()[:2])
			if e.Reopen == nil {
				return
			}
			j = e.reopen(t, j)
			e.requireEntries(t, j, Entries()[:2], "after a failed Append and a reopen")
			e.append(t, j, intentEntry("failed", 1), intentEntry("later", 1))
			e.requireEntries(t, j, append(Entries()[:2], intentEntry("failed", 1), intentEntry("later", 1)))
		}},
	}
}

// scramble overwrites everything es holds, in place, as a caller reusing
// its entries and their slices would.
func scramble(es []remediation.Entry) {
	for _, ent := range es {
		switch {
		case ent.Record != nil:
			r := ent.Record
			r.ID, r.Name, r.Status, r.Created = "x", "x", remediation.StatusFailed, time.Time{}
			if c := r.Selection.Criteria; c != nil {
				c.Subject = "x"
				clear(c.SenderDomains)
				clear(c.Roles)
			}
			clear(r.Selection.Mailboxes)
			clear(r.Selection.Copies)
			clear(r.Recipients)
			clear(r.Calendar)
		case ent.Intent != nil:
			ent.Intent.Mailbox = "x"
			clear(ent.Intent.Copies)
		case ent.Outcomes != nil:
			ent.Outcomes.Done = !ent.Outcomes.Done
			clear(ent.Outcomes.Items)
		case ent.Calendar != nil:
			c := ent.Calendar
			for _, r := range c.Removed {
				clear(r.Raw)
				if p := r.Provenance.Previous; p != nil {
					clear(p.Raw)
					p.Method = "x"
				}
			}
			clear(c.Plan)
			clear(c.Decisions)
			clear(c.Removed)
		}
	}
	clear(es)
}

func replayCases() []testCase {
	return []testCase{
		{Name: "Empty", Run: func(t *testing.T, e *env) {
			e.requireEntries(t, e.Journal, nil, "a new journal")
		}},
		{Name: "StopEarly", Run: func(t *testing.T, e *env) {
			e.append(t, e.Journal, Entries()...)
			for _, stopAt := range []int{1, 4} {
				n := 0
				for ent, err := range e.Journal.Replay(e.ctx) {
					require.NoError(t, err)
					requireSame(t, Entries()[n:n+1], []remediation.Entry{ent})
					if n++; n == stopAt {
						break
					}
				}
				require.Equal(t, stopAt, n)
			}
			e.requireEntries(t, e.Journal, Entries(), "a whole replay after stopped ones")
		}},
		{Name: "WhileAppending", Run: func(t *testing.T, e *env) {
			// Entries appended while a replay runs may or may not be in
			// it; those appended before are, in order.
			old := Entries()
			e.append(t, e.Journal, old...)
			next, stop := iter.Pull2(e.Journal.Replay(e.ctx))
			defer stop()
			var got []remediation.Entry
			ent, err, ok := next()
			require.True(t, ok, "the replay ended at once")
			require.NoError(t, err)
			got = append(got, ent)
			var added []remediation.Entry
			for i := range 20 {
				added = append(added, intentEntry("during", i+1))
				e.append(t, e.Journal, added[i])
			}
			for {
				ent, err, ok := next()
				if !ok {
					break
				}
				require.NoError(t, err)
				got = append(got, ent)
			}
			require.GreaterOrEqual(t, len(got), len(old))
			requireSame(t, Entries(), got[:len(old)], "the entries appended before the replay")
			requireSame(t, added[:len(got)-len(old)], got[len(old):], "entries appended during the replay, in order")
			e.requireEntries(t, e.Journal, append(Entries(), added...))
		}},
	}
}

// callLayout describes the appends of one writer of the concurrency
// cases: call c appends 1 + c%3 entries. It returns, for each seq
// (from 1), the seq of the first entry of its call.
func callLayout(calls int) (firstOf []int, total int) {
	firstOf = []int{0}
	for c := range calls {
		first := len(firstOf)
		for range 1 + c%3 {
			firstOf = append(firstOf, first)
		}
	}
	return firstOf, len(firstOf) - 1
}

// appendCalls appends the calls of writer w as callLayout lays them out,
// from seq 1, and reports each call that succeeded to acked (which may be
// nil). It stops at the first error and returns it.
func appendCalls(ctx context.Context, j remediation.Journal, w string, calls int, acked func(seqs ...int)) error {
	seq := 1
	for c := range calls {
		var call []remediation.Entry
		var seqs []int
		for range 1 + c%3 {
			call = append(call, intentEntry(w, seq))
			seqs = append(seqs, seq)
			seq++
		}
		if err := j.Append(ctx, call...); err != nil {
			return err
		}
		if acked != nil {
			acked(seqs...)
		}
	}
	return nil
}

// checkWriters checks the intents of writers "w0"... in got: each
// writer's in order with no repeat, each call's entries together. It
// returns the number of entries of each writer.
func checkWriters(t *testing.T, got []remediation.Entry, firstOf []int) map[string]int {
	t.Helper()
	last := map[string]int{}
	for i, ent := range got {
		require.Equal(t, remediation.EntryIntent, ent.Kind, "entry %d", i)
		in := ent.Intent
		w, seq := in.RecordID, int(in.Seq)
		require.Less(t, seq, len(firstOf), "entry %d: seq %d of %s out of range", i, seq, w)
		require.Equal(t, last[w]+1, seq, "entry %d: %s's entries in order, each once", i, w)
		last[w] = seq
		requireSame(t, []remediation.Entry{intentEntry(w, seq)}, []remediation.Entry{ent}, "entry %d", i)
		if firstOf[seq] != seq {
			prev := got[i-1].Intent
			require.True(t, prev.RecordID == w && int(prev.Seq) == seq-1,
				"entry %d (%s %d): the entries of one Append call are together", i, w, seq)
		}
	}
	return last
}

func concurrentCases() []testCase {
	return []testCase{
		{Name: "Appends", Run: func(t *testing.T, e *env) {
			// Run with -race. Writers append calls of 1 to 3 entries while
			// readers replay; every entry lands once, each writer's in
			// order, each call's together.
			const calls = 20
			firstOf, total := callLayout(calls)
			writers := e.concurrency()
			var wg, rg sync.WaitGroup
			done := make(chan struct{})
			for r := range max(writers/4, 1) {
				rg.Add(1)
				go func() {
					defer rg.Done()
					for i := 0; ; i++ {
						select {
						case <-done:
							return
						default:
						}
						n := 0
						for _, err := range e.Journal.Replay(e.ctx) {
							if !assert.NoError(t, err, "reader %d, replay %d", r, i) {
								return
							}
							n++
						}
						assert.LessOrEqual(t, n, writers*total, "reader %d, replay %d", r, i)
					}
				}()
			}
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					assert.NoError(t, appendCalls(e.ctx, e.Journal, fmt.Sprintf("w%d", w), calls, nil))
				}()
			}
			wg.Wait()
			close(done)
			rg.Wait()
			got := e.replay(t, e.Journal)
			require.Len(t, got, writers*total, "every entry once")
			last := checkWriters(t, got, firstOf)
			for w := range writers {
				assert.Equal(t, total, last[fmt.Sprintf("w%d", w)], "w%d", w)
			}
		}},
	}
}

func closeCases() []testCase {
	return []testCase{
		{Name: "AppendAfterClose", Run: func(t *testing.T, e *env) {
			e.append(t, e.Journal, Entries()...)
			require.NoError(t, e.Journal.Close())
			require.ErrorIs(t, e.Journal.Append(e.ctx, Entries()[0]), remediation.ErrClosed)
		}},
		{Name: "ReplayAfterClose", Run: func(t *testing.T, e *env) {
			e.append(t, e.Journal, Entries()...)
			require.NoError(t, e.Journal.Close())
			n := 0
			for _, err := range e.Journal.Replay(e.ctx) {
				require.ErrorIs(t, err, remediation.ErrClosed, "a replay after Close yields no entry")
				n++
			}
			require.Equal(t, 1, n, "a replay after Close yields one error")
		}},
		{Name: "RewriteAfterClose", Run: func(t *testing.T, e *env) {
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()...)
			require.NoError(t, e.Journal.Close())
			_, _, err := rw.Rewrite(e.ctx, func(*remediation.Entry) bool { return true })
			require.ErrorIs(t, err, remediation.ErrClosed)
		}},
	}
}

// notIntents keeps the entries a compaction keeps of a finished action:
// no intents and no calendar steps.
func notIntents(ent *remediation.Entry) bool {
	return ent.Kind != remediation.EntryIntent && ent.Kind != remediation.EntryCalendar
}

// filter returns the entries of es keep returns true for.
func filter(es []remediation.Entry, keep func(*remediation.Entry) bool) []remediation.Entry {
	var out []remediation.Entry
	for i := range es {
		if keep(&es[i]) {
			out = append(out, es[i])
		}
	}
	return out
}

func rewriteCases() []testCase {
	return []testCase{
		{Name: "KeepsExactly", Run: func(t *testing.T, e *env) {
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()[:4]...)
			e.append(t, e.Journal, Entries()[4:]...)
			before, after, err := rw.Rewrite(e.ctx, notIntents)
			require.NoError(t, err)
			assert.Positive(t, before, "the size before")
			assert.GreaterOrEqual(t, after, int64(0), "the size after")
			kept := filter(Entries(), notIntents)
			e.requireEntries(t, e.Journal, kept, "the kept entries, in order")
			// Appends go on after the rewrite, the strings of dropped
			// entries included.
			e.append(t, e.Journal, Entries()...)
			e.requireEntries(t, e.Journal, append(kept, Entries()...))
		}},
		{Name: "KeepAll", Run: func(t *testing.T, e *env) {
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()...)
			_, _, err := rw.Rewrite(e.ctx, func(*remediation.Entry) bool { return true })
			require.NoError(t, err)
			e.requireEntries(t, e.Journal, Entries())
			e.append(t, e.Journal, Entries()...)
			e.requireEntries(t, e.Journal, append(Entries(), Entries()...))
		}},
		{Name: "KeepNone", Run: func(t *testing.T, e *env) {
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()...)
			before, after, err := rw.Rewrite(e.ctx, func(*remediation.Entry) bool { return false })
			require.NoError(t, err)
			assert.LessOrEqual(t, after, before, "a rewrite that keeps nothing does not grow the journal")
			e.requireEntries(t, e.Journal, nil)
			e.append(t, e.Journal, Entries()[1])
			e.requireEntries(t, e.Journal, Entries()[1:2])
		}},
		{Name: "Atomic", Run: func(t *testing.T, e *env) {
			// A rewrite whose ctx is cancelled part-way either stops with
			// the journal as it was or completes: never a mix.
			rw := needRewriter(t, e.Journal)
			var old []remediation.Entry
			for c := range 3 {
				var call []remediation.Entry
				for i := range 700 {
					call = append(call, intentEntry("atomic", c*700+i+1))
				}
				e.append(t, e.Journal, call...)
				old = append(old, call...)
			}
			odd := func(ent *remediation.Entry) bool { return ent.Intent.Seq%2 == 1 }
			ctx, cancel := context.WithCancel(e.ctx)
			defer cancel()
			n := 0
			_, _, err := rw.Rewrite(ctx, func(ent *remediation.Entry) bool {
				if n++; n == 10 {
					cancel()
				}
				return odd(ent)
			})
			if err == nil {
				t.Log("the rewrite completed in spite of its cancelled ctx")
				old = filter(old, odd)
			} else {
				require.ErrorIs(t, err, context.Canceled)
			}
			e.requireEntries(t, e.Journal, old, "all the old entries or exactly the kept ones (rewrite error: %v)", err)
			e.append(t, e.Journal, Entries()...)
			e.requireEntries(t, e.Journal, append(old, Entries()...), "the journal is usable after the rewrite")
		}},
		{Name: "CancelledContext", Run: func(t *testing.T, e *env) {
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()...)
			ctx, cancel := context.WithCancel(e.ctx)
			cancel()
			_, _, err := rw.Rewrite(ctx, func(*remediation.Entry) bool { return false })
			require.ErrorIs(t, err, context.Canceled)
			e.requireEntries(t, e.Journal, Entries(), "a failed rewrite leaves the journal as it was")
			e.append(t, e.Journal, Entries()[0])
			e.requireEntries(t, e.Journal, append(Entries(), Entries()[0]))
		}},
		{Name: "ReplayUnderWay", Run: func(t *testing.T, e *env) {
			// A replay that started before a rewrite reads the old entries.
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()...)
			next, stop := iter.Pull2(e.Journal.Replay(e.ctx))
			defer stop()
			ent, err, ok := next()
			require.True(t, ok, "the replay ended at once")
			require.NoError(t, err)
			got := []remediation.Entry{ent}
			_, _, err = rw.Rewrite(e.ctx, func(*remediation.Entry) bool { return false })
			require.NoError(t, err)
			for {
				ent, err, ok := next()
				if !ok {
					break
				}
				require.NoError(t, err)
				got = append(got, ent)
			}
			requireSame(t, Entries(), got, "a replay under way goes on reading the old entries")
			e.requireEntries(t, e.Journal, nil, "a new replay reads the rewritten journal")
		}},
		{Name: "ConcurrentAppends", Run: func(t *testing.T, e *env) {
			// Appends wait for a rewrite: none is lost or doubled.
			rw := needRewriter(t, e.Journal)
			const calls = 15
			firstOf, total := callLayout(calls)
			writers := e.concurrency()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					assert.NoError(t, appendCalls(e.ctx, e.Journal, fmt.Sprintf("w%d", w), calls, nil))
				}()
			}
			for range 5 {
				_, _, err := rw.Rewrite(e.ctx, func(*remediation.Entry) bool { return true })
				require.NoError(t, err)
			}
			wg.Wait()
			got := e.replay(t, e.Journal)
			require.Len(t, got, writers*total, "every entry once")
			checkWriters(t, got, firstOf)
		}},
		{Name: "Reopen", Run: func(t *testing.T, e *env) {
			rw := needRewriter(t, e.Journal)
			e.needReopen(t)
			e.append(t, e.Journal, Entries()...)
			_, _, err := rw.Rewrite(e.ctx, notIntents)
			require.NoError(t, err)
			kept := filter(Entries(), notIntents)
			j := e.reopen(t, e.Journal)
			e.requireEntries(t, j, kept, "the rewritten journal after a reopen")
			e.append(t, j, Entries()...)
			j = e.reopen(t, j)
			e.requireEntries(t, j, append(kept, Entries()...))
		}},
	}
}

func reopenCases() []testCase {
	return []testCase{
		{Name: "Empty", Run: func(t *testing.T, e *env) {
			e.needReopen(t)
			j := e.reopen(t, e.Journal)
			e.requireEntries(t, j, nil, "a journal closed empty")
			e.append(t, j, Entries()[0])
			j = e.reopen(t, j)
			e.requireEntries(t, j, Entries()[:1])
		}},
		{Name: "SeesEverything", Run: func(t *testing.T, e *env) {
			e.needReopen(t)
			var want []remediation.Entry
			for i := range 50 {
				want = append(want, intentEntry("before", i+1))
			}
			e.append(t, e.Journal, want...)
			e.append(t, e.Journal, Entries()[:5]...)
			e.append(t, e.Journal, Entries()[5:]...)
			want = append(want, Entries()...)
			j := e.reopen(t, e.Journal)
			e.requireEntries(t, j, want, "every entry appended before Close")
			// Appends go on after the reopen, repeating strings of
			// earlier entries.
			e.append(t, j, Entries()...)
			want = append(want, Entries()...)
			e.requireEntries(t, j, want)
			j = e.reopen(t, j)
			e.requireEntries(t, j, want, "after a second reopen")
		}},
		{Name: "AppendsRacingClose", Run: func(t *testing.T, e *env) {
			// Writers append while the journal is closed: every Append
			// that returned nil is in the journal when it is reopened.
			e.needReopen(t)
			const calls = 1000
			firstOf, _ := callLayout(calls)
			writers := e.concurrency()
			var mu sync.Mutex
			acked := map[string]int{} // highest acknowledged seq of each writer
			var n atomic.Int64
			enough := make(chan struct{})
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := fmt.Sprintf("w%d", w)
					// It stops at the first error: ErrClosed, or whatever
					// an Append racing Close gives.
					_ = appendCalls(e.ctx, e.Journal, name, calls, func(seqs ...int) {
						mu.Lock()
						acked[name] = seqs[len(seqs)-1]
						mu.Unlock()
						if n.Add(1) == 50 {
							close(enough)
						}
					})
				}()
			}
			stopped := make(chan struct{})
			go func() { wg.Wait(); close(stopped) }()
			select {
			case <-enough:
			case <-stopped:
				t.Fatalf("the writers stopped after %d Append calls", n.Load())
			}
			require.NoError(t, e.Journal.Close())
			<-stopped
			j, err := e.Reopen(t)
			require.NoError(t, err, "Reopen after Close")
			e.track(t, j)
			last := checkWriters(t, e.replay(t, j), firstOf)
			for w, seq := range acked {
				assert.GreaterOrEqual(t, last[w], seq, "%s: every acknowledged entry is in the journal", w)
			}
		}},
	}
}

// tornBytes is what a journal that cuts a torn write off when it is
// opened may report, as [journal.File] does.
type tornBytes interface{ TornBytes() int64 }

func (e *env) needTear(t *testing.T) {
	t.Helper()
	e.needReopen(t)
	if e.TearLastWrite == nil {
		t.Skip("the harness has no TearLastWrite hook: torn writes are not checked")
	}
}

// tearAndReopen closes j, tears its last write and reopens it.
func (e *env) tearAndReopen(t *testing.T, j remediation.Journal) remediation.Journal {
	t.Helper()
	require.NoError(t, j.Close())
	e.TearLastWrite(t)
	nj, err := e.Reopen(t)
	require.NoError(t, err, "a torn last write is cut off, not refused")
	require.NotNil(t, nj, "Reopen returned a nil journal")
	e.track(t, nj)
	if tb, ok := nj.(tornBytes); ok {
		assert.Positive(t, tb.TornBytes(), "TornBytes after a torn write")
	}
	return nj
}

func tornTailCases() []testCase {
	return []testCase{
		{Name: "LastAppendCutOff", Run: func(t *testing.T, e *env) {
			e.needTear(t)
			e.append(t, e.Journal, Entries()[:4]...)
			e.append(t, e.Journal, Entries()[4:]...)
			// The torn call brings strings of its own: the journal must
			// not take them as known once it is cut off.
			torn := []remediation.Entry{intentEntry("torn", 1), intentEntry("torn", 2)}
			e.append(t, e.Journal, torn...)
			j := e.tearAndReopen(t, e.Journal)
			e.requireEntries(t, j, Entries(), "the entries before the torn write, and none of it")
			e.append(t, j, torn...)
			e.requireEntries(t, j, append(Entries(), torn...), "appends after the repair")
			j = e.reopen(t, j)
			e.requireEntries(t, j, append(Entries(), torn...), "appends after the repair, reopened")
		}},
		{Name: "AfterRewrite", Run: func(t *testing.T, e *env) {
			e.needTear(t)
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()...)
			_, _, err := rw.Rewrite(e.ctx, notIntents)
			require.NoError(t, err)
			e.append(t, e.Journal, intentEntry("torn", 1))
			j := e.tearAndReopen(t, e.Journal)
			kept := filter(Entries(), notIntents)
			e.requireEntries(t, j, kept, "the rewritten entries, and none of the torn write after them")
			e.append(t, j, intentEntry("torn", 1))
			j = e.reopen(t, j)
			e.requireEntries(t, j, append(kept, intentEntry("torn", 1)))
		}},
	}
}

func (e *env) needExclusive(t *testing.T) {
	t.Helper()
	e.needReopen(t)
	if !e.Exclusive {
		t.Skip("the harness does not set Exclusive: the journal's lock is not checked")
	}
}

// requireRefused checks that a second open of the journal is refused.
func (e *env) requireRefused(t *testing.T, when string) {
	t.Helper()
	j2, err := e.Reopen(t)
	if j2 != nil && err == nil {
		j2.Close()
	}
	require.ErrorIs(t, err, journal.ErrLocked, "a second open %s", when)
}

func lockCases() []testCase {
	return []testCase{
		{Name: "SecondOpenRefused", Run: func(t *testing.T, e *env) {
			e.needExclusive(t)
			e.append(t, e.Journal, Entries()[:3]...)
			e.requireRefused(t, "while the journal is open")
			// The refused open changed nothing.
			e.append(t, e.Journal, Entries()[3:]...)
			e.requireEntries(t, e.Journal, Entries())
			j := e.reopen(t, e.Journal)
			e.requireEntries(t, j, Entries(), "Close releases the lock")
			e.requireRefused(t, "of the reopened journal")
			e.append(t, j, Entries()[0])
			e.requireEntries(t, j, append(Entries(), Entries()[0]))
		}},
		{Name: "AfterRewrite", Run: func(t *testing.T, e *env) {
			e.needExclusive(t)
			rw := needRewriter(t, e.Journal)
			e.append(t, e.Journal, Entries()...)
			_, _, err := rw.Rewrite(e.ctx, notIntents)
			require.NoError(t, err)
			e.requireRefused(t, "after a rewrite")
			e.append(t, e.Journal, Entries()[0])
			j := e.reopen(t, e.Journal)
			e.requireEntries(t, j, append(filter(Entries(), notIntents), Entries()[0]))
		}},
	}
}
