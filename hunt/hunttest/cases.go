package hunttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// ingest ingests the deliveries in one call, which must succeed.
func (e *env) ingest(t *testing.T, s hunt.Store, ds ...hunt.Delivery) {
	t.Helper()
	require.NoError(t, s.Ingest(e.ctx, ds), "Ingest")
}

// copies returns every copy q selects; the query must not fail.
func (e *env) copies(t *testing.T, s hunt.Store, q hunt.Query) []hunt.Copy {
	t.Helper()
	var out []hunt.Copy
	for cp, err := range s.Copies(e.ctx, q) {
		require.NoError(t, err, "Copies, after %d copies", len(out))
		out = append(out, cp)
	}
	return out
}

func addresses(cs []hunt.Copy) []mailbox.Address {
	var out []mailbox.Address
	for _, c := range cs {
		out = append(out, c.Address)
	}
	return out
}

// counts returns every count q yields; the query must not fail.
func (e *env) counts(t *testing.T, s hunt.Store, q hunt.CountQuery) []hunt.Count {
	t.Helper()
	var out []hunt.Count
	for c, err := range s.Counts(e.ctx, q) {
		require.NoError(t, err, "Counts")
		c.Start = c.Start.UTC()
		out = append(out, c)
	}
	return out
}

// requireMatch checks that the store selects, with c, exactly the copies
// Criteria.Match selects, in ingest order.
func (e *env) requireMatch(t *testing.T, f *fixture, c mailbox.Criteria, where map[mailbox.Address]located) {
	t.Helper()
	want := f.match(&c, where)
	got := addresses(e.copies(t, e.Store, hunt.Query{Criteria: &c}))
	if !slices.Equal(want, got) {
		require.Failf(t, "the index and Criteria.Match disagree", "criteria %+v\nMatch: %v\nindex: %v", c, want, got)
	}
}

func sameAddr(a, b mailbox.Address) bool {
	return a.Folder == b.Folder && a.UID == b.UID && a.UIDValidity == b.UIDValidity && normMailbox(a.Mailbox) == normMailbox(b.Mailbox)
}

func ingestCases() []testCase {
	return []testCase{
		{Name: "RoundTrip", Run: func(t *testing.T, e *env) {
			f := newFixture(20, 1)
			e.ingest(t, e.Store, f.deliveries...)
			for id, m := range f.messages {
				ent, err := e.Store.Entity(e.ctx, id)
				require.NoError(t, err, "Entity(%s)", id)
				requireMessage(t, *m, ent.Message)
				var want []hunt.Delivery
				for _, d := range f.deliveries {
					if d.Message.NetworkID == id {
						want = append(want, d)
					}
				}
				require.Len(t, ent.Copies, len(want), "copies of %s", id)
				for i, d := range want {
					cp := ent.Copies[i]
					assert.True(t, sameAddr(d.Address, cp.Address), "copy %d at %v, want %v", i, cp.Address, d.Address)
					assert.Equal(t, d.Address.Folder, cp.DeliveredFolder)
					assert.Equal(t, d.Role, cp.Role)
					assert.True(t, d.At.Equal(cp.Delivered), "delivered %v, want %v", cp.Delivered, d.At)
					assert.True(t, cp.Removed.IsZero())
					assert.Equal(t, normMailbox(d.Address.Mailbox), normMailbox(cp.Mailbox))
				}
			}
			_, err := e.Store.Entity(e.ctx, "00000000-0000-8000-8000-999999999999")
			require.ErrorIs(t, err, hunt.ErrNotFound)
		}},
		{Name: "Idempotent", Run: func(t *testing.T, e *env) {
			f := newFixture(10, 2)
			e.ingest(t, e.Store, f.deliveries...)
			e.ingest(t, e.Store, f.deliveries...)
			e.ingest(t, e.Store, f.deliveries[3])
			all := e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes})
			require.Len(t, all, len(f.deliveries), "an address ingested again is one copy")
		}},
		{Name: "FirstFactsKept", Run: func(t *testing.T, e *env) {
			f := newFixture(3, 3)
			d := f.deliveries[0]
			e.ingest(t, e.Store, d)
			later := d
			later.Address.UID += 100
			later.Message.Subject = "changed"
			e.ingest(t, e.Store, later)
			ent, err := e.Store.Entity(e.ctx, d.Message.NetworkID)
			require.NoError(t, err)
			require.Len(t, ent.Copies, 2)
			assert.Equal(t, d.Message.Subject, ent.Message.Subject, "a message's facts are those of its first ingest")
		}},
		{Name: "Invalid", Run: func(t *testing.T, e *env) {
			f := newFixture(3, 4)
			bad := []func(d *hunt.Delivery){
				func(d *hunt.Delivery) { d.Message.NetworkID = "" },
				func(d *hunt.Delivery) { d.Address.Mailbox = "" },
				func(d *hunt.Delivery) { d.Address.Folder = "" },
				func(d *hunt.Delivery) { d.Address.UID = 0 },
			}
			for i, spoil := range bad {
				d := f.deliveries[1]
				spoil(&d)
				require.Error(t, e.Store.Ingest(e.ctx, []hunt.Delivery{f.deliveries[0], d}), "invalid delivery %d", i)
			}
			assert.Empty(t, e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes}), "a call with an invalid delivery writes nothing")
		}},
		{Name: "CancelledContext", Run: func(t *testing.T, e *env) {
			f := newFixture(5, 5)
			ctx, cancel := context.WithCancel(e.ctx)
			cancel()
			require.ErrorIs(t, e.Store.Ingest(ctx, f.deliveries), context.Canceled)
			assert.Empty(t, e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes}))
		}},
	}
}

func requireMessage(t *testing.T, want, got hunt.Message) {
	t.Helper()
	assert.Equal(t, want.NetworkID, got.NetworkID)
	assert.Equal(t, mailbox.NormalizeMessageID(want.MessageID), got.MessageID)
	assert.Equal(t, normAddr(want.From), got.From)
	assert.Equal(t, normAddr(want.EnvelopeFrom), got.EnvelopeFrom)
	assert.Equal(t, want.Subject, got.Subject)
	assert.True(t, want.Date.Equal(got.Date), "date %v, want %v", got.Date, want.Date)
	assert.Equal(t, want.Size, got.Size)
	assert.Equal(t, want.Recipients, got.Recipients)
	var urls []string
	for _, u := range want.URLs {
		if n := mailbox.NormalizeURL(u); !slices.Contains(urls, n) {
			urls = append(urls, n)
		}
	}
	assert.Equal(t, urls, got.URLs, "URLs in canonical form, once each, in order")
	require.Len(t, got.Attachments, len(want.Attachments))
	for i, a := range want.Attachments {
		g := got.Attachments[i]
		assert.Equal(t, a.Name, g.Name)
		assert.Equal(t, a.Type, g.Type)
		assert.Equal(t, a.Size, g.Size)
		assert.Equal(t, a.TLSH, g.TLSH)
		assert.Equal(t, a.Inline, g.Inline)
		assert.Equal(t, lower(a.SHA256), g.SHA256)
	}
}

func queryCases() []testCase {
	return []testCase{
		{Name: "EveryField", Run: func(t *testing.T, e *env) {
			f := newFixture(60, 6)
			e.ingest(t, e.Store, f.deliveries...)
			at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
			cases := map[string]mailbox.Criteria{
				"MessageIDs":        {MessageIDs: []string{"<MSG-3@evil.example>", "msg-9@evil.example"}},
				"Senders":           {Senders: []string{"BILLING@mail.evil.example"}},
				"SendersEnvelope":   {Senders: []string{"bounce@mailer.good.example"}},
				"SenderDomains":     {SenderDomains: []string{"evil.example"}},
				"SenderSubdomain":   {SenderDomains: []string{"mail.evil.example"}},
				"SenderParent":      {SenderDomains: []string{"@good.example"}},
				"Recipients":        {Recipients: []string{"<Bob@Corp.Example>"}},
				"RecipientExternal": {Recipients: []string{"list@partner.example"}},
				"Subject":           {Subject: "invoice"},
				"SubjectUnicode":    {Subject: "ÜBER"},
				"URLs":              {URLs: []string{"https://evil.example/login"}},
				"URLsWrapped":       {URLs: []string{"https://evil.example/pay"}},
				"URLsWritten":       {URLs: []string{"HTTPS://EVIL.example:443/login#frag"}},
				"Attachment":        {AttachmentSHA256: []string{hashPool[1]}},
				"AttachmentUpper":   {AttachmentSHA256: []string{upper(hashPool[0])}},
				"Since":             {Subject: "e", Since: at(20)},
				"Before":            {Subject: "e", Before: at(20)},
				"Range":             {SenderDomains: []string{"evil.example"}, Since: at(10), Before: at(40)},
				"Folders":           {SenderDomains: []string{"evil.example"}, Folders: []string{"inbox", "Archive"}},
				"Roles":             {SenderDomains: []string{"evil.example"}, Roles: []mailbox.Role{mailbox.RoleJunk, mailbox.RoleNone}},
				"FoldersAndRoles":   {Subject: "e", Folders: []string{"Archive"}, Roles: []mailbox.Role{mailbox.RoleDeleted}},
				"And":               {And: []mailbox.Criteria{{SenderDomains: []string{"evil.example"}}, {URLs: []string{"https://evil.example/pay"}}}},
				"Or":                {Or: []mailbox.Criteria{{Subject: "hello"}, {AttachmentSHA256: []string{hashPool[2]}}}},
				"OrFolders":         {Or: []mailbox.Criteria{{Subject: "hello", Folders: []string{"Junk"}}, {Senders: []string{"news@good.example"}, Roles: []mailbox.Role{mailbox.RoleInbox}}}},
				"Nested":            {Subject: "i", And: []mailbox.Criteria{{Or: []mailbox.Criteria{{Recipients: []string{"alice@corp.example"}}, {SenderDomains: []string{"corp.example"}}}}}},
				"NoMatch":           {MessageIDs: []string{"nothing@nowhere.example"}},
			}
			for name, c := range cases {
				t.Run(name, func(t *testing.T) {
					want := f.match(&c, nil)
					if name != "NoMatch" {
						require.NotEmpty(t, want, "the fixture has copies this criteria selects")
					}
					e.requireMatch(t, f, c, nil)
				})
			}
		}},
		{Name: "Random", Run: func(t *testing.T, e *env) {
			f := newFixture(80, 7)
			e.ingest(t, e.Store, f.deliveries...)
			r := rand.New(rand.NewPCG(7, 7))
			for i := range 300 {
				c := randomCriteria(r, 2)
				t.Run(fmt.Sprint(i), func(t *testing.T) { e.requireMatch(t, f, c, nil) })
			}
		}},
		{Name: "Refused", Run: func(t *testing.T, e *env) {
			e.ingest(t, e.Store, newFixture(5, 8).deliveries...)
			for _, tc := range []struct {
				c    *mailbox.Criteria
				want error
			}{
				{nil, mailbox.ErrEmptyCriteria},
				{&mailbox.Criteria{}, mailbox.ErrEmptyCriteria},
				{&mailbox.Criteria{Folders: []string{"INBOX"}}, mailbox.ErrMatchesEverything},
				{&mailbox.Criteria{SenderDomains: []string{"com"}}, mailbox.ErrMatchesEverything},
			} {
				n := 0
				for _, err := range e.Store.Copies(e.ctx, hunt.Query{Criteria: tc.c}) {
					require.ErrorIs(t, err, tc.want, "criteria %+v", tc.c)
					n++
				}
				require.Equal(t, 1, n, "a refused query yields one error and nothing else")
			}
		}},
		{Name: "MailboxesAndNetworkIDs", Run: func(t *testing.T, e *env) {
			f := newFixture(30, 9)
			e.ingest(t, e.Store, f.deliveries...)
			got := e.copies(t, e.Store, hunt.Query{Mailboxes: []string{"BOB@corp.example"}})
			var want []mailbox.Address
			for _, d := range f.deliveries {
				if d.Address.Mailbox == "bob@corp.example" {
					want = append(want, d.Address)
				}
			}
			require.NotEmpty(t, want)
			requireAddrs(t, want, addresses(got))
			id := f.deliveries[4].Message.NetworkID
			c := mailbox.Criteria{Subject: f.messages[id].Subject + "x"}
			got = e.copies(t, e.Store, hunt.Query{NetworkIDs: []string{id}})
			want = nil
			for _, d := range f.deliveries {
				if d.Message.NetworkID == id {
					want = append(want, d.Address)
				}
			}
			requireAddrs(t, want, addresses(got))
			assert.Empty(t, e.copies(t, e.Store, hunt.Query{NetworkIDs: []string{id}, Criteria: &c}), "criteria and network ids both apply")
		}},
		{Name: "StopEarly", Run: func(t *testing.T, e *env) {
			e.ingest(t, e.Store, newFixture(30, 10).deliveries...)
			n := 0
			for _, err := range e.Store.Copies(e.ctx, hunt.Query{Mailboxes: mailboxes}) {
				require.NoError(t, err)
				n++
				if n == 3 {
					break
				}
			}
			require.Equal(t, 3, n)
			assert.NotEmpty(t, e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes}), "the store answers after a stream stopped early")
		}},
		{Name: "CancelledContext", Run: func(t *testing.T, e *env) {
			e.ingest(t, e.Store, newFixture(5, 11).deliveries...)
			ctx, cancel := context.WithCancel(e.ctx)
			cancel()
			var errs []error
			for _, err := range e.Store.Copies(ctx, hunt.Query{Mailboxes: mailboxes}) {
				errs = append(errs, err)
			}
			require.NotEmpty(t, errs)
			require.ErrorIs(t, errs[len(errs)-1], context.Canceled)
		}},
	}
}

func requireAddrs(t *testing.T, want, got []mailbox.Address) {
	t.Helper()
	require.Len(t, got, len(want), "got %v, want %v", got, want)
	for i := range want {
		require.True(t, sameAddr(want[i], got[i]), "copy %d at %v, want %v", i, got[i], want[i])
	}
}

func relocateCases() []testCase {
	return []testCase{
		{Name: "MoveAndRemove", Run: func(t *testing.T, e *env) {
			f := newFixture(40, 12)
			e.ingest(t, e.Store, f.deliveries...)
			where := map[mailbox.Address]located{}
			var rs []hunt.Relocation
			for i, d := range f.deliveries {
				switch i % 5 {
				case 1:
					to := mailbox.Address{Mailbox: d.Address.Mailbox, Folder: "Junk", UIDValidity: 9, UID: uint32(1000 + i)}
					rs = append(rs, hunt.Relocation{From: d.Address, To: to, Role: mailbox.RoleJunk})
					where[d.Address] = located{to, mailbox.RoleJunk}
				case 3:
					rs = append(rs, hunt.Relocation{From: d.Address})
					where[d.Address] = located{}
				}
			}
			rs = append(rs, hunt.Relocation{From: mailbox.Address{Mailbox: "nobody@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 1}})
			require.NoError(t, e.Store.Relocate(e.ctx, rs))
			for _, c := range []mailbox.Criteria{
				{SenderDomains: []string{"evil.example"}},
				{Subject: "e", Roles: []mailbox.Role{mailbox.RoleJunk}},
				{Subject: "e", Folders: []string{"INBOX"}},
				{URLs: []string{"https://evil.example/login"}},
			} {
				e.requireMatch(t, f, c, where)
			}
			// Removed copies are returned when asked for, without an
			// address, and with their delivery folder.
			all := e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes, Removed: true})
			require.Len(t, all, len(f.deliveries))
			removed := 0
			for _, cp := range all {
				if !cp.Removed.IsZero() {
					removed++
					assert.True(t, cp.Address.IsZero(), "a removed copy has no address")
					assert.NotEmpty(t, cp.DeliveredFolder)
				}
			}
			assert.Equal(t, (len(f.deliveries)+1)/5, removed)
		}},
		{Name: "FollowsChain", Run: func(t *testing.T, e *env) {
			f := newFixture(3, 13)
			d := f.deliveries[0]
			e.ingest(t, e.Store, d)
			a2 := mailbox.Address{Mailbox: d.Address.Mailbox, Folder: "Archive", UIDValidity: 3, UID: 1}
			a3 := mailbox.Address{Mailbox: d.Address.Mailbox, Folder: "INBOX", UIDValidity: 3, UID: 99}
			require.NoError(t, e.Store.Relocate(e.ctx, []hunt.Relocation{{From: d.Address, To: a2}, {From: a2, To: a3, Role: mailbox.RoleInbox}}))
			ent, err := e.Store.Entity(e.ctx, d.Message.NetworkID)
			require.NoError(t, err)
			require.Len(t, ent.Copies, 1)
			assert.True(t, sameAddr(a3, ent.Copies[0].Address), "at %v", ent.Copies[0].Address)
			assert.Equal(t, mailbox.RoleInbox, ent.Copies[0].Role)
			assert.Equal(t, d.Address.Folder, ent.Copies[0].DeliveredFolder, "the delivery folder stays")
		}},
		{Name: "RoleOfKnownFolder", Run: func(t *testing.T, e *env) {
			// A relocation that does not say the role gets the role the
			// index knows the folder by.
			f := newFixture(30, 23)
			e.ingest(t, e.Store, f.deliveries...)
			var junk, other hunt.Delivery
			for _, d := range f.deliveries {
				if d.Role == mailbox.RoleJunk && junk.Address.IsZero() {
					junk = d
				}
			}
			require.False(t, junk.Address.IsZero(), "the fixture has a copy in Junk")
			for _, d := range f.deliveries {
				if d.Address.Mailbox == junk.Address.Mailbox && d.Address.Folder == "INBOX" {
					other = d
				}
			}
			require.False(t, other.Address.IsZero(), "the fixture has a copy in the INBOX of that mailbox")
			to := mailbox.Address{Mailbox: other.Address.Mailbox, Folder: "Junk", UIDValidity: junk.Address.UIDValidity, UID: 500}
			require.NoError(t, e.Store.Relocate(e.ctx, []hunt.Relocation{{From: other.Address, To: to}}))
			ent, err := e.Store.Entity(e.ctx, other.Message.NetworkID)
			require.NoError(t, err)
			for _, cp := range ent.Copies {
				if sameAddr(cp.Address, to) {
					assert.Equal(t, mailbox.RoleJunk, cp.Role)
					return
				}
			}
			t.Fatalf("no copy at %v in %+v", to, ent.Copies)
		}},
		{Name: "OntoIndexedAddress", Run: func(t *testing.T, e *env) {
			// A feed indexed the copy at its new address before the move
			// was reported: one copy remains, with its history.
			f := newFixture(3, 14)
			d := f.deliveries[0]
			e.ingest(t, e.Store, d)
			require.NoError(t, e.Store.Annotate(e.ctx, []hunt.Annotation{{Kind: hunt.AnnotateAction, Address: d.Address, Name: "move to junk", Record: "r1", Outcome: "succeeded", Actor: "soc"}}))
			moved := d
			moved.Address = mailbox.Address{Mailbox: d.Address.Mailbox, Folder: "Junk", UIDValidity: 2, UID: 5}
			e.ingest(t, e.Store, moved)
			require.NoError(t, e.Store.Relocate(e.ctx, []hunt.Relocation{{From: d.Address, To: moved.Address, Role: mailbox.RoleJunk}}))
			ent, err := e.Store.Entity(e.ctx, d.Message.NetworkID)
			require.NoError(t, err)
			require.Len(t, ent.Copies, 1, "one copy")
			assert.Equal(t, d.Address.Folder, ent.Copies[0].DeliveredFolder)
			assert.True(t, sameAddr(moved.Address, ent.Copies[0].Address))
			require.Len(t, ent.Annotations, 1)
		}},
	}
}

func annotateCases() []testCase {
	return []testCase{
		{Name: "EntityView", Run: func(t *testing.T, e *env) {
			f := newFixture(5, 15)
			e.ingest(t, e.Store, f.deliveries...)
			d := f.deliveries[0]
			id := d.Message.NetworkID
			t0 := base.Add(48 * time.Hour)
			as := []hunt.Annotation{
				{Kind: hunt.AnnotateCluster, NetworkID: id, Name: "cluster-1", At: t0},
				{Kind: hunt.AnnotateDetection, NetworkID: id, Name: "rule: invoice lure", Actor: "rules", At: t0.Add(time.Minute)},
				{Kind: hunt.AnnotateAction, Address: d.Address, Name: "soft delete", Record: "rec-1", Outcome: "succeeded", Actor: "soc@corp.example", At: t0.Add(2 * time.Minute)},
				{Kind: hunt.AnnotateCluster, NetworkID: "00000000-0000-8000-8000-999999999999", Name: "cluster-x", At: t0},
			}
			require.NoError(t, e.Store.Annotate(e.ctx, as))
			require.NoError(t, e.Store.Annotate(e.ctx, as[:3]), "annotating again")
			ent, err := e.Store.Entity(e.ctx, id)
			require.NoError(t, err)
			require.Len(t, ent.Annotations, 3, "each annotation once; one naming an unknown message is ignored")
			for i, a := range ent.Annotations {
				w := as[i]
				assert.Equal(t, w.Kind, a.Kind)
				assert.Equal(t, w.Name, a.Name)
				assert.Equal(t, w.Record, a.Record)
				assert.Equal(t, w.Outcome, a.Outcome)
				assert.Equal(t, w.Actor, a.Actor)
				assert.True(t, w.At.Equal(a.At), "at %v, want %v", a.At, w.At)
				assert.Equal(t, id, a.NetworkID)
			}
			assert.True(t, sameAddr(d.Address, ent.Annotations[2].Address), "the action names its copy")
		}},
		{Name: "Invalid", Run: func(t *testing.T, e *env) {
			for _, a := range []hunt.Annotation{
				{Kind: "bogus", NetworkID: "x", Name: "n"},
				{Kind: hunt.AnnotateCluster, NetworkID: "x"},
				{Kind: hunt.AnnotateCluster, Name: "n"},
			} {
				require.Error(t, e.Store.Annotate(e.ctx, []hunt.Annotation{a}), "%+v", a)
			}
		}},
	}
}

func countCases() []testCase {
	return []testCase{
		{Name: "Top", Run: func(t *testing.T, e *env) {
			f := newFixture(60, 16)
			e.ingest(t, e.Store, f.deliveries...)
			for _, by := range []hunt.Dimension{hunt.BySender, hunt.BySenderDomain, hunt.ByRecipient, hunt.ByURL, hunt.ByURLDomain, hunt.ByFile, hunt.ByFolder} {
				want := f.counts(by, nil, time.Time{}, time.Time{}, 0)
				got := e.counts(t, e.Store, hunt.CountQuery{By: by, Top: 3})
				require.NotEmpty(t, want)
				assert.Equal(t, want[:min(3, len(want))], got, "top 3 by %s", by)
			}
		}},
		{Name: "Filtered", Run: func(t *testing.T, e *env) {
			f := newFixture(60, 17)
			e.ingest(t, e.Store, f.deliveries...)
			c := &mailbox.Criteria{SenderDomains: []string{"evil.example"}}
			since, before := base.Add(10*time.Hour), base.Add(70*time.Hour)
			want := f.counts(hunt.ByURL, c, since, before, 0)
			require.NotEmpty(t, want)
			got := e.counts(t, e.Store, hunt.CountQuery{By: hunt.ByURL, Criteria: c, Since: since, Before: before, Top: 100})
			assert.Equal(t, want, got)
		}},
		{Name: "Buckets", Run: func(t *testing.T, e *env) {
			f := newFixture(60, 18)
			e.ingest(t, e.Store, f.deliveries...)
			want := f.counts(hunt.BySenderDomain, nil, time.Time{}, time.Time{}, 24*time.Hour)
			got := e.counts(t, e.Store, hunt.CountQuery{By: hunt.BySenderDomain, Top: 2, Bucket: 24 * time.Hour})
			var top []string
			for _, c := range f.counts(hunt.BySenderDomain, nil, time.Time{}, time.Time{}, 0)[:2] {
				top = append(top, c.Key)
			}
			var wantTop []hunt.Count
			for _, k := range top {
				for _, c := range want {
					if c.Key == k {
						wantTop = append(wantTop, c)
					}
				}
			}
			assert.Equal(t, wantTop, got)
		}},
		{Name: "Invalid", Run: func(t *testing.T, e *env) {
			for _, q := range []hunt.CountQuery{{}, {By: "colour"}, {By: hunt.BySender, Top: -1}} {
				var errs []error
				for _, err := range e.Store.Counts(e.ctx, q) {
					errs = append(errs, err)
				}
				require.Len(t, errs, 1, "%+v", q)
				require.ErrorIs(t, errs[0], hunt.ErrInvalidQuery)
			}
			var errs []error
			for _, err := range e.Store.Counts(e.ctx, hunt.CountQuery{By: hunt.BySender, Criteria: &mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleJunk}}}) {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1)
			require.ErrorIs(t, errs[0], mailbox.ErrMatchesEverything)
		}},
	}
}

// counts computes what Counts must answer, from the fixture.
func (f *fixture) counts(by hunt.Dimension, c *mailbox.Criteria, since, before time.Time, bucket time.Duration) []hunt.Count {
	type kb struct {
		key string
		b   int64
	}
	n := map[kb]int64{}
	keep := map[mailbox.Address]bool{}
	if c != nil {
		for _, a := range f.match(c, nil) {
			keep[a] = true
		}
	}
	for _, d := range f.deliveries {
		if c != nil && !keep[d.Address] || !since.IsZero() && d.At.Before(since) || !before.IsZero() && !d.At.Before(before) {
			continue
		}
		var keys []string
		m := d.Message
		switch by {
		case hunt.BySender:
			keys = []string{normAddr(m.From)}
		case hunt.BySenderDomain:
			keys = []string{mailbox.AddressDomain(m.From)}
		case hunt.ByRecipient:
			keys = []string{normMailbox(d.Address.Mailbox)}
		case hunt.ByFolder:
			keys = []string{d.Address.Folder}
		case hunt.ByURL, hunt.ByURLDomain:
			for _, u := range m.URLs {
				k := mailbox.NormalizeURL(u)
				if by == hunt.ByURLDomain {
					k = host(k)
				}
				keys = append(keys, k)
			}
		case hunt.ByFile:
			for _, a := range m.Attachments {
				keys = append(keys, lower(a.SHA256))
			}
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		var b int64
		if bucket > 0 {
			b = d.At.UnixNano() / int64(bucket)
		}
		for _, k := range keys {
			if k != "" {
				n[kb{k, b}]++
			}
		}
	}
	var out []hunt.Count
	for k, v := range n {
		c := hunt.Count{Key: k.key, Copies: v}
		if bucket > 0 {
			c.Start = time.Unix(0, k.b*int64(bucket)).UTC()
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b hunt.Count) int {
		if bucket > 0 {
			if a.Key != b.Key {
				return compare(a.Key, b.Key)
			}
			return a.Start.Compare(b.Start)
		}
		if a.Copies != b.Copies {
			return int(b.Copies - a.Copies)
		}
		return compare(a.Key, b.Key)
	})
	return out
}

func cursorCases() []testCase {
	return []testCase{
		{Name: "RoundTrip", Run: func(t *testing.T, e *env) {
			c, err := e.Store.Cursor(e.ctx, "alice@corp.example")
			require.NoError(t, err)
			assert.True(t, c.Fresh.IsZero(), "a mailbox never crawled is not fresh")
			want := hunt.Cursor{Mailbox: "alice@corp.example", Fresh: base, Folders: []mailbox.FolderStatus{
				{Name: "INBOX", Role: mailbox.RoleInbox, UIDValidity: 7, UIDNext: 100, HighestModSeq: 1 << 40, Messages: 98},
				{Name: "Junk", Role: mailbox.RoleJunk, UIDValidity: 8, UIDNext: 2, Messages: 1},
			}}
			require.NoError(t, e.Store.SetCursor(e.ctx, want))
			want.Fresh = base.Add(time.Hour)
			want.Folders = want.Folders[:1]
			require.NoError(t, e.Store.SetCursor(e.ctx, want), "replacing a cursor")
			got, err := e.Store.Cursor(e.ctx, "Alice@Corp.Example")
			require.NoError(t, err)
			assert.True(t, want.Fresh.Equal(got.Fresh))
			assert.Equal(t, want.Folders, got.Folders)
			other, err := e.Store.Cursor(e.ctx, "bob@corp.example")
			require.NoError(t, err)
			assert.True(t, other.Fresh.IsZero())
		}},
	}
}

func expireCases() []testCase {
	return []testCase{
		{Name: "Retention", Run: func(t *testing.T, e *env) {
			f := newFixture(40, 19)
			e.ingest(t, e.Store, f.deliveries...)
			// Every other copy is removed from its mailbox, half of those
			// before the cut and half after; the rest stay in their
			// mailboxes, however long ago they were delivered.
			cut := base.Add(time.Hour)
			var removed []hunt.Relocation
			gone := map[mailbox.Address]bool{}
			for i, d := range f.deliveries {
				if i%2 == 1 {
					at := cut.Add(-time.Minute)
					if i%4 == 3 {
						at = cut.Add(time.Minute)
					} else {
						gone[d.Address] = true
					}
					removed = append(removed, hunt.Relocation{From: d.Address, At: at})
				}
			}
			require.NoError(t, e.Store.Relocate(e.ctx, removed))
			var present []mailbox.Address
			kept := map[string]bool{}
			for i, d := range f.deliveries {
				if !gone[d.Address] {
					kept[d.Message.NetworkID] = true
				}
				if i%2 == 0 {
					present = append(present, d.Address)
				}
			}
			require.NoError(t, e.Store.Annotate(e.ctx, []hunt.Annotation{{Kind: hunt.AnnotateCluster, NetworkID: f.deliveries[0].Message.NetworkID, Name: "c"}}))
			n, err := e.Store.Expire(e.ctx, cut)
			require.NoError(t, err)
			assert.Equal(t, int64(len(gone)), n, "the copies removed before the cut expire")
			requireAddrs(t, present, addresses(e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes})))
			assert.Len(t, e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes, Removed: true}), len(f.deliveries)-len(gone))
			for id := range f.messages {
				_, err := e.Store.Entity(e.ctx, id)
				if kept[id] {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, hunt.ErrNotFound, "a message without copies is gone")
				}
			}
			// Copies still in their mailbox are found, however old.
			where := map[mailbox.Address]located{}
			for _, r := range removed {
				where[r.From] = located{}
			}
			for _, c := range []mailbox.Criteria{{SenderDomains: []string{"evil.example"}}, {URLs: []string{"https://evil.example/login"}}, {AttachmentSHA256: hashPool}, {Recipients: []string{"list@partner.example"}}} {
				e.requireMatch(t, f, c, where)
			}
			n, err = e.Store.Expire(e.ctx, cut)
			require.NoError(t, err)
			assert.Zero(t, n, "a second expiry removes nothing")
			n, err = e.Store.Expire(e.ctx, cut.Add(time.Hour))
			require.NoError(t, err)
			assert.Equal(t, int64(len(removed)-len(gone)), n, "a later cut expires the copies removed after the first")
		}},
	}
}

func concurrentCases() []testCase {
	return []testCase{
		{Name: "IngestAndQuery", Run: func(t *testing.T, e *env) {
			f := newFixture(200, 20)
			n := e.concurrency()
			var wg sync.WaitGroup
			errs := make(chan error, 2*n)
			for w := range n {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := w; i < len(f.deliveries); i += n {
						if err := e.Store.Ingest(e.ctx, f.deliveries[i:i+1]); err != nil {
							errs <- err
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					for range 20 {
						for _, err := range e.Store.Copies(e.ctx, hunt.Query{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}}) {
							if err != nil {
								errs <- err
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			all := e.copies(t, e.Store, hunt.Query{Mailboxes: mailboxes})
			require.Len(t, all, len(f.deliveries), "every copy ingested once")
		}},
	}
}

func closeCases() []testCase {
	return []testCase{
		{Name: "AfterClose", Run: func(t *testing.T, e *env) {
			f := newFixture(3, 21)
			e.ingest(t, e.Store, f.deliveries...)
			require.NoError(t, e.Store.Close())
			require.ErrorIs(t, e.Store.Ingest(e.ctx, f.deliveries), hunt.ErrClosed)
			require.ErrorIs(t, e.Store.Relocate(e.ctx, []hunt.Relocation{{From: f.deliveries[0].Address}}), hunt.ErrClosed)
			require.ErrorIs(t, e.Store.Annotate(e.ctx, []hunt.Annotation{{Kind: hunt.AnnotateCluster, NetworkID: "x", Name: "c"}}), hunt.ErrClosed)
			for _, err := range e.Store.Copies(e.ctx, hunt.Query{Mailboxes: mailboxes}) {
				require.ErrorIs(t, err, hunt.ErrClosed)
			}
			for _, err := range e.Store.Counts(e.ctx, hunt.CountQuery{By: hunt.BySender}) {
				require.ErrorIs(t, err, hunt.ErrClosed)
			}
			_, err := e.Store.Entity(e.ctx, f.deliveries[0].Message.NetworkID)
			require.ErrorIs(t, err, hunt.ErrClosed)
			_, err = e.Store.Cursor(e.ctx, "alice@corp.example")
			require.ErrorIs(t, err, hunt.ErrClosed)
			require.ErrorIs(t, e.Store.SetCursor(e.ctx, hunt.Cursor{Mailbox: "alice@corp.example"}), hunt.ErrClosed)
			_, err = e.Store.Expire(e.ctx, base)
			require.ErrorIs(t, err, hunt.ErrClosed)
		}},
	}
}

func reopenCases() []testCase {
	return []testCase{
		{Name: "Durable", Run: func(t *testing.T, e *env) {
			if e.Reopen == nil {
				t.Skip("the harness has no Reopen hook: the store is not checked across a close and reopen")
			}
			f := newFixture(30, 22)
			e.ingest(t, e.Store, f.deliveries...)
			require.NoError(t, e.Store.Relocate(e.ctx, []hunt.Relocation{{From: f.deliveries[0].Address}}))
			require.NoError(t, e.Store.SetCursor(e.ctx, hunt.Cursor{Mailbox: "alice@corp.example", Fresh: base}))
			require.NoError(t, e.Store.Close())
			s, err := e.Reopen(t)
			require.NoError(t, err)
			require.NotNil(t, s)
			e.track(t, s)
			e.Store = s
			e.requireMatch(t, f, mailbox.Criteria{SenderDomains: []string{"evil.example"}}, map[mailbox.Address]located{f.deliveries[0].Address: {}})
			c, err := s.Cursor(e.ctx, "alice@corp.example")
			require.NoError(t, err)
			assert.True(t, base.Equal(c.Fresh))
		}},
	}
}
