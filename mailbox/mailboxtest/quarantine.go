package mailboxtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// quarantineCases are what the remediation engine's quarantine, release
// and undo need of a backend: copies moved to the admin-only quarantine
// folder from every folder delivery or a user puts them in, found there
// by role across the mailbox (the admin's view of what is held), left
// where they are when already held, and moved back to the folder they
// came from (undo) or to the inbox (release), unchanged.
func quarantineCases() []testCase {
	return []testCase{
		{Name: "HoldAndUndo", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			from := []mailbox.Role{mailbox.RoleInbox, mailbox.RoleJunk, mailbox.RoleDeleted, mailbox.RoleRecoverable}
			type copyOf struct {
				addr   mailbox.Address
				raw    []byte
				folder string
			}
			var copies []copyOf
			for _, r := range from {
				a, raw := e.seed(t, owner, mailbox.In(r), msg{key: "hold-" + string(r)})
				copies = append(copies, copyOf{a, raw, a.Folder})
			}
			addrs := make([]mailbox.Address, len(copies))
			for i, c := range copies {
				addrs[i] = c.addr
			}
			moved, err := e.Store.Move(e.ctx, addrs, mailbox.In(mailbox.RoleQuarantine))
			require.NoError(t, err)
			require.Len(t, moved, len(addrs))
			held := map[string]bool{}
			for i, m := range moved {
				require.NoError(t, m.Err, "from %s", from[i])
				e.requireFetch(t, m.To, copies[i].raw)
				e.requireGone(t, copies[i].addr)
				held[m.To.String()] = true
			}
			// The admin's view: every copy of the mailbox held in
			// quarantine, by the owner as recipient and the role.
			got := e.search(t, owner, mailbox.Criteria{Recipients: []string{owner}, Roles: []mailbox.Role{mailbox.RoleQuarantine}})
			require.Len(t, got, len(from))
			for _, m := range got {
				assert.Equal(t, mailbox.RoleQuarantine, m.Role)
				assert.True(t, held[m.Address.String()], "%s is a held copy", m.Address)
			}
			// Undo: each copy back to the folder it came from.
			for i, m := range moved {
				back, err := e.Store.Move(e.ctx, []mailbox.Address{m.To}, mailbox.InFolder(copies[i].folder))
				require.NoError(t, err)
				require.NoError(t, back[0].Err)
				assert.Equal(t, copies[i].folder, back[0].To.Folder)
				e.requireFetch(t, back[0].To, copies[i].raw)
			}
			assert.Empty(t, e.search(t, owner, mailbox.Criteria{Recipients: []string{owner}, Roles: []mailbox.Role{mailbox.RoleQuarantine}}))
		}},
		{Name: "AlreadyHeldThenReleased", Run: func(t *testing.T, e *env) {
			o0, o1 := e.Owners[0], e.Owners[1]
			raw := e.raw(msg{key: "held", to: []string{o0, o1}})
			a0 := e.seedRaw(t, o0, mailbox.In(mailbox.RoleQuarantine), raw)
			a1 := e.seedRaw(t, o1, mailbox.In(mailbox.RoleQuarantine), raw)
			// Quarantining a held copy leaves it where it is.
			moved, err := e.Store.Move(e.ctx, []mailbox.Address{a0}, mailbox.In(mailbox.RoleQuarantine))
			require.NoError(t, err)
			require.NoError(t, moved[0].Err)
			assert.Equal(t, a0, moved[0].To)
			// Released to one recipient: the other's copy stays held.
			rel, err := e.Store.Move(e.ctx, []mailbox.Address{a0}, mailbox.In(mailbox.RoleInbox))
			require.NoError(t, err)
			require.NoError(t, rel[0].Err)
			e.requireFetch(t, rel[0].To, raw)
			for _, tc := range []struct {
				owner string
				role  mailbox.Role
				addr  mailbox.Address
			}{{o0, mailbox.RoleInbox, rel[0].To}, {o1, mailbox.RoleQuarantine, a1}} {
				got := e.search(t, tc.owner, mailbox.Criteria{MessageIDs: []string{e.id("held")}})
				require.Len(t, got, 1, tc.owner)
				assert.Equal(t, tc.role, got[0].Role, tc.owner)
				assert.Equal(t, tc.addr, got[0].Address, tc.owner)
				assert.True(t, strings.EqualFold(tc.owner, got[0].Address.Mailbox))
			}
		}},
	}
}
