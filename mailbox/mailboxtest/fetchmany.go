package mailboxtest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// fetchManyCases check [mailbox.BatchFetcher], an optional capability:
// each case is skipped when the store does not offer it.
func fetchManyCases() []testCase {
	batched := func(t *testing.T, e *env) mailbox.BatchFetcher {
		t.Helper()
		bf, ok := e.Store.(mailbox.BatchFetcher)
		if !ok {
			t.Skip("the store does not implement mailbox.BatchFetcher")
		}
		return bf
	}
	type got struct {
		raw []byte
		err error
		n   int
	}
	collect := func(t *testing.T, e *env, bf mailbox.BatchFetcher, addrs []mailbox.Address) map[mailbox.Address]*got {
		t.Helper()
		out := map[mailbox.Address]*got{}
		err := bf.FetchMany(e.ctx, addrs, func(a mailbox.Address, raw []byte, err error) error {
			g := out[a]
			if g == nil {
				g = &got{}
				out[a] = g
			}
			g.n++
			g.raw = append([]byte(nil), raw...)
			g.err = err
			return nil
		})
		require.NoError(t, err)
		return out
	}
	return []testCase{
		{Name: "EachOnce", Run: func(t *testing.T, e *env) {
			bf := batched(t, e)
			owner := e.Owners[0]
			inbox := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 3)
			junk, junkRaw := e.seed(t, owner, mailbox.In(mailbox.RoleJunk), msg{key: "fm-junk", attName: "a.bin", attData: []byte("\x00\xff binary")})
			missing := inbox[2]
			missing.UID += 1000
			// Out of order, across folders, one repeated.
			addrs := []mailbox.Address{inbox[2], junk, inbox[0], missing, inbox[1], inbox[0]}
			res := collect(t, e, bf, addrs)
			require.Len(t, res, 5, "one call per distinct address")
			for _, a := range append(inbox, junk) {
				g := res[a]
				require.NotNil(t, g, "%s not reported", a)
				assert.Equal(t, 1, g.n, "%s reported once", a)
				require.NoError(t, g.err, "%s", a)
				assert.Equal(t, mustFetch(t, e, a), g.raw, "%s: the bytes Fetch returns", a)
			}
			assert.Equal(t, junkRaw, res[junk].raw)
			require.NotNil(t, res[missing])
			assert.ErrorIs(t, res[missing].err, mailbox.ErrNotFound)
			assert.Nil(t, res[missing].raw)
		}},
		{Name: "Empty", Run: func(t *testing.T, e *env) {
			bf := batched(t, e)
			require.NoError(t, bf.FetchMany(e.ctx, nil, func(mailbox.Address, []byte, error) error {
				t.Error("fn called for no address")
				return nil
			}))
		}},
		{Name: "StopsOnCallerError", Run: func(t *testing.T, e *env) {
			bf := batched(t, e)
			addrs := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 4)
			stop := errors.New("enough")
			calls := 0
			err := bf.FetchMany(e.ctx, addrs, func(mailbox.Address, []byte, error) error {
				calls++
				return stop
			})
			require.ErrorIs(t, err, stop)
			assert.Equal(t, 1, calls, "no call after fn's error")
			// The store is still usable.
			e.requireFetch(t, addrs[3], mustFetch(t, e, addrs[3]))
		}},
		{Name: "SeveralMailboxes", Run: func(t *testing.T, e *env) {
			bf := batched(t, e)
			a := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)[0]
			b := e.seedN(t, e.Owners[1], mailbox.In(mailbox.RoleInbox), 1)[0]
			err := bf.FetchMany(e.ctx, []mailbox.Address{a, b}, func(mailbox.Address, []byte, error) error { return nil })
			require.Error(t, err)
		}},
		{Name: "UnknownMailbox", Run: func(t *testing.T, e *env) {
			bf := batched(t, e)
			a := mailbox.Address{Mailbox: noSuchUser, Folder: "INBOX", UIDValidity: 1, UID: 1}
			err := bf.FetchMany(e.ctx, []mailbox.Address{a}, func(mailbox.Address, []byte, error) error { return nil })
			require.ErrorIs(t, err, mailbox.ErrNoMailbox)
		}},
		{Name: "StaleUIDValidity", Run: func(t *testing.T, e *env) {
			bf := batched(t, e)
			if e.ChangeUIDValidity == nil {
				t.Skip("the harness cannot change UIDVALIDITY")
			}
			owner := e.Owners[0]
			a, _ := e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: "fm-stale"})
			e.ChangeUIDValidity(t, owner, a.Folder)
			res := collect(t, e, bf, []mailbox.Address{a})
			require.NotNil(t, res[a])
			assert.ErrorIs(t, res[a].err, mailbox.ErrUIDValidity)
			assert.Nil(t, res[a].raw)
		}},
	}
}
