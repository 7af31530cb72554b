package pgjournal_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/automation"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

// both runs f on the two engines at once and returns their results.
func both[T any](engines [2]*remediation.Engine, f func(e *remediation.Engine) (T, error)) ([2]T, [2]error) {
	var out [2]T
	var errs [2]error
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = f(e)
		}()
	}
	wg.Wait()
	return out, errs
}

// oneWins checks that exactly one of errs is nil, and that the other is
// one of allowed.
func oneWins(t *testing.T, errs [2]error, allowed ...error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "both engines succeeded")
			winner = i
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || errors.Is(err, a)
		}
		require.True(t, ok, "the other engine's error: %v", err)
	}
	require.NotEqual(t, -1, winner, "neither engine succeeded: %v", errs)
	return winner
}

// recordEntries counts the journaled versions of record id with status st.
func recordEntries(t *testing.T, ctx context.Context, j *pgjournal.Journal, id string, st remediation.Status) int {
	t.Helper()
	n := 0
	for ent, err := range j.Replay(ctx) {
		require.NoError(t, err)
		if ent.Kind == remediation.EntryRecord && ent.Record.ID == id && ent.Record.Status == st {
			n++
		}
	}
	return n
}

// Two engines share one PostgreSQL journal: a proposal made on one is
// decided once when both decide on it at once, expires once, is undone
// once; automation on both engines acts on a cluster once within the
// cooldown.
func TestEnginesShareDecisions(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	ctx := context.Background()
	s := scenario{msgs: 10}
	tn := s.tenant(t, 4)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	var engines [2]*remediation.Engine
	var journals [2]*pgjournal.Journal
	for i := range engines {
		j, err := pgjournal.Open(ctx, url, &pgjournal.Options{Key: testKey(t), Holder: fmt.Sprintf("engine-%d", i+1), LeaseTimeout: 3 * time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { j.Close() })
		journals[i] = j
		opts := engineOptions()
		opts.Now = now
		opts.ApprovalTTL = time.Hour
		e, err := remediation.New(tn, nil, j, opts)
		require.NoError(t, err)
		require.True(t, e.Shared())
		engines[i] = e
	}
	e1, e2 := engines[0], engines[1]
	reqs := s.requests()

	t.Run("approve", func(t *testing.T) {
		p, err := e1.Propose(ctx, reqs[0])
		require.NoError(t, err)
		got, err := e2.Get(ctx, p.ID[:8])
		require.NoError(t, err, "a proposal of one engine is seen by the other")
		require.Equal(t, remediation.StatusPending, got.Status)
		recs, errs := both(engines, func(e *remediation.Engine) (*remediation.Record, error) {
			return e.Approve(ctx, p.ID, "approver")
		})
		w := oneWins(t, errs, remediation.ErrBusy, remediation.ErrNotPending)
		require.Equal(t, remediation.StatusCompleted, recs[w].Status)
		require.Equal(t, 1, recordEntries(t, ctx, journals[0], p.ID, remediation.StatusQueued), "approved once")
		for _, e := range engines {
			r, err := e.Get(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, recs[w].Counts, r.Counts)
			require.Equal(t, remediation.StatusCompleted, r.Status)
		}
		require.EqualValues(t, len(s.users)*s.msgs/2, recs[w].Counts.Succeeded)
		approved := recs[w]

		// Undo on both at once: one undo record.
		undos, errs := both(engines, func(e *remediation.Engine) (*remediation.Record, error) {
			return e.Undo(ctx, p.ID, "soc")
		})
		w = oneWins(t, errs, remediation.ErrBusy, remediation.ErrAlreadyUndone)
		require.Equal(t, remediation.StatusCompleted, undos[w].Status)
		require.Equal(t, approved.Counts.Succeeded, undos[w].Counts.Succeeded)
		for _, u := range s.users {
			ms, err := tn.Copies(u)
			require.NoError(t, err)
			require.Len(t, ms, s.msgs, "every copy back, once")
			for _, m := range ms {
				require.Equal(t, mailbox.RoleInbox, m.Role)
			}
		}
		for _, e := range engines {
			r, err := e.Get(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, undos[w].ID, r.UndoneBy)
		}
	})

	t.Run("decline", func(t *testing.T) {
		p, err := e2.Propose(ctx, reqs[2])
		require.NoError(t, err)
		_, errs := both(engines, func(e *remediation.Engine) (*remediation.Record, error) {
			if e == e1 {
				return e.Decline(ctx, p.ID, "approver", "false positive")
			}
			return e.Approve(ctx, p.ID, "approver")
		})
		w := oneWins(t, errs, remediation.ErrBusy, remediation.ErrNotPending)
		want := remediation.StatusDeclined
		if w == 1 {
			want = remediation.StatusCompleted
		}
		for _, e := range engines {
			r, err := e.Get(ctx, p.ID)
			require.NoError(t, err)
			require.Equal(t, want, r.Status)
		}
		require.Equal(t, 1, recordEntries(t, ctx, journals[0], p.ID, remediation.StatusQueued)+
			recordEntries(t, ctx, journals[0], p.ID, remediation.StatusDeclined), "decided once")
	})

	t.Run("expire", func(t *testing.T) {
		p, err := e1.Propose(ctx, reqs[1])
		require.NoError(t, err)
		clock.Add(int64(2 * time.Hour))
		recs, errs := both(engines, func(e *remediation.Engine) (*remediation.Record, error) {
			return e.Get(ctx, p.ID)
		})
		for i, err := range errs {
			require.NoError(t, err)
			require.Equal(t, remediation.StatusExpired, recs[i].Status)
		}
		require.Equal(t, 1, recordEntries(t, ctx, journals[1], p.ID, remediation.StatusExpired), "expired once")
		_, err = e2.Approve(ctx, p.ID, "approver")
		require.ErrorIs(t, err, remediation.ErrExpired)
	})

	t.Run("automation", func(t *testing.T) {
		var members []cluster.Member
		for i := 1; i < s.msgs; i += 2 { // newsletters no action moved
			if i%5 != 0 {
				members = append(members, cluster.Member{MessageID: s.msgID(i)})
			}
		}
		c := &cluster.Cluster{Kind: cluster.KindCampaign, Seed: cluster.SeedMessage(s.msgID(1)), Members: members}
		var rs [2]*automation.Responder
		for i, e := range engines {
			r, err := automation.New(e, automation.Options{Kinds: cluster.KindCampaign})
			require.NoError(t, err)
			rs[i] = r
		}
		// Each Responder has recalled the (empty) action center before
		// the race, as a long-running one has.
		for _, r := range rs {
			_, d, err := r.Remediate(ctx, &cluster.Cluster{Kind: cluster.KindCampaign, Seed: cluster.SeedMessage("none@x.example"),
				Members: []cluster.Member{{MessageID: "none@x.example"}}})
			require.NoError(t, err)
			require.Equal(t, automation.DecisionSkippedEmpty, d)
		}
		type result struct {
			rec *remediation.Record
			d   automation.Decision
		}
		var res [2]result
		var wg sync.WaitGroup
		for i, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, d, err := r.Remediate(ctx, c)
				if err != nil {
					t.Errorf("responder %d: %v", i+1, err)
				}
				res[i] = result{rec, d}
			}()
		}
		wg.Wait()
		executed := 0
		for _, r := range res {
			switch r.d {
			case automation.DecisionExecuted:
				executed++
				require.EqualValues(t, len(members)*len(s.users), r.rec.Counts.Succeeded)
			case automation.DecisionSkippedRecent:
			default:
				t.Fatalf("decision %s", r.d)
			}
		}
		require.Equal(t, 1, executed, "one engine acts on the cluster: %+v", res)
		// Later, on either engine, within the cooldown: nothing again.
		clock.Add(int64(10 * time.Minute))
		for _, r := range rs {
			_, d, err := r.Remediate(ctx, c)
			require.NoError(t, err)
			require.Equal(t, automation.DecisionSkippedRecent, d)
		}
		n := 0
		for r, err := range e1.Query(ctx, remediation.Filter{Sources: []remediation.Source{remediation.SourceAutomation}}) {
			require.NoError(t, err)
			n++
			require.Equal(t, remediation.StatusCompleted, r.Status)
		}
		require.Equal(t, 1, n, "one automated action in the action center")
	})
}
