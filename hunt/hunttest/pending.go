package hunttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// pendingMessage is a message a delivery path announces to alice and bob.
func pendingMessage() hunt.Message {
	return hunt.Message{NetworkID: "00000000-0000-8000-8000-00000000a1a1", MessageID: "lure@evil.example",
		From: "attacker@evil.example", Recipients: []string{"alice@corp.example", "bob@corp.example"},
		Subject: "Invoice 42", Date: base, Size: 100, URLs: []string{"https://evil.example/login"}}
}

// pendingAt returns the pending deliveries of m to mbs at t.
func pendingAt(m hunt.Message, t time.Time, mbs ...string) []hunt.Delivery {
	var ds []hunt.Delivery
	for _, mb := range mbs {
		ds = append(ds, hunt.Delivery{Address: mailbox.Address{Mailbox: mb}, At: t, Message: m})
	}
	return ds
}

func pendingCases() []testCase {
	byURL := hunt.Query{Criteria: &mailbox.Criteria{URLs: []string{"https://evil.example/login"}}}
	return []testCase{
		{Name: "FoundThenFilled", Run: func(t *testing.T, e *env) {
			m := pendingMessage()
			at := base.Add(time.Minute)
			e.ingest(t, e.Store, pendingAt(m, at, "alice@corp.example", "Bob@Corp.Example")...)
			e.ingest(t, e.Store, pendingAt(m, at.Add(time.Second), "alice@corp.example")...) // a retry
			cps := e.copies(t, e.Store, byURL)
			require.Len(t, cps, 2, "a pending copy per mailbox, found by a hunt")
			for _, cp := range cps {
				assert.True(t, cp.Pending(), "%s", cp.Mailbox)
				assert.Zero(t, cp.Address.UID)
				assert.Empty(t, cp.Address.Folder)
				assert.True(t, at.Equal(cp.Delivered), "delivered %v", cp.Delivered)
			}
			assert.Equal(t, []string{"alice@corp.example", "bob@corp.example"}, []string{normMailbox(cps[0].Address.Mailbox), normMailbox(cps[1].Address.Mailbox)})

			// The crawler finds alice's copy: it fills the pending one in.
			inbox := mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 7, UID: 42}
			real := hunt.Delivery{Address: inbox, Role: mailbox.RoleInbox, At: base.Add(time.Hour), Message: m}
			e.ingest(t, e.Store, real)
			e.ingest(t, e.Store, real)
			cps = e.copies(t, e.Store, byURL)
			require.Len(t, cps, 2, "filled in, not added")
			assert.False(t, cps[0].Pending())
			assert.True(t, sameAddr(inbox, cps[0].Address), "at %v", cps[0].Address)
			assert.Equal(t, "INBOX", cps[0].DeliveredFolder)
			assert.Equal(t, mailbox.RoleInbox, cps[0].Role)
			assert.True(t, at.Equal(cps[0].Delivered), "the delivery path's time is kept: %v", cps[0].Delivered)
			assert.True(t, cps[1].Pending(), "bob's copy is still on its way")

			// Announced again once it landed: nothing is added.
			e.ingest(t, e.Store, pendingAt(m, at.Add(time.Minute), "alice@corp.example")...)
			require.Len(t, e.copies(t, e.Store, byURL), 2, "a pending copy of a message the mailbox holds is not added")

			// A second copy of the message in alice's mailbox is a copy of its own.
			junk := real
			junk.Address.Folder, junk.Address.UID, junk.Role = "Junk", 3, mailbox.RoleJunk
			e.ingest(t, e.Store, junk)
			ent, err := e.Store.Entity(e.ctx, m.NetworkID)
			require.NoError(t, err)
			assert.Len(t, ent.Copies, 3)

			// A pending address names no copy: relocations and annotations
			// of it change nothing.
			require.NoError(t, e.Store.Relocate(e.ctx, []hunt.Relocation{{From: mailbox.Address{Mailbox: "bob@corp.example"}}}))
			require.NoError(t, e.Store.Annotate(e.ctx, []hunt.Annotation{{Kind: hunt.AnnotateAction, Address: mailbox.Address{Mailbox: "bob@corp.example"}, Name: "soft_delete", Record: "r1"}}))
			ent, err = e.Store.Entity(e.ctx, m.NetworkID)
			require.NoError(t, err)
			assert.Empty(t, ent.Annotations)
			assert.Len(t, e.copies(t, e.Store, byURL), 3)
		}},
		{Name: "Settled", Run: func(t *testing.T, e *env) {
			m := pendingMessage()
			at := base.Add(time.Minute)
			e.ingest(t, e.Store, pendingAt(m, at, "alice@corp.example", "bob@corp.example")...)
			// A crawl that started before the grace ran out proves nothing.
			require.NoError(t, e.Store.SetCursor(e.ctx, hunt.Cursor{Mailbox: "bob@corp.example", Fresh: at.Add(hunt.PendingGrace - time.Second)}))
			require.Len(t, e.copies(t, e.Store, byURL), 2)
			// A later one that did not find it: it never arrived.
			settled := at.Add(hunt.PendingGrace + time.Minute)
			require.NoError(t, e.Store.SetCursor(e.ctx, hunt.Cursor{Mailbox: "bob@corp.example", Fresh: settled}))
			cps := e.copies(t, e.Store, byURL)
			require.Len(t, cps, 1)
			assert.Equal(t, "alice@corp.example", normMailbox(cps[0].Mailbox), "alice's mailbox was not crawled")
			all := e.copies(t, e.Store, hunt.Query{Criteria: byURL.Criteria, Removed: true})
			require.Len(t, all, 2)
			assert.True(t, settled.Equal(all[1].Removed), "removed at %v", all[1].Removed)
			assert.False(t, all[1].Pending())
		}},
	}
}
