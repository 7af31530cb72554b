package mock_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// newTenant returns a tenant with the given users.
func newTenant(t testing.TB, users ...string) *mock.Tenant {
	t.Helper()
	tenant := mock.New(nil)
	for _, u := range users {
		require.NoError(t, tenant.AddUser(u))
	}
	return tenant
}

// rawMessage builds a small message.
func rawMessage(id, from, to, subject string, extra ...string) []byte {
	s := "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + ">\r\n"
	for _, h := range extra {
		s += h + "\r\n"
	}
	return []byte(s + "\r\nbody of " + id + "\r\n")
}

// find returns the copies of owner's mailbox with message id id.
func find(t *testing.T, tenant *mock.Tenant, owner, id string) []mailbox.Message {
	t.Helper()
	var out []mailbox.Message
	for m, err := range tenant.Search(t.Context(), owner, mailbox.Criteria{MessageIDs: []string{id}}) {
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

func TestAddUser(t *testing.T) {
	tenant := mock.New(nil)
	require.NoError(t, tenant.AddUser(" Alice@Example.COM "))
	err := tenant.AddUser("alice@example.com")
	require.ErrorIs(t, err, mock.ErrExists)

	for _, bad := range []string{"", "alice", "@example.com", "alice@", "a b@example.com", "<a@example.com>"} {
		assert.Error(t, tenant.AddUser(bad), "address %q", bad)
	}

	owners, err := tenant.Mailboxes(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"alice@example.com"}, owners)

	for _, r := range mailbox.Roles() {
		a, err := tenant.Append(t.Context(), "ALICE@example.com", mailbox.In(r), rawMessage("r-"+string(r)+"@x", "x@y.example", "alice@example.com", "r"), nil)
		require.NoError(t, err, "role %s", r)
		assert.Equal(t, "alice@example.com", a.Mailbox)
		role, err := tenant.FolderRole("alice@example.com", a.Folder)
		require.NoError(t, err)
		assert.Equal(t, r, role)
	}
}

func TestUIDValidityUniquePerFolder(t *testing.T) {
	tenant := newTenant(t, "a@example.com", "b@example.com")
	seen := map[uint32]string{}
	for _, owner := range []string{"a@example.com", "b@example.com"} {
		for _, r := range mailbox.Roles() {
			a, err := tenant.Append(t.Context(), owner, mailbox.In(r), rawMessage("u@x", "x@y.example", owner, "u"), nil)
			require.NoError(t, err)
			require.NotZero(t, a.UIDValidity)
			key := owner + "/" + a.Folder
			if prev, ok := seen[a.UIDValidity]; ok {
				require.Equal(t, prev, key, "UIDVALIDITY %d shared by two folders", a.UIDValidity)
			}
			seen[a.UIDValidity] = key
		}
	}
}

func TestCreateFolder(t *testing.T) {
	tenant := newTenant(t, "a@example.com")
	require.NoError(t, tenant.CreateFolder("a@example.com", "Projects"))
	require.NoError(t, tenant.CreateFolder("a@example.com", "Archive"))
	require.ErrorIs(t, tenant.CreateFolder("a@example.com", "Projects"), mock.ErrExists)
	require.ErrorIs(t, tenant.CreateFolder("a@example.com", "inbox"), mock.ErrExists)
	require.ErrorIs(t, tenant.CreateFolder("a@example.com", mock.FolderJunk), mock.ErrExists)
	require.ErrorIs(t, tenant.CreateFolder("nobody@example.com", "X"), mailbox.ErrNoMailbox)
	require.Error(t, tenant.CreateFolder("a@example.com", " "))

	role, err := tenant.FolderRole("a@example.com", "Projects")
	require.NoError(t, err)
	assert.Equal(t, mailbox.RoleNone, role)
	_, err = tenant.FolderRole("a@example.com", "Nope")
	require.ErrorIs(t, err, mailbox.ErrNoFolder)

	// Search visits role folders first, then ordinary folders by name.
	ctx := t.Context()
	var want []string
	for _, name := range []string{"Projects", mock.FolderInbox, "Archive", mock.FolderEvidence} {
		_, err := tenant.Append(ctx, "a@example.com", mailbox.InFolder(name), rawMessage("o@x", "x@y.example", "a@example.com", "order"), nil)
		require.NoError(t, err)
	}
	want = []string{mock.FolderInbox, mock.FolderEvidence, "Archive", "Projects"}
	var got []string
	for _, m := range find(t, tenant, "a@example.com", "o@x") {
		got = append(got, m.Address.Folder)
	}
	assert.Equal(t, want, got)
}

func TestResetUIDValidity(t *testing.T) {
	tenant := newTenant(t, "a@example.com")
	ctx := t.Context()
	var as []mailbox.Address
	for i := range 4 {
		a, err := tenant.Append(ctx, "a@example.com", mailbox.In(mailbox.RoleInbox), rawMessage(fmt.Sprintf("m%d@x", i), "x@y.example", "a@example.com", "s"), &mailbox.AppendOptions{Flags: []string{fmt.Sprintf("f%d", i)}})
		require.NoError(t, err)
		as = append(as, a)
	}
	errs, err := tenant.Expunge(ctx, as[1:2])
	require.NoError(t, err)
	require.NoError(t, errs[0])

	require.NoError(t, tenant.ResetUIDValidity("a@example.com", "inbox"))
	require.ErrorIs(t, tenant.ResetUIDValidity("a@example.com", "Nope"), mailbox.ErrNoFolder)
	require.ErrorIs(t, tenant.ResetUIDValidity("x@example.com", "INBOX"), mailbox.ErrNoMailbox)

	_, err = tenant.Fetch(ctx, as[0])
	require.ErrorIs(t, err, mailbox.ErrUIDValidity)

	// Renumbered from 1 in the old order, flags kept.
	for i, want := range []struct {
		id   string
		flag string
	}{{"m0@x", "f0"}, {"m2@x", "f2"}, {"m3@x", "f3"}} {
		got := find(t, tenant, "a@example.com", want.id)
		require.Len(t, got, 1)
		assert.Equal(t, uint32(i+1), got[0].Address.UID)
		assert.NotEqual(t, as[0].UIDValidity, got[0].Address.UIDValidity)
		assert.Equal(t, []string{want.flag}, got[0].Flags)
	}
	a, err := tenant.Append(ctx, "a@example.com", mailbox.In(mailbox.RoleInbox), rawMessage("m4@x", "x@y.example", "a@example.com", "s"), nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(4), a.UID)
}

func TestDeliver(t *testing.T) {
	users := []string{"alice@example.com", "bob@example.com", "carol@example.com"}
	date := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		raw       []byte
		opts      *mock.DeliverOptions
		wantOwner []string
		wantErr   error
		wantRole  mailbox.Role
	}{
		{
			name:      "header recipients that are users",
			raw:       rawMessage("h@x", "ext@outside.example", "Alice <alice@example.com>, someone@outside.example", "s", "Cc: BOB@example.com"),
			wantOwner: []string{"alice@example.com", "bob@example.com"},
			wantRole:  mailbox.RoleInbox,
		},
		{
			name:      "envelope recipients override headers (bcc)",
			raw:       rawMessage("e@x", "ext@outside.example", "alice@example.com", "s"),
			opts:      &mock.DeliverOptions{Recipients: []string{"<carol@example.com>", "carol@example.com"}},
			wantOwner: []string{"carol@example.com"},
			wantRole:  mailbox.RoleInbox,
		},
		{
			name:      "unknown envelope recipient reported, others delivered",
			raw:       rawMessage("u@x", "ext@outside.example", "alice@example.com", "s"),
			opts:      &mock.DeliverOptions{Recipients: []string{"ghost@example.com", "bob@example.com"}},
			wantOwner: []string{"bob@example.com"},
			wantErr:   mailbox.ErrNoMailbox,
			wantRole:  mailbox.RoleInbox,
		},
		{
			name:    "no header recipient is a user",
			raw:     rawMessage("n@x", "ext@outside.example", "someone@outside.example", "s"),
			wantErr: mailbox.ErrNoMailbox,
		},
		{
			name:      "to junk",
			raw:       rawMessage("j@x", "ext@outside.example", "alice@example.com", "s"),
			opts:      &mock.DeliverOptions{Role: mailbox.RoleJunk},
			wantOwner: []string{"alice@example.com"},
			wantRole:  mailbox.RoleJunk,
		},
		{
			name:      "to quarantine",
			raw:       rawMessage("q@x", "ext@outside.example", "alice@example.com", "s"),
			opts:      &mock.DeliverOptions{Role: mailbox.RoleQuarantine},
			wantOwner: []string{"alice@example.com"},
			wantRole:  mailbox.RoleQuarantine,
		},
		{
			name:    "unknown role",
			raw:     rawMessage("r@x", "ext@outside.example", "alice@example.com", "s"),
			opts:    &mock.DeliverOptions{Role: "attic"},
			wantErr: mailbox.ErrNoFolder,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tenant := newTenant(t, users...)
			opts := tc.opts
			if opts == nil {
				opts = &mock.DeliverOptions{}
			}
			opts.Date = date
			got, err := tenant.Deliver(t.Context(), tc.raw, opts)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			var owners []string
			for _, a := range got {
				owners = append(owners, a.Mailbox)
				raw, err := tenant.Fetch(t.Context(), a)
				require.NoError(t, err)
				assert.Equal(t, tc.raw, raw)
				role, err := tenant.FolderRole(a.Mailbox, a.Folder)
				require.NoError(t, err)
				assert.Equal(t, tc.wantRole, role)
			}
			assert.Equal(t, tc.wantOwner, owners)
		})
	}
}

func TestDeliverEnvelopeAndDate(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	date := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	raw := rawMessage("env@x", "Boss <ceo@example.com>", "alice@example.com", "Wire transfer")
	_, err := tenant.Deliver(t.Context(), raw, &mock.DeliverOptions{EnvelopeFrom: "<Bounce@Mailer.Example>", Date: date})
	require.NoError(t, err)

	got := find(t, tenant, "alice@example.com", "env@x")
	require.Len(t, got, 1)
	assert.Equal(t, "bounce@mailer.example", got[0].EnvelopeFrom, "P1 kept with the copy")
	assert.Equal(t, "ceo@example.com", got[0].From)
	assert.True(t, got[0].Date.Equal(date), "internal date stands in for a missing Date header, got %s", got[0].Date)

	hits := 0
	for m, err := range tenant.Search(t.Context(), "alice@example.com", mailbox.Criteria{Senders: []string{"bounce@mailer.example"}}) {
		require.NoError(t, err)
		assert.Equal(t, "ceo@example.com", m.From)
		hits++
	}
	assert.Equal(t, 1, hits, "P1 is searchable")

	fetched, err := tenant.Fetch(t.Context(), got[0].Address)
	require.NoError(t, err)
	assert.Equal(t, raw, fetched, "the raw message is not changed")
}

func TestDeliverSenderCopy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		senderCopy bool
		envFrom    string
		wantSent   bool
	}{
		{"off", false, "", false},
		{"header sender", true, "", true},
		{"envelope sender", true, "alice@example.com", true},
		{"external envelope sender", true, "bounce@outside.example", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := newTenant(t, "alice@example.com", "bob@example.com")
			var hooked []mailbox.Address
			tenant.OnDeliver(func(_ context.Context, a mailbox.Address, _ *mailbox.Parsed) { hooked = append(hooked, a) })
			raw := rawMessage("sent@x", "Alice <alice@example.com>", "bob@example.com", "hi")
			got, err := tenant.Deliver(t.Context(), raw, &mock.DeliverOptions{SenderCopy: tc.senderCopy, EnvelopeFrom: tc.envFrom})
			require.NoError(t, err)
			require.NotEmpty(t, got)
			assert.Equal(t, "bob@example.com", got[0].Mailbox)
			assert.Equal(t, got[:1], hooked, "hooks run for recipient copies only")
			sent := find(t, tenant, "alice@example.com", "sent@x")
			if !tc.wantSent {
				assert.Len(t, got, 1)
				assert.Empty(t, sent)
				return
			}
			require.Len(t, got, 2)
			require.Len(t, sent, 1)
			assert.Equal(t, got[1], sent[0].Address)
			assert.Equal(t, mailbox.RoleSent, sent[0].Role)
		})
	}
}

func TestOnDeliverHooks(t *testing.T) {
	tenant := newTenant(t, "alice@example.com", "bob@example.com")
	var mu sync.Mutex
	var calls []string
	var parsed []*mailbox.Parsed
	for _, name := range []string{"first", "second"} {
		tenant.OnDeliver(func(ctx context.Context, a mailbox.Address, p *mailbox.Parsed) {
			// Hooks run without the tenant's lock: they may call it.
			raw, err := tenant.Fetch(ctx, a)
			assert.NoError(t, err)
			assert.NotEmpty(t, raw)
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, name+" "+a.Mailbox)
			parsed = append(parsed, p)
		})
	}
	tenant.OnDeliver(nil) // ignored
	raw := rawMessage("hook@x", "ext@outside.example", "alice@example.com, bob@example.com", "Meeting")
	_, err := tenant.Deliver(t.Context(), raw, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"first alice@example.com", "second alice@example.com", "first bob@example.com", "second bob@example.com"}, calls)
	require.Len(t, parsed, 4)
	for _, p := range parsed {
		assert.Same(t, parsed[0], p, "one parse per delivery")
	}
	assert.Equal(t, "hook@x", parsed[0].MessageID)
	assert.Equal(t, "Meeting", parsed[0].Subject)

	_, err = tenant.Append(t.Context(), "alice@example.com", mailbox.In(mailbox.RoleInbox), raw, nil)
	require.NoError(t, err)
	assert.Len(t, calls, 4, "Append does not run hooks")
}

func TestDeliverCancelled(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := tenant.Deliver(ctx, rawMessage("c@x", "x@outside.example", "alice@example.com", "s"), nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, find(t, tenant, "alice@example.com", "c@x"))
}

func TestDeliverCopiesInput(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	raw := rawMessage("copy@x", "x@outside.example", "alice@example.com", "s")
	orig := slices.Clone(raw)
	got, err := tenant.Deliver(t.Context(), raw, nil)
	require.NoError(t, err)
	clear(raw)
	fetched, err := tenant.Fetch(t.Context(), got[0])
	require.NoError(t, err)
	assert.Equal(t, orig, fetched, "Deliver keeps its own copy")
	clear(fetched)
	again, err := tenant.Fetch(t.Context(), got[0])
	require.NoError(t, err)
	assert.Equal(t, orig, again, "Fetch returns a copy")
}

func TestSearchResultsAreCallers(t *testing.T) {
	tenant := newTenant(t, "alice@example.com", "bob@example.com")
	raw := rawMessage("own@x", "x@outside.example", "alice@example.com, bob@example.com", "s")
	_, err := tenant.Deliver(t.Context(), raw, nil)
	require.NoError(t, err)
	got := find(t, tenant, "alice@example.com", "own@x")
	require.Len(t, got, 1)
	want := slices.Clone(got[0].Recipients)
	got[0].Recipients[0] = "mallory@example.com"
	again := find(t, tenant, "bob@example.com", "own@x")
	require.Len(t, again, 1)
	assert.Equal(t, want, again[0].Recipients)
}

func TestMoveBatchRules(t *testing.T) {
	tenant := newTenant(t, "alice@example.com", "bob@example.com")
	ctx := t.Context()
	got, err := tenant.Deliver(ctx, rawMessage("b@x", "x@outside.example", "alice@example.com, bob@example.com", "s"), nil)
	require.NoError(t, err)

	_, err = tenant.Move(ctx, got, mailbox.In(mailbox.RoleJunk))
	require.Error(t, err, "addresses of two mailboxes")
	_, err = tenant.Expunge(ctx, got)
	require.Error(t, err, "addresses of two mailboxes")
	for _, a := range got {
		_, err := tenant.Fetch(ctx, a)
		require.NoError(t, err, "nothing moved or expunged")
	}

	moved, err := tenant.Move(ctx, nil, mailbox.In(mailbox.RoleJunk))
	require.NoError(t, err)
	assert.Empty(t, moved)
	errs, err := tenant.Expunge(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, errs)

	// A gone folder in an address is ErrNotFound (and ErrNoFolder).
	ghost := got[0]
	ghost.Folder = "Nope"
	moved, err = tenant.Move(ctx, []mailbox.Address{ghost}, mailbox.In(mailbox.RoleJunk))
	require.NoError(t, err)
	require.ErrorIs(t, moved[0].Err, mailbox.ErrNotFound)
	require.ErrorIs(t, moved[0].Err, mailbox.ErrNoFolder)
}

func TestMoveKeepsFlags(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	ctx := t.Context()
	a, err := tenant.Append(ctx, "alice@example.com", mailbox.In(mailbox.RoleInbox), rawMessage("f@x", "x@outside.example", "alice@example.com", "s"), &mailbox.AppendOptions{Flags: []string{`\Seen`, `\Flagged`}})
	require.NoError(t, err)
	moved, err := tenant.Move(ctx, []mailbox.Address{a}, mailbox.In(mailbox.RoleRecoverable))
	require.NoError(t, err)
	require.NoError(t, moved[0].Err)
	got := find(t, tenant, "alice@example.com", "f@x")
	require.Len(t, got, 1)
	assert.Equal(t, moved[0].To, got[0].Address)
	assert.Equal(t, []string{`\Seen`, `\Flagged`}, got[0].Flags)
}

func TestSearchWhileMoving(t *testing.T) {
	// Moving copies from inside the search loop must not deadlock.
	tenant := newTenant(t, "alice@example.com")
	ctx := t.Context()
	for i := range 10 {
		_, err := tenant.Deliver(ctx, rawMessage(fmt.Sprintf("loop%d@x", i), "x@outside.example", "alice@example.com", "loop"), nil)
		require.NoError(t, err)
	}
	n := 0
	for m, err := range tenant.Search(ctx, "alice@example.com", mailbox.Criteria{Subject: "loop", Roles: []mailbox.Role{mailbox.RoleInbox}}) {
		require.NoError(t, err)
		moved, err := tenant.Move(ctx, []mailbox.Address{m.Address}, mailbox.In(mailbox.RoleDeleted))
		require.NoError(t, err)
		require.NoError(t, moved[0].Err)
		n++
	}
	assert.Equal(t, 10, n)
}

func TestCancelDuringSearch(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	for i := range 5 {
		_, err := tenant.Deliver(t.Context(), rawMessage(fmt.Sprintf("cs%d@x", i), "x@outside.example", "alice@example.com", "cs"), nil)
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var hits int
	var gotErr error
	for _, err := range tenant.Search(ctx, "alice@example.com", mailbox.Criteria{Subject: "cs"}) {
		if err != nil {
			gotErr = err
			break
		}
		hits++
		if hits == 2 {
			cancel()
		}
	}
	assert.Equal(t, 2, hits)
	require.ErrorIs(t, gotErr, context.Canceled)
}

func TestCopies(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	ctx := t.Context()
	var want []mailbox.Address
	for i, r := range []mailbox.Role{mailbox.RoleJunk, mailbox.RoleInbox, mailbox.RoleInbox, mailbox.RoleEvidence} {
		a, err := tenant.Append(ctx, "alice@example.com", mailbox.In(r), rawMessage(fmt.Sprintf("cp%d@x", i), "x@outside.example", "alice@example.com", "s"), nil)
		require.NoError(t, err)
		want = append(want, a)
	}
	calls := tenant.Calls()
	got, err := tenant.Copies("Alice@example.com")
	require.NoError(t, err)
	assert.Equal(t, calls, tenant.Calls(), "not a backend call")
	var addrs []mailbox.Address
	for _, m := range got {
		addrs = append(addrs, m.Address)
	}
	// Search order: role folders in mailbox.Roles() order, UIDs ascending.
	assert.Equal(t, []mailbox.Address{want[1], want[2], want[0], want[3]}, addrs)
	assert.Equal(t, mailbox.RoleEvidence, got[3].Role)
	assert.Equal(t, "cp3@x", got[3].MessageID)

	_, err = tenant.Copies("nobody@example.com")
	require.ErrorIs(t, err, mailbox.ErrNoMailbox)
}

func TestDeliverEnvelopeWinsOverReturnPath(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	var hookP1 string
	tenant.OnDeliver(func(_ context.Context, _ mailbox.Address, p *mailbox.Parsed) { hookP1 = p.EnvelopeFrom })
	raw := rawMessage("rp@x", "x@outside.example", "alice@example.com", "s", "Return-Path: <forged@outside.example>")
	_, err := tenant.Deliver(t.Context(), raw, &mock.DeliverOptions{EnvelopeFrom: "real@mta.example"})
	require.NoError(t, err)
	got := find(t, tenant, "alice@example.com", "rp@x")
	require.Len(t, got, 1)
	assert.Equal(t, "real@mta.example", got[0].EnvelopeFrom)
	assert.Equal(t, "real@mta.example", hookP1)

	_, err = tenant.Deliver(t.Context(), rawMessage("rp2@x", "x@outside.example", "alice@example.com", "s", "Return-Path: <bounce@outside.example>"), nil)
	require.NoError(t, err)
	got = find(t, tenant, "alice@example.com", "rp2@x")
	require.Len(t, got, 1)
	assert.Equal(t, "bounce@outside.example", got[0].EnvelopeFrom, "the Return-Path without an envelope option")
}

// countdownCtx reports Canceled from its nth Err call on.
type countdownCtx struct {
	context.Context
	mu sync.Mutex
	n  int
}

func (c *countdownCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n < 0 {
		return context.Canceled
	}
	return nil
}

func TestMoveCancelledMidBatch(t *testing.T) {
	tenant := newTenant(t, "alice@example.com")
	var as []mailbox.Address
	for i := range 4 {
		got, err := tenant.Deliver(t.Context(), rawMessage(fmt.Sprintf("mid%d@x", i), "x@outside.example", "alice@example.com", "mid"), nil)
		require.NoError(t, err)
		as = append(as, got...)
	}
	// One Err call at entry, then one per address: two addresses move.
	ctx := &countdownCtx{Context: t.Context(), n: 3}
	moved, err := tenant.Move(ctx, as, mailbox.In(mailbox.RoleJunk))
	require.NoError(t, err, "a batch that started reports per copy")
	require.Len(t, moved, 4)
	require.NoError(t, moved[0].Err)
	require.NoError(t, moved[1].Err)
	require.ErrorIs(t, moved[2].Err, context.Canceled)
	require.ErrorIs(t, moved[3].Err, context.Canceled)
	for _, a := range as[2:] {
		_, err := tenant.Fetch(t.Context(), a)
		require.NoError(t, err, "not moved")
	}

	ctx = &countdownCtx{Context: t.Context(), n: 2}
	errs, err := tenant.Expunge(ctx, as[2:])
	require.NoError(t, err)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], context.Canceled)
}
