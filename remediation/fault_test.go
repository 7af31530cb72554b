package remediation_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// countingStore counts, per copy (mailbox and Message-ID), the moves and
// purges the backend reported as done.
type countingStore struct {
	*mock.Tenant
	mu    sync.Mutex
	acted map[string]int
	ids   map[mailbox.Address]string
}

func newCountingStore(t *mock.Tenant) *countingStore {
	return &countingStore{Tenant: t, acted: map[string]int{}, ids: map[mailbox.Address]string{}}
}

func (c *countingStore) learn(ctx context.Context, addrs []mailbox.Address) {
	for _, a := range addrs {
		c.mu.Lock()
		_, ok := c.ids[a]
		c.mu.Unlock()
		if ok {
			continue
		}
		for m, err := range c.Tenant.Search(ctx, a.Mailbox, mailbox.Criteria{Recipients: []string{a.Mailbox}, Folders: []string{a.Folder}}) {
			if err != nil {
				break
			}
			c.mu.Lock()
			c.ids[m.Address] = m.MessageID
			c.mu.Unlock()
		}
	}
}

func (c *countingStore) Move(ctx context.Context, addrs []mailbox.Address, to mailbox.Location) ([]mailbox.Moved, error) {
	c.learn(ctx, addrs)
	moved, err := c.Tenant.Move(ctx, addrs, to)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range moved {
		if m.Err == nil && m.To != m.From {
			c.acted[m.From.Mailbox+"|"+c.ids[m.From]]++
			c.ids[m.To] = c.ids[m.From]
		}
	}
	return moved, err
}

func (c *countingStore) Expunge(ctx context.Context, addrs []mailbox.Address) ([]error, error) {
	c.learn(ctx, addrs)
	errs, err := c.Tenant.Expunge(ctx, addrs)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range errs {
		if e == nil {
			c.acted[addrs[i].Mailbox+"|"+c.ids[addrs[i]]]++
		}
	}
	return errs, err
}

var faultUsers = []string{"u1@corp.example", "u2@corp.example", "u3@corp.example", "u4@corp.example", "u5@corp.example"}
var faultIDs = []string{"f1@evil.example", "f2@evil.example", "f3@evil.example"}

func faultTenant(t *testing.T) *mock.Tenant {
	t.Helper()
	tn := mock.New(nil)
	for _, u := range faultUsers {
		require.NoError(t, tn.AddUser(u))
	}
	ctx := context.Background()
	for i, id := range faultIDs {
		raw := msg(id, "billing@evil.example", "Invoice", faultUsers...)
		if i == 2 {
			raw = invite(id, "billing@evil.example", "uid-fault", faultUsers...)
		}
		_, err := tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: faultUsers})
		require.NoError(t, err)
	}
	return tn
}

// snapshot is the state a test compares: where each copy is and which
// calendar entries exist.
func snapshot(t *testing.T, tn *mock.Tenant) map[string][]string {
	t.Helper()
	s := map[string][]string{}
	for _, id := range faultIDs {
		s[id] = where(t, tn, id)
	}
	for _, u := range faultUsers {
		es, err := tn.Find(context.Background(), u, calendar.Query{UID: "uid-fault"})
		require.NoError(t, err)
		for _, e := range es {
			s["cal:"+u] = append(s["cal:"+u], string(e.Provenance.Kind))
		}
	}
	return s
}

// TestFaultAtEachCall fails each backend call of an action in turn (in
// three ways: before the call has an effect, after part of a batch, and
// after the effect with the reply lost), restarts the engine on the same
// journal, resumes, and checks that the final state equals the fault-free
// one, that no copy was lost or acted on twice, and that every copy has
// exactly one final outcome.
func TestFaultAtEachCall(t *testing.T) {
	ctx := context.Background()
	sel := remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}}
	for _, action := range []remediation.Action{remediation.SoftDelete, remediation.HardDelete, remediation.Undo} {
		t.Run(string(action), func(t *testing.T) {
			req := remediation.Request{Action: action, Actor: "soc", Selection: sel}
			// run starts the action under test; for an undo, the fault-free
			// soft delete it undoes runs first.
			run := func(e *remediation.Engine) (*remediation.Record, error) {
				if action != remediation.Undo {
					return e.Execute(ctx, req)
				}
				var id string
				for r, err := range e.Query(ctx, remediation.Filter{Actions: []remediation.Action{remediation.SoftDelete}}) {
					require.NoError(t, err)
					id = r.ID
				}
				return e.Undo(ctx, id, "soc")
			}
			setup := func(e *remediation.Engine) {
				if action == remediation.Undo {
					_, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: sel})
					require.NoError(t, err)
				}
			}
			opts := func() *remediation.Options {
				return &remediation.Options{BatchSize: 2, Workers: 2, Logger: testLogger(t)}
			}
			// The fault-free run.
			tn := faultTenant(t)
			e, err := remediation.New(tn, tn, journal.NewMemory(), opts())
			require.NoError(t, err)
			setup(e)
			before := tn.Calls()
			rec, err := run(e)
			require.NoError(t, err)
			require.Equal(t, int64(15), rec.Counts.Succeeded)
			calls := tn.Calls() - before
			want := snapshot(t, tn)
			t.Logf("fault-free run: %d backend calls", calls)
			require.GreaterOrEqual(t, calls, 10)

			modes := []struct {
				name  string
				fault mock.Fault
			}{
				{"before", mock.Fault{Mode: mock.FaultBefore}},
				{"partial", mock.Fault{Mode: mock.FaultPartial, K: 1}},
				{"after", mock.Fault{Mode: mock.FaultAfter}},
			}
			for _, mode := range modes {
				for k := 1; k <= calls+1; k++ {
					t.Run(fmt.Sprintf("%s/call=%d", mode.name, k), func(t *testing.T) {
						tn := faultTenant(t)
						cs := newCountingStore(tn)
						j := journal.NewMemory()
						e, err := remediation.New(cs, tn, j, opts())
						require.NoError(t, err)
						setup(e)
						clear(cs.acted)
						tn.InjectNth(k, mode.fault)
						rec, _ := run(e)
						tn.ClearFaults()

						// Restart: a new engine on the same journal.
						e2, err := remediation.New(cs, tn, j, opts())
						require.NoError(t, err)
						if rec == nil {
							// Refused before anything was recorded: run it again.
							rec, err = run(e2)
							require.NoError(t, err)
						} else {
							got, err := e2.Get(ctx, rec.ID)
							require.NoError(t, err)
							assert.Equal(t, rec.Counts, got.Counts, "the journal holds the counts")
							if rec.Status != remediation.StatusCompleted {
								recs, err := e2.Resume(ctx)
								require.NoError(t, err)
								require.Len(t, recs, 1)
								rec = recs[0]
							}
						}
						assert.Equal(t, remediation.StatusCompleted, rec.Status, rec.Error)
						assert.False(t, rec.Incomplete)
						assert.Equal(t, want, snapshot(t, tn), "final state equals the fault-free state")
						for key, n := range cs.acted {
							assert.LessOrEqual(t, n, 1, "copy %s acted on twice", key)
						}
						// Exactly one final outcome per copy.
						final := map[string]remediation.OutcomeKind{}
						for o, err := range e2.Outcomes(ctx, rec.ID) {
							require.NoError(t, err)
							key := o.Copy.Mailbox + "|" + o.MessageID
							if prev, ok := final[key]; ok {
								assert.Equal(t, remediation.Failed, prev, "copy %s has two final outcomes", key)
							}
							final[key] = o.Kind
						}
						assert.Len(t, final, 15)
						for key, kind := range final {
							assert.Equal(t, remediation.Succeeded, kind, key)
						}
						assert.Equal(t, remediation.Counts{Succeeded: 15}, rec.Counts)
						// A third engine rebuilds the same record.
						e3, err := remediation.New(cs, tn, j, opts())
						require.NoError(t, err)
						got, err := e3.Get(ctx, rec.ID)
						require.NoError(t, err)
						assert.Equal(t, rec.Counts, got.Counts)
						assert.Equal(t, remediation.StatusCompleted, got.Status)
					})
				}
			}
		})
	}
}

// TestResumeCopiesWithoutMessageID: copies of a message without a
// Message-ID whose hard delete was interrupted are looked for at their
// address on resume. A copy still there is purged then, never reported
// purged while it stays; one that is gone is reported not found.
func TestResumeCopiesWithoutMessageID(t *testing.T) {
	ctx := context.Background()
	raw := []byte("From: Payroll <payroll@noid.example>\r\nTo: ann@corp.example, ben@corp.example\r\n" +
		"Subject: No id here\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nhttps://noid.example/login\r\n")
	for _, mode := range []mock.FaultMode{mock.FaultBefore, mock.FaultAfter} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			tn := mock.New(nil)
			for _, u := range []string{"ann@corp.example", "ben@corp.example"} {
				require.NoError(t, tn.AddUser(u))
			}
			addrs, err := tn.Deliver(ctx, raw, nil)
			require.NoError(t, err)
			require.Len(t, addrs, 2)
			j := journal.NewMemory()
			e, err := remediation.New(tn, tn, j, &remediation.Options{Logger: testLogger(t)})
			require.NoError(t, err)
			tn.InjectOp(mock.OpExpunge, mock.Fault{Mode: mode})
			rec, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc",
				Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"noid.example"}}}})
			require.Error(t, err)
			require.NotNil(t, rec)
			tn.ClearFaults()

			e2, err := remediation.New(tn, tn, j, &remediation.Options{Logger: testLogger(t)})
			require.NoError(t, err)
			recs, err := e2.Resume(ctx)
			require.NoError(t, err)
			for _, a := range addrs {
				_, err := tn.Fetch(ctx, a)
				require.ErrorIs(t, err, mailbox.ErrNotFound, "%s purged", a)
			}
			if len(recs) == 1 {
				rec = recs[0]
			} else {
				rec, err = e2.Get(ctx, rec.ID)
				require.NoError(t, err)
			}
			var kinds []remediation.OutcomeKind
			for o, err := range e2.Outcomes(ctx, rec.ID) {
				require.NoError(t, err)
				if o.Kind != remediation.Failed {
					kinds = append(kinds, o.Kind)
				}
			}
			if mode == mock.FaultBefore {
				assert.Equal(t, []remediation.OutcomeKind{remediation.Succeeded, remediation.Succeeded}, kinds, "purged on resume")
			} else {
				assert.Len(t, kinds, 2)
			}
		})
	}
}
