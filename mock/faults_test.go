package mock_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

var errBoom = errors.New("boom")

// seedInbox delivers n messages to owner and returns their addresses.
func seedInbox(t *testing.T, tenant *mock.Tenant, owner string, n int) []mailbox.Address {
	t.Helper()
	var out []mailbox.Address
	for i := range n {
		got, err := tenant.Deliver(t.Context(), rawMessage(fmt.Sprintf("s%d.%s", i, owner), "x@outside.example", owner, "seed"), nil)
		require.NoError(t, err)
		out = append(out, got...)
	}
	return out
}

// inboxCount returns how many seeded copies are in owner's role folder.
func roleCount(t *testing.T, tenant *mock.Tenant, owner string, r mailbox.Role) int {
	t.Helper()
	n := 0
	for _, err := range tenant.Search(context.Background(), owner, mailbox.Criteria{Subject: "seed", Roles: []mailbox.Role{r}}) {
		require.NoError(t, err)
		n++
	}
	return n
}

func TestCallsCounting(t *testing.T) {
	tenant := newTenant(t, "a@example.com")
	as := seedInbox(t, tenant, "a@example.com", 2)
	assert.Equal(t, 0, tenant.Calls(), "Deliver is not a backend call")
	ctx := t.Context()

	_, _ = tenant.Mailboxes(ctx)
	_, _ = tenant.Fetch(ctx, as[0])
	seq := tenant.Search(ctx, "a@example.com", mailbox.Criteria{Subject: "seed"})
	assert.Equal(t, 2, tenant.Calls(), "Search counts when iteration starts")
	for range seq {
	}
	assert.Equal(t, 3, tenant.Calls())
	_, _ = tenant.Move(ctx, as[:1], mailbox.In(mailbox.RoleJunk))
	_, _ = tenant.Expunge(ctx, as[1:])
	_, _ = tenant.Append(ctx, "a@example.com", mailbox.In(mailbox.RoleInbox), rawMessage("x@x", "x@y.example", "a@example.com", "s"), nil)
	assert.Equal(t, 6, tenant.Calls())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := tenant.Mailboxes(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 7, tenant.Calls(), "failed calls count too")
}

func TestFailNth(t *testing.T) {
	ctx := t.Context()
	calls := []struct {
		op   mock.Op
		call func(t *mock.Tenant, as []mailbox.Address) error
	}{
		{mock.OpMailboxes, func(tn *mock.Tenant, _ []mailbox.Address) error { _, err := tn.Mailboxes(ctx); return err }},
		{mock.OpFetch, func(tn *mock.Tenant, as []mailbox.Address) error { _, err := tn.Fetch(ctx, as[0]); return err }},
		{mock.OpSearch, func(tn *mock.Tenant, _ []mailbox.Address) error {
			for _, err := range tn.Search(ctx, "a@example.com", mailbox.Criteria{Subject: "seed"}) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{mock.OpMove, func(tn *mock.Tenant, as []mailbox.Address) error {
			_, err := tn.Move(ctx, as[:1], mailbox.In(mailbox.RoleJunk))
			return err
		}},
		{mock.OpExpunge, func(tn *mock.Tenant, as []mailbox.Address) error { _, err := tn.Expunge(ctx, as[1:]); return err }},
		{mock.OpAppend, func(tn *mock.Tenant, _ []mailbox.Address) error {
			_, err := tn.Append(ctx, "a@example.com", mailbox.In(mailbox.RoleInbox), rawMessage("n@x", "x@y.example", "a@example.com", "seed"), nil)
			return err
		}},
	}
	// Fail each position of the sequence in turn: exactly that call fails,
	// and a failed call changes nothing.
	for pos := 1; pos <= len(calls); pos++ {
		t.Run(fmt.Sprintf("position %d (%s)", pos, calls[pos-1].op), func(t *testing.T) {
			tenant := newTenant(t, "a@example.com")
			as := seedInbox(t, tenant, "a@example.com", 2)
			tenant.FailNth(pos, errBoom)
			for i, c := range calls {
				err := c.call(tenant, as)
				if i+1 == pos {
					require.ErrorIs(t, err, errBoom, "call %d", i+1)
					assert.Contains(t, err.Error(), string(c.op))
				} else {
					require.NoError(t, err, "call %d", i+1)
				}
			}
			// Without a fault: one copy moved, one expunged, one appended.
			want := map[mock.Op][2]int{
				mock.OpMove:    {2, 0},
				mock.OpExpunge: {2, 1},
				mock.OpAppend:  {0, 1},
			}
			w, ok := want[calls[pos-1].op]
			if !ok {
				w = [2]int{1, 1}
			}
			assert.Equal(t, w[0], roleCount(t, tenant, "a@example.com", mailbox.RoleInbox), "inbox")
			assert.Equal(t, w[1], roleCount(t, tenant, "a@example.com", mailbox.RoleJunk), "junk")
		})
	}
}

func TestFailOpAndClear(t *testing.T) {
	tenant := newTenant(t, "a@example.com")
	as := seedInbox(t, tenant, "a@example.com", 1)
	ctx := t.Context()
	tenant.FailOp(mock.OpFetch, nil)
	for range 3 {
		_, err := tenant.Fetch(ctx, as[0])
		require.ErrorIs(t, err, mock.ErrInjected)
	}
	_, err := tenant.Mailboxes(ctx)
	require.NoError(t, err, "other ops unaffected")

	// FailNth wins over FailOp for its call.
	tenant.FailNth(1, errBoom)
	_, err = tenant.Fetch(ctx, as[0])
	require.ErrorIs(t, err, errBoom)

	tenant.ClearFaults()
	_, err = tenant.Fetch(ctx, as[0])
	require.NoError(t, err)

	tenant.FailNth(0, errBoom) // ignored
	_, err = tenant.Fetch(ctx, as[0])
	require.NoError(t, err)
}

func TestFaultPartial(t *testing.T) {
	for _, tc := range []struct {
		name string
		k    int
		want int // copies handled
	}{{"none", 0, 0}, {"two", 2, 2}, {"beyond batch", 9, 4}, {"negative", -1, 0}} {
		t.Run("move "+tc.name, func(t *testing.T) {
			tenant := newTenant(t, "a@example.com")
			as := seedInbox(t, tenant, "a@example.com", 4)
			tenant.InjectOp(mock.OpMove, mock.Fault{Err: errBoom, Mode: mock.FaultPartial, K: tc.k})
			moved, err := tenant.Move(t.Context(), as, mailbox.In(mailbox.RoleRecoverable))
			require.NoError(t, err, "a partial batch reports per copy")
			require.Len(t, moved, 4)
			for i, m := range moved {
				assert.Equal(t, as[i], m.From)
				if i < tc.want {
					assert.NoError(t, m.Err)
				} else {
					assert.ErrorIs(t, m.Err, errBoom)
					assert.True(t, m.To.IsZero())
				}
			}
			assert.Equal(t, tc.want, roleCount(t, tenant, "a@example.com", mailbox.RoleRecoverable))
			assert.Equal(t, 4-tc.want, roleCount(t, tenant, "a@example.com", mailbox.RoleInbox))
		})
		t.Run("expunge "+tc.name, func(t *testing.T) {
			tenant := newTenant(t, "a@example.com")
			as := seedInbox(t, tenant, "a@example.com", 4)
			tenant.InjectNth(1, mock.Fault{Err: errBoom, Mode: mock.FaultPartial, K: tc.k})
			errs, err := tenant.Expunge(t.Context(), as)
			require.NoError(t, err)
			for i, e := range errs {
				if i < tc.want {
					assert.NoError(t, e)
				} else {
					assert.ErrorIs(t, e, errBoom)
				}
			}
			assert.Equal(t, 4-tc.want, roleCount(t, tenant, "a@example.com", mailbox.RoleInbox))
		})
	}
}

func TestFaultAfter(t *testing.T) {
	ctx := t.Context()
	t.Run("move", func(t *testing.T) {
		tenant := newTenant(t, "a@example.com")
		as := seedInbox(t, tenant, "a@example.com", 3)
		tenant.InjectNth(1, mock.Fault{Err: errBoom, Mode: mock.FaultAfter})
		moved, err := tenant.Move(ctx, as, mailbox.In(mailbox.RoleJunk))
		require.ErrorIs(t, err, errBoom)
		assert.Nil(t, moved)
		assert.Equal(t, 3, roleCount(t, tenant, "a@example.com", mailbox.RoleJunk), "the move took effect")
	})
	t.Run("expunge", func(t *testing.T) {
		tenant := newTenant(t, "a@example.com")
		as := seedInbox(t, tenant, "a@example.com", 3)
		tenant.InjectOp(mock.OpExpunge, mock.Fault{Mode: mock.FaultAfter})
		_, err := tenant.Expunge(ctx, as)
		require.ErrorIs(t, err, mock.ErrInjected)
		assert.Equal(t, 0, roleCount(t, tenant, "a@example.com", mailbox.RoleInbox))
	})
	t.Run("append", func(t *testing.T) {
		tenant := newTenant(t, "a@example.com")
		tenant.InjectOp(mock.OpAppend, mock.Fault{Err: errBoom, Mode: mock.FaultAfter})
		_, err := tenant.Append(ctx, "a@example.com", mailbox.In(mailbox.RoleQuarantine), rawMessage("q@x", "x@y.example", "a@example.com", "seed"), nil)
		require.ErrorIs(t, err, errBoom)
		assert.Equal(t, 1, roleCount(t, tenant, "a@example.com", mailbox.RoleQuarantine))
	})
	t.Run("fetch treats it as before", func(t *testing.T) {
		tenant := newTenant(t, "a@example.com")
		as := seedInbox(t, tenant, "a@example.com", 1)
		tenant.InjectOp(mock.OpFetch, mock.Fault{Err: errBoom, Mode: mock.FaultAfter})
		raw, err := tenant.Fetch(ctx, as[0])
		require.ErrorIs(t, err, errBoom)
		assert.Nil(t, raw)
	})
	t.Run("append partial treated as before", func(t *testing.T) {
		tenant := newTenant(t, "a@example.com")
		tenant.InjectOp(mock.OpAppend, mock.Fault{Err: errBoom, Mode: mock.FaultPartial, K: 1})
		_, err := tenant.Append(ctx, "a@example.com", mailbox.In(mailbox.RoleInbox), rawMessage("p@x", "x@y.example", "a@example.com", "seed"), nil)
		require.ErrorIs(t, err, errBoom)
		assert.Equal(t, 0, roleCount(t, tenant, "a@example.com", mailbox.RoleInbox))
	})
}

func TestLatency(t *testing.T) {
	tenant := newTenant(t, "a@example.com")
	tenant.SetLatency(30 * time.Millisecond)
	start := time.Now()
	_, err := tenant.Mailboxes(t.Context())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)

	tenant.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = tenant.Mailboxes(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the wait ends with ctx")

	tenant.ClearFaults()
	_, err = tenant.Mailboxes(t.Context())
	require.NoError(t, err)
}

func TestFaultModeString(t *testing.T) {
	assert.Equal(t, "before", mock.FaultBefore.String())
	assert.Equal(t, "partial", mock.FaultPartial.String())
	assert.Equal(t, "after", mock.FaultAfter.String())
	assert.Equal(t, "FaultMode(7)", mock.FaultMode(7).String())
}

func TestSearchFaults(t *testing.T) {
	crit := mailbox.Criteria{Subject: "seed"}
	for _, tc := range []struct {
		name     string
		fault    mock.Fault
		wantHits int
	}{
		{"before", mock.Fault{Err: errBoom}, 0},
		{"partial", mock.Fault{Err: errBoom, Mode: mock.FaultPartial, K: 2}, 2},
		{"partial beyond the hits", mock.Fault{Err: errBoom, Mode: mock.FaultPartial, K: 10}, 5},
		{"after", mock.Fault{Err: errBoom, Mode: mock.FaultAfter}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := newTenant(t, "a@example.com")
			seedInbox(t, tenant, "a@example.com", 5)
			tenant.InjectOp(mock.OpSearch, tc.fault)
			hits, errs := 0, 0
			for _, err := range tenant.Search(t.Context(), "a@example.com", crit) {
				if err != nil {
					require.ErrorIs(t, err, errBoom)
					errs++
					continue
				}
				require.Zero(t, errs, "no hit after the error")
				hits++
			}
			assert.Equal(t, tc.wantHits, hits)
			assert.Equal(t, 1, errs)
		})
	}
	t.Run("caller stops first", func(t *testing.T) {
		tenant := newTenant(t, "a@example.com")
		seedInbox(t, tenant, "a@example.com", 5)
		tenant.InjectOp(mock.OpSearch, mock.Fault{Err: errBoom, Mode: mock.FaultAfter})
		n := 0
		for _, err := range tenant.Search(t.Context(), "a@example.com", crit) {
			require.NoError(t, err)
			n++
			if n == 2 {
				break
			}
		}
		assert.Equal(t, 2, n)
	})
	t.Run("criteria error wins", func(t *testing.T) {
		tenant := newTenant(t, "a@example.com")
		tenant.InjectOp(mock.OpSearch, mock.Fault{Err: errBoom, Mode: mock.FaultAfter})
		var errs []error
		for _, err := range tenant.Search(t.Context(), "a@example.com", mailbox.Criteria{}) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], mailbox.ErrEmptyCriteria)
	})
}
