package mailboxtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/conformance"
	"github.com/eradicate-dev/eradicate/mailbox"
)

type testCase = conformance.Case[*env]

func groups() []conformance.Group[*env] {
	return []conformance.Group[*env]{
		{Name: "Mailboxes", Cases: mailboxesCases()},
		{Name: "Append", Cases: appendCases()},
		{Name: "Fetch", Cases: fetchCases()},
		{Name: "FetchMany", Cases: fetchManyCases()},
		{Name: "Search", Cases: searchCases()},
		{Name: "Move", Cases: moveCases()},
		{Name: "Expunge", Cases: expungeCases()},
		{Name: "Cancelled", Cases: cancelledCases()},
		{Name: "Concurrent", Cases: concurrentCases()},
		{Name: "Quarantine", Cases: quarantineCases()},
	}
}

const noSuchUser = "nobody-mailboxtest@nowhere.invalid"

func mailboxesCases() []testCase {
	return []testCase{
		{Name: "ListsOwners", Run: func(t *testing.T, e *env) {
			got, err := e.Store.Mailboxes(e.ctx)
			require.NoError(t, err)
			for _, u := range e.Owners {
				assert.Contains(t, lower(got), strings.ToLower(u))
			}
			again, err := e.Store.Mailboxes(e.ctx)
			require.NoError(t, err)
			assert.Equal(t, got, again, "the order must be stable")
		}},
	}
}

func appendCases() []testCase {
	return []testCase{
		{Name: "EachRole", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			for _, r := range mailbox.Roles() {
				raw := e.raw(msg{key: "role-" + string(r), subject: "role " + string(r)})
				a := e.seedRaw(t, owner, mailbox.In(r), raw)
				e.requireFetch(t, a, raw)
				got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id("role-" + string(r))}})
				require.Len(t, got, 1, "role %s", r)
				assert.Equal(t, a, got[0].Address, "role %s", r)
				assert.Equal(t, r, got[0].Role, "role %s", r)
			}
		}},
		{Name: "UIDsAscendingNeverReused", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			as := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 3)
			for i := 1; i < len(as); i++ {
				assert.Equal(t, as[0].Folder, as[i].Folder)
				assert.Equal(t, as[0].UIDValidity, as[i].UIDValidity)
				assert.Greater(t, as[i].UID, as[i-1].UID)
			}
			moved, err := e.Store.Move(e.ctx, as[2:], mailbox.In(mailbox.RoleJunk))
			require.NoError(t, err)
			require.NoError(t, moved[0].Err)
			_, err = e.Store.Expunge(e.ctx, as[1:2])
			require.NoError(t, err)
			next := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 1)[0]
			assert.Equal(t, as[0].UIDValidity, next.UIDValidity)
			assert.Greater(t, next.UID, as[2].UID, "a UID must never be reused")
		}},
		{Name: "ToFolderByName", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			junk := e.folderOf(t, owner, mailbox.RoleJunk)
			raw := e.raw(msg{key: "byname"})
			a := e.seedRaw(t, owner, mailbox.InFolder(junk), raw)
			assert.Equal(t, junk, a.Folder)
			e.requireFetch(t, a, raw)
			if e.CreateFolder == nil {
				t.Skip("the harness cannot create folders: ordinary folder part skipped")
			}
			e.CreateFolder(t, owner, "Projects")
			raw = e.raw(msg{key: "ordinary"})
			a = e.seedRaw(t, owner, mailbox.InFolder("Projects"), raw)
			assert.Equal(t, "Projects", a.Folder)
			got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id("ordinary")}})
			require.Len(t, got, 1)
			assert.Equal(t, mailbox.RoleNone, got[0].Role)
			assert.Equal(t, a, got[0].Address)
		}},
		{Name: "UnknownMailbox", Run: func(t *testing.T, e *env) {
			_, err := e.Store.Append(e.ctx, noSuchUser, mailbox.In(mailbox.RoleInbox), e.raw(msg{}), nil)
			require.ErrorIs(t, err, mailbox.ErrNoMailbox)
		}},
		{Name: "UnknownFolder", Run: func(t *testing.T, e *env) {
			_, err := e.Store.Append(e.ctx, e.Owners[0], mailbox.InFolder("No Such Folder "+e.tag), e.raw(msg{key: "nofolder"}), nil)
			require.ErrorIs(t, err, mailbox.ErrNoFolder)
			assert.Empty(t, e.search(t, e.Owners[0], e.all()))
		}},
		{Name: "Flags", Run: func(t *testing.T, e *env) {
			raw := e.raw(msg{key: "flagged"})
			_, err := e.Store.Append(e.ctx, e.Owners[0], mailbox.In(mailbox.RoleInbox), raw, &mailbox.AppendOptions{Flags: []string{`\Seen`}})
			require.NoError(t, err)
			got := e.search(t, e.Owners[0], e.all())
			require.Len(t, got, 1)
			assert.Contains(t, got[0].Flags, `\Seen`)
		}},
	}
}

func fetchCases() []testCase {
	return []testCase{
		{Name: "IdenticalBytes", Run: func(t *testing.T, e *env) {
			a, raw := e.seed(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), msg{
				subject: "bytes", body: "Line one\r\n\tindented line\r\n\r\nlast line without newline",
				attName: "data.bin", attData: []byte("\x00\x01\x02 binary \xff\xfe"),
			})
			e.requireFetch(t, a, raw)
		}},
		{Name: "MissingUID", Run: func(t *testing.T, e *env) {
			a := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)[0]
			missing := a
			missing.UID += 1000
			_, err := e.Store.Fetch(e.ctx, missing)
			require.ErrorIs(t, err, mailbox.ErrNotFound)
		}},
		{Name: "Expunged", Run: func(t *testing.T, e *env) {
			a := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)[0]
			errs, err := e.Store.Expunge(e.ctx, []mailbox.Address{a})
			require.NoError(t, err)
			require.NoError(t, errs[0])
			e.requireGone(t, a)
		}},
		{Name: "StaleUIDValidity", Run: func(t *testing.T, e *env) {
			if e.ChangeUIDValidity == nil {
				t.Skip("the harness cannot change UIDVALIDITY")
			}
			owner := e.Owners[0]
			a, raw := e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: "stale"})
			e.ChangeUIDValidity(t, owner, a.Folder)
			_, err := e.Store.Fetch(e.ctx, a)
			require.ErrorIs(t, err, mailbox.ErrUIDValidity)

			moved, err := e.Store.Move(e.ctx, []mailbox.Address{a}, mailbox.In(mailbox.RoleJunk))
			require.NoError(t, err)
			require.Len(t, moved, 1)
			require.ErrorIs(t, moved[0].Err, mailbox.ErrUIDValidity)
			errs, err := e.Store.Expunge(e.ctx, []mailbox.Address{a})
			require.NoError(t, err)
			require.Len(t, errs, 1)
			require.ErrorIs(t, errs[0], mailbox.ErrUIDValidity)

			got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id("stale")}})
			require.Len(t, got, 1, "the message must survive a stale move and expunge")
			assert.NotEqual(t, a.UIDValidity, got[0].Address.UIDValidity)
			e.requireFetch(t, got[0].Address, raw)
		}},
		{Name: "StaleAmongFresh", Run: func(t *testing.T, e *env) {
			// A stale address in a batch with fresh ones of the same
			// folder is refused on its own; the message that now has its
			// UID is not touched.
			if e.ChangeUIDValidity == nil {
				t.Skip("the harness cannot change UIDVALIDITY")
			}
			owner := e.Owners[0]
			inbox := mailbox.In(mailbox.RoleInbox)
			e.seed(t, owner, inbox, msg{key: "mix-1"})
			stale2, _ := e.seed(t, owner, inbox, msg{key: "mix-2"})
			stale3, raw3 := e.seed(t, owner, inbox, msg{key: "mix-3"})
			e.ChangeUIDValidity(t, owner, stale2.Folder)
			one := func(key string) mailbox.Message {
				t.Helper()
				got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id(key)}})
				require.Len(t, got, 1, key)
				return got[0]
			}
			fresh1 := one("mix-1")
			require.NotEqual(t, stale2.UIDValidity, fresh1.Address.UIDValidity)

			moved, err := e.Store.Move(e.ctx, []mailbox.Address{fresh1.Address, stale2}, mailbox.In(mailbox.RoleJunk))
			require.NoError(t, err)
			require.Len(t, moved, 2)
			require.NoError(t, moved[0].Err)
			require.ErrorIs(t, moved[1].Err, mailbox.ErrUIDValidity)
			assert.Equal(t, mailbox.RoleJunk, one("mix-1").Role)
			assert.Equal(t, mailbox.RoleInbox, one("mix-2").Role, "not moved by a stale address")
			assert.Equal(t, mailbox.RoleInbox, one("mix-3").Role)

			errs, err := e.Store.Expunge(e.ctx, []mailbox.Address{one("mix-2").Address, stale3})
			require.NoError(t, err)
			require.Len(t, errs, 2)
			require.NoError(t, errs[0])
			require.ErrorIs(t, errs[1], mailbox.ErrUIDValidity)
			assert.Empty(t, e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id("mix-2")}}))
			e.requireFetch(t, one("mix-3").Address, raw3)
			assert.Equal(t, mailbox.RoleJunk, one("mix-1").Role)
		}},
	}
}

// searchSet seeds the messages the search cases select from, all in the
// first user's mailbox:
//
//	a  INBOX  From alice@example.com, Return-Path bounce@bulk.example.net,
//	          Cc carol@other.example, "Invoice overdue", 2024-03-10, a URL
//	b  INBOX  From mallory@mail.phish.test, "Quarterly report", 2024-03-11,
//	          an attachment
//	c  INBOX  From eve@evil-example.com, "Lunch", 2024-03-12
//	d  Junk   From alice@example.com, "Invoice reminder", 2024-03-13
//	e  INBOX  From news@lists.example.org to list@lists.example.org (the
//	          owner is not a header recipient), "Newsletter", 2024-03-14
type searchSet struct {
	owner   string
	url     string
	attData []byte
	addr    map[string]mailbox.Address
	raw     map[string][]byte
	junk    string
}

func (e *env) searchSet(t *testing.T) *searchSet {
	t.Helper()
	s := &searchSet{
		owner:   e.Owners[0],
		url:     "https://evil.example.org/login?session=" + e.tag,
		attData: []byte("%PDF-1.4 quarterly report " + e.tag),
		addr:    map[string]mailbox.Address{},
		raw:     map[string][]byte{},
	}
	day := func(d int) time.Time { return time.Date(2024, 3, d, 12, 0, 0, 0, time.UTC) }
	inbox, junk := mailbox.In(mailbox.RoleInbox), mailbox.In(mailbox.RoleJunk)
	for _, m := range []struct {
		loc mailbox.Location
		msg msg
	}{
		{inbox, msg{key: "a", from: "Alice <alice@example.com>", returnPath: "bounce@bulk.example.net",
			to: []string{s.owner}, cc: []string{"Carol <carol@other.example>"}, subject: "Invoice overdue", date: day(10),
			body: "Please pay at " + s.url + " today.\r\n"}},
		{inbox, msg{key: "b", from: "Mallory <mallory@mail.phish.test>", to: []string{s.owner}, subject: "Quarterly report",
			date: day(11), attName: "report.pdf", attData: s.attData}},
		{inbox, msg{key: "c", from: "eve@evil-example.com", returnPath: "eve@evil-example.com", to: []string{s.owner},
			subject: "Lunch", date: day(12)}},
		{junk, msg{key: "d", from: "alice@example.com", to: []string{s.owner}, subject: "Invoice reminder", date: day(13)}},
		{inbox, msg{key: "e", from: "news@lists.example.org", to: []string{"list@lists.example.org"}, subject: "Newsletter",
			date: day(14)}},
	} {
		a, raw := e.seed(t, s.owner, m.loc, m.msg)
		s.addr[m.msg.key] = a
		s.raw[m.msg.key] = raw
	}
	s.junk = s.addr["d"].Folder
	return s
}

// searchTable runs named searches over the search set, each restricted to
// the case's messages, and compares the keys found.
func searchTable(cases []struct {
	name string
	c    func(e *env, s *searchSet) mailbox.Criteria
	want []string
}) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		s := e.searchSet(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := tc.c(e, s)
				got := e.search(t, s.owner, mailbox.Criteria{And: []mailbox.Criteria{e.all(), c}})
				assert.Equal(t, tc.want, e.keys(got), "criteria %+v", c)
				if !c.NeedsContent() && c.Validate() == nil {
					// The criteria alone narrow too; check them without the tag.
					got = e.search(t, s.owner, c)
					assert.Equal(t, tc.want, e.keys(got), "criteria %+v without the tag", c)
				}
			})
		}
	}
}

type searchRow = struct {
	name string
	c    func(e *env, s *searchSet) mailbox.Criteria
	want []string
}

func searchCases() []testCase {
	crit := func(c mailbox.Criteria) func(*env, *searchSet) mailbox.Criteria {
		return func(*env, *searchSet) mailbox.Criteria { return c }
	}
	return []testCase{
		{Name: "LenientHeaders", Run: caseLenientHeaders},
		{Name: "URLIdentity", Run: caseURLIdentity},
		{Name: "MessageID", Run: searchTable([]searchRow{
			{"angle brackets", func(e *env, _ *searchSet) mailbox.Criteria {
				return mailbox.Criteria{MessageIDs: []string{"<" + e.id("a") + ">"}}
			}, []string{"a"}},
			{"bare", func(e *env, _ *searchSet) mailbox.Criteria {
				return mailbox.Criteria{MessageIDs: []string{e.id("b")}}
			}, []string{"b"}},
			{"other case", func(e *env, _ *searchSet) mailbox.Criteria {
				return mailbox.Criteria{MessageIDs: []string{strings.ToUpper(e.id("c"))}}
			}, []string{"c"}},
			{"several", func(e *env, _ *searchSet) mailbox.Criteria {
				return mailbox.Criteria{MessageIDs: []string{e.id("a"), "<" + e.id("d") + ">", "unknown@nowhere.invalid"}}
			}, []string{"a", "d"}},
			{"not a prefix", func(e *env, _ *searchSet) mailbox.Criteria {
				return mailbox.Criteria{MessageIDs: []string{"a." + e.tag}}
			}, []string{}},
		})},
		{Name: "SenderEnvelope", Run: searchTable([]searchRow{
			{"P1 only", crit(mailbox.Criteria{Senders: []string{"bounce@bulk.example.net"}}), []string{"a"}},
			{"P1 other case", crit(mailbox.Criteria{Senders: []string{"Bounce@BULK.example.net"}}), []string{"a"}},
			{"P1 equals P2", crit(mailbox.Criteria{Senders: []string{"eve@evil-example.com"}}), []string{"c"}},
		})},
		{Name: "SenderHeader", Run: searchTable([]searchRow{
			{"P2", crit(mailbox.Criteria{Senders: []string{"alice@example.com"}}), []string{"a", "d"}},
			{"P2 other case", crit(mailbox.Criteria{Senders: []string{"ALICE@Example.COM"}}), []string{"a", "d"}},
			{"P2 with brackets", crit(mailbox.Criteria{Senders: []string{"<mallory@mail.phish.test>"}}), []string{"b"}},
			{"not a substring", crit(mailbox.Criteria{Senders: []string{"lice@example.com"}}), []string{}},
		})},
		{Name: "SenderDomain", Run: searchTable([]searchRow{
			{"exact", crit(mailbox.Criteria{SenderDomains: []string{"example.com"}}), []string{"a", "d"}},
			{"parent of subdomain", crit(mailbox.Criteria{SenderDomains: []string{"phish.test"}}), []string{"b"}},
			{"subdomain itself", crit(mailbox.Criteria{SenderDomains: []string{"mail.phish.test"}}), []string{"b"}},
			{"not a suffix", crit(mailbox.Criteria{SenderDomains: []string{"evil-example.com"}}), []string{"c"}},
			{"envelope domain", crit(mailbox.Criteria{SenderDomains: []string{"example.net"}}), []string{"a"}},
			{"other case", crit(mailbox.Criteria{SenderDomains: []string{"EXAMPLE.com"}}), []string{"a", "d"}},
		})},
		{Name: "Recipient", Run: searchTable([]searchRow{
			{"cc", crit(mailbox.Criteria{Recipients: []string{"carol@other.example"}}), []string{"a"}},
			{"cc other case", crit(mailbox.Criteria{Recipients: []string{"CAROL@other.example"}}), []string{"a"}},
			{"list address", crit(mailbox.Criteria{Recipients: []string{"list@lists.example.org"}}), []string{"e"}},
			{"mailbox owner", func(e *env, s *searchSet) mailbox.Criteria {
				return mailbox.Criteria{Recipients: []string{s.owner}}
			}, []string{"a", "b", "c", "d", "e"}},
		})},
		{Name: "Subject", Run: searchTable([]searchRow{
			{"substring", crit(mailbox.Criteria{Subject: "invoice"}), []string{"a", "d"}},
			{"other case", crit(mailbox.Criteria{Subject: "INVOICE OVERDUE"}), []string{"a"}},
			{"inside a word", crit(mailbox.Criteria{Subject: "arterl"}), []string{"b"}},
			{"no match", crit(mailbox.Criteria{Subject: "no such subject"}), []string{}},
		})},
		{Name: "DateRange", Run: searchTable([]searchRow{
			{"since inclusive before exclusive", crit(mailbox.Criteria{
				Since: time.Date(2024, 3, 11, 12, 0, 0, 0, time.UTC), Before: time.Date(2024, 3, 13, 12, 0, 0, 0, time.UTC),
			}), []string{"b", "c"}},
			{"since only", crit(mailbox.Criteria{Since: time.Date(2024, 3, 13, 12, 0, 0, 0, time.UTC)}), []string{"d", "e"}},
			{"before only", crit(mailbox.Criteria{Before: time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)}), []string{"a"}},
		})},
		{Name: "Folder", Run: searchTable([]searchRow{
			{"junk by name", func(_ *env, s *searchSet) mailbox.Criteria {
				return mailbox.Criteria{Folders: []string{s.junk}}
			}, []string{"d"}},
			{"inbox any case", crit(mailbox.Criteria{Folders: []string{"inbox"}}), []string{"a", "b", "c", "e"}},
			{"unknown folder", crit(mailbox.Criteria{Folders: []string{"No Such Folder"}}), []string{}},
		})},
		{Name: "Role", Run: searchTable([]searchRow{
			{"junk", crit(mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleJunk}}), []string{"d"}},
			{"inbox", crit(mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleInbox}}), []string{"a", "b", "c", "e"}},
			{"inbox or junk", crit(mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleInbox, mailbox.RoleJunk}}), []string{"a", "b", "c", "d", "e"}},
			{"deleted is empty", crit(mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleDeleted}}), []string{}},
			{"folder or role", func(_ *env, s *searchSet) mailbox.Criteria {
				return mailbox.Criteria{Folders: []string{s.junk}, Roles: []mailbox.Role{mailbox.RoleDeleted}}
			}, []string{"d"}},
		})},
		{Name: "URL", Run: searchTable([]searchRow{
			{"exact", func(_ *env, s *searchSet) mailbox.Criteria { return mailbox.Criteria{URLs: []string{s.url}} }, []string{"a"}},
			{"other URL", crit(mailbox.Criteria{URLs: []string{"https://benign.example.org/"}}), []string{}},
		})},
		{Name: "AttachmentHash", Run: searchTable([]searchRow{
			{"lower-case hex", func(_ *env, s *searchSet) mailbox.Criteria {
				return mailbox.Criteria{AttachmentSHA256: []string{sha256Hex(s.attData)}}
			}, []string{"b"}},
			{"upper-case hex", func(_ *env, s *searchSet) mailbox.Criteria {
				return mailbox.Criteria{AttachmentSHA256: []string{strings.ToUpper(sha256Hex(s.attData))}}
			}, []string{"b"}},
			{"other hash", crit(mailbox.Criteria{AttachmentSHA256: []string{sha256Hex([]byte("other"))}}), []string{}},
		})},
		{Name: "AndOrNested", Run: searchTable([]searchRow{
			{"or of senders", crit(mailbox.Criteria{Or: []mailbox.Criteria{
				{Senders: []string{"alice@example.com"}}, {SenderDomains: []string{"phish.test"}},
			}}), []string{"a", "b", "d"}},
			{"and narrows", crit(mailbox.Criteria{And: []mailbox.Criteria{
				{Senders: []string{"alice@example.com"}}, {Roles: []mailbox.Role{mailbox.RoleJunk}},
			}}), []string{"d"}},
			{"fields and", crit(mailbox.Criteria{Senders: []string{"alice@example.com"}, Subject: "overdue"}), []string{"a"}},
			{"nested", func(e *env, _ *searchSet) mailbox.Criteria {
				return mailbox.Criteria{Or: []mailbox.Criteria{
					{MessageIDs: []string{e.id("c")}},
					{And: []mailbox.Criteria{{SenderDomains: []string{"example.com"}}, {Subject: "reminder"}}},
				}}
			}, []string{"c", "d"}},
			{"or with content", func(_ *env, s *searchSet) mailbox.Criteria {
				return mailbox.Criteria{Or: []mailbox.Criteria{
					{URLs: []string{s.url}}, {AttachmentSHA256: []string{sha256Hex(s.attData)}},
				}}
			}, []string{"a", "b"}},
		})},
		{Name: "MessageFields", Run: func(t *testing.T, e *env) {
			s := e.searchSet(t)
			got := e.search(t, s.owner, mailbox.Criteria{MessageIDs: []string{e.id("a")}})
			require.Len(t, got, 1)
			m := got[0]
			assert.Equal(t, s.addr["a"], m.Address)
			assert.Equal(t, mailbox.RoleInbox, m.Role)
			assert.True(t, strings.EqualFold(e.id("a"), m.MessageID), "message id %q", m.MessageID)
			assert.Equal(t, "bounce@bulk.example.net", strings.ToLower(m.EnvelopeFrom))
			assert.Equal(t, "alice@example.com", strings.ToLower(m.From))
			assert.Contains(t, lower(m.Recipients), strings.ToLower(s.owner))
			assert.Contains(t, lower(m.Recipients), "carol@other.example")
			assert.Equal(t, "["+e.tag+"] Invoice overdue", m.Subject)
			assert.True(t, m.Date.Equal(time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)), "date %s", m.Date)
			assert.Equal(t, int64(len(s.raw["a"])), m.Size)
		}},
		{Name: "EmptyCriteria", Run: func(t *testing.T, e *env) {
			for _, c := range []mailbox.Criteria{{}, {And: []mailbox.Criteria{{}}}, {Or: []mailbox.Criteria{{}, {}}}} {
				err := e.searchErr(t, e.ctx, e.Owners[0], c)
				require.ErrorIs(t, err, mailbox.ErrEmptyCriteria, "criteria %+v", c)
			}
		}},
		{Name: "MatchesEverything", Run: func(t *testing.T, e *env) {
			e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)
			for _, tc := range []struct {
				name string
				c    mailbox.Criteria
			}{
				{"folder only", mailbox.Criteria{Folders: []string{"INBOX"}}},
				{"role only", mailbox.Criteria{Roles: []mailbox.Role{mailbox.RoleInbox}}},
				{"time only", mailbox.Criteria{Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}},
				{"time range", mailbox.Criteria{Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Before: time.Now().Add(time.Hour)}},
				{"blank subject", mailbox.Criteria{Subject: "   "}},
				{"top-level domain", mailbox.Criteria{SenderDomains: []string{"com"}}},
				{"or with a folder-only branch", mailbox.Criteria{Or: []mailbox.Criteria{{Senders: []string{"a@example.com"}}, {Folders: []string{"INBOX"}}}}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := e.searchErr(t, e.ctx, e.Owners[0], tc.c)
					require.ErrorIs(t, err, mailbox.ErrMatchesEverything)
				})
			}
		}},
		{Name: "UnknownMailbox", Run: func(t *testing.T, e *env) {
			err := e.searchErr(t, e.ctx, noSuchUser, e.all())
			require.ErrorIs(t, err, mailbox.ErrNoMailbox)
		}},
		{Name: "StopEarly", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 4)
			e.seedN(t, owner, mailbox.In(mailbox.RoleJunk), 2)
			n := 0
			for _, err := range e.Store.Search(e.ctx, owner, e.all()) {
				require.NoError(t, err)
				n++
				if n == 2 {
					break
				}
			}
			require.Equal(t, 2, n)
			// The store must not be left busy: a full search and a move
			// of every copy still work, within a deadline.
			ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
			defer cancel()
			var all []mailbox.Address
			for m, err := range e.Store.Search(ctx, owner, e.all()) {
				require.NoError(t, err)
				all = append(all, m.Address)
			}
			require.Len(t, all, 6)
			moved, err := e.Store.Move(ctx, all, mailbox.In(mailbox.RoleDeleted))
			require.NoError(t, err)
			for _, m := range moved {
				require.NoError(t, m.Err)
			}
		}},
		{Name: "AdminOnlyFolders", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			for _, r := range []mailbox.Role{mailbox.RoleQuarantine, mailbox.RoleEvidence, mailbox.RoleRecoverable} {
				e.seed(t, owner, mailbox.In(r), msg{key: string(r)})
			}
			e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: "inbox"})
			for _, r := range []mailbox.Role{mailbox.RoleQuarantine, mailbox.RoleEvidence, mailbox.RoleRecoverable} {
				got := e.search(t, owner, mailbox.Criteria{Subject: e.tag, Roles: []mailbox.Role{r}})
				assert.Equal(t, []string{string(r)}, e.keys(got), "role %s", r)
				if len(got) == 1 {
					assert.Equal(t, r, got[0].Role)
				}
			}
			got := e.search(t, owner, e.all())
			assert.Equal(t, []string{"evidence", "inbox", "quarantine", "recoverable"}, e.keys(got),
				"a search without folder restriction covers admin-only folders")
		}},
		{Name: "IsolatedMailboxes", Run: func(t *testing.T, e *env) {
			raw := e.raw(msg{key: "shared", to: []string{e.Owners[0], e.Owners[1]}})
			a0 := e.seedRaw(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), raw)
			a1 := e.seedRaw(t, e.Owners[1], mailbox.In(mailbox.RoleInbox), raw)
			for _, tc := range []struct {
				owner string
				want  mailbox.Address
			}{{e.Owners[0], a0}, {e.Owners[1], a1}} {
				got := e.search(t, tc.owner, mailbox.Criteria{MessageIDs: []string{e.id("shared")}})
				require.Len(t, got, 1)
				assert.Equal(t, tc.want, got[0].Address)
			}
			assert.Empty(t, e.search(t, e.Owners[2], mailbox.Criteria{MessageIDs: []string{e.id("shared")}}))
		}},
	}
}

func moveCases() []testCase {
	return []testCase{
		{Name: "UIDValidityZero", Run: func(t *testing.T, e *env) {
			// An address with UIDVALIDITY 0 names no folder generation:
			// Move refuses it as Fetch and Expunge do, to another folder
			// and to its own, and the message stays where it is.
			owner := e.Owners[0]
			a, raw := e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: "validity-zero"})
			zero := a
			zero.UIDValidity = 0
			for _, loc := range []mailbox.Location{mailbox.In(mailbox.RoleJunk), mailbox.InFolder(a.Folder)} {
				moved, err := e.Store.Move(e.ctx, []mailbox.Address{zero}, loc)
				require.NoError(t, err, "to %s", loc)
				require.Len(t, moved, 1)
				require.ErrorIs(t, moved[0].Err, mailbox.ErrUIDValidity, "to %s", loc)
				assert.True(t, moved[0].To.IsZero(), "to %s", loc)
			}
			_, err := e.Store.Fetch(e.ctx, zero)
			require.ErrorIs(t, err, mailbox.ErrUIDValidity)
			errs, err := e.Store.Expunge(e.ctx, []mailbox.Address{zero})
			require.NoError(t, err)
			require.Len(t, errs, 1)
			require.ErrorIs(t, errs[0], mailbox.ErrUIDValidity)
			got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id("validity-zero")}})
			require.Len(t, got, 1, "the message must survive")
			assert.Equal(t, a, got[0].Address, "not moved")
			e.requireFetch(t, a, raw)
		}},
		{Name: "BetweenRoles", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			a, raw := e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: "roam"})
			for _, r := range []mailbox.Role{mailbox.RoleJunk, mailbox.RoleDeleted, mailbox.RoleRecoverable, mailbox.RoleQuarantine, mailbox.RoleInbox} {
				moved, err := e.Store.Move(e.ctx, []mailbox.Address{a}, mailbox.In(r))
				require.NoError(t, err, "to %s", r)
				require.Len(t, moved, 1)
				require.NoError(t, moved[0].Err, "to %s", r)
				assert.Equal(t, a, moved[0].From)
				to := moved[0].To
				assert.NotEqual(t, a, to)
				assert.True(t, strings.EqualFold(owner, to.Mailbox))
				e.requireFetch(t, to, raw)
				e.requireGone(t, a)
				got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id("roam")}})
				require.Len(t, got, 1, "to %s", r)
				assert.Equal(t, to, got[0].Address)
				assert.Equal(t, r, got[0].Role)
				a = to
			}
		}},
		{Name: "ToFolderByName", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			junk := e.folderOf(t, owner, mailbox.RoleJunk)
			a, raw := e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: "named"})
			moved, err := e.Store.Move(e.ctx, []mailbox.Address{a}, mailbox.InFolder(junk))
			require.NoError(t, err)
			require.NoError(t, moved[0].Err)
			assert.Equal(t, junk, moved[0].To.Folder)
			e.requireFetch(t, moved[0].To, raw)
			if e.CreateFolder == nil {
				t.Skip("the harness cannot create folders: ordinary folder part skipped")
			}
			e.CreateFolder(t, owner, "Archive")
			moved, err = e.Store.Move(e.ctx, []mailbox.Address{moved[0].To}, mailbox.InFolder("Archive"))
			require.NoError(t, err)
			require.NoError(t, moved[0].Err)
			assert.Equal(t, "Archive", moved[0].To.Folder)
			e.requireFetch(t, moved[0].To, raw)
			got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{e.id("named")}})
			require.Len(t, got, 1)
			assert.Equal(t, mailbox.RoleNone, got[0].Role)
		}},
		{Name: "AlreadyInDestination", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			a, raw := e.seed(t, owner, mailbox.In(mailbox.RoleJunk), msg{key: "there"})
			for _, loc := range []mailbox.Location{mailbox.In(mailbox.RoleJunk), mailbox.InFolder(a.Folder)} {
				moved, err := e.Store.Move(e.ctx, []mailbox.Address{a}, loc)
				require.NoError(t, err)
				require.Len(t, moved, 1)
				require.NoError(t, moved[0].Err)
				assert.Equal(t, a, moved[0].From)
				assert.Equal(t, a, moved[0].To, "a copy already at %s keeps its address", loc)
				e.requireFetch(t, a, raw)
			}
		}},
		{Name: "MissingAddress", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			as := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 3)
			errs, err := e.Store.Expunge(e.ctx, as[1:2])
			require.NoError(t, err)
			require.NoError(t, errs[0])
			moved, err := e.Store.Move(e.ctx, as, mailbox.In(mailbox.RoleDeleted))
			require.NoError(t, err)
			require.Len(t, moved, 3)
			for i, m := range moved {
				assert.Equal(t, as[i], m.From, "order kept")
			}
			require.NoError(t, moved[0].Err)
			require.ErrorIs(t, moved[1].Err, mailbox.ErrNotFound)
			assert.True(t, moved[1].To.IsZero())
			require.NoError(t, moved[2].Err)
			got := e.search(t, owner, mailbox.Criteria{Subject: e.tag, Roles: []mailbox.Role{mailbox.RoleDeleted}})
			assert.ElementsMatch(t, []mailbox.Address{moved[0].To, moved[2].To}, addrs(got))
		}},
		{Name: "RepeatedAddress", Run: func(t *testing.T, e *env) {
			a := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)[0]
			moved, err := e.Store.Move(e.ctx, []mailbox.Address{a, a}, mailbox.In(mailbox.RoleJunk))
			require.NoError(t, err)
			require.Len(t, moved, 2)
			require.NoError(t, moved[0].Err)
			require.ErrorIs(t, moved[1].Err, mailbox.ErrNotFound, "a copy moves once")
			assert.Len(t, e.search(t, e.Owners[0], e.all()), 1)
		}},
		{Name: "SpanningFolders", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			in := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 2)
			junk := e.seedN(t, owner, mailbox.In(mailbox.RoleJunk), 2)
			batch := []mailbox.Address{in[0], junk[0], in[1], junk[1]}
			moved, err := e.Store.Move(e.ctx, batch, mailbox.In(mailbox.RoleDeleted))
			require.NoError(t, err)
			require.Len(t, moved, 4)
			for i, m := range moved {
				require.NoError(t, m.Err)
				assert.Equal(t, batch[i], m.From)
				e.requireGone(t, batch[i])
			}
			got := e.search(t, owner, mailbox.Criteria{Subject: e.tag, Roles: []mailbox.Role{mailbox.RoleDeleted}})
			assert.Len(t, got, 4)
		}},
		{Name: "UnknownFolder", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			as := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 2)
			_, err := e.Store.Move(e.ctx, as, mailbox.InFolder("No Such Folder "+e.tag))
			require.ErrorIs(t, err, mailbox.ErrNoFolder)
			got := e.search(t, owner, e.all())
			assert.ElementsMatch(t, as, addrs(got), "nothing moved")
		}},
		{Name: "UnknownMailbox", Run: func(t *testing.T, e *env) {
			a := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)[0]
			ghost := a
			ghost.Mailbox = noSuchUser
			_, err := e.Store.Move(e.ctx, []mailbox.Address{ghost}, mailbox.In(mailbox.RoleJunk))
			require.ErrorIs(t, err, mailbox.ErrNoMailbox)
			mustFetch(t, e, a)
		}},
		{Name: "InvalidLocation", Run: func(t *testing.T, e *env) {
			a := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)[0]
			for _, loc := range []mailbox.Location{{}, {Role: mailbox.RoleJunk, Folder: "Junk"}} {
				_, err := e.Store.Move(e.ctx, []mailbox.Address{a}, loc)
				require.Error(t, err, "location %+v", loc)
			}
			got := e.search(t, e.Owners[0], e.all())
			assert.Equal(t, []mailbox.Address{a}, addrs(got), "nothing moved")
		}},
		{Name: "LargeBatch", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			n := e.BatchSize
			if n == 0 {
				n = 500
			}
			as := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), n)
			moved, err := e.Store.Move(e.ctx, as, mailbox.In(mailbox.RoleRecoverable))
			require.NoError(t, err)
			require.Len(t, moved, n)
			seen := make(map[mailbox.Address]bool, n)
			for i, m := range moved {
				require.NoError(t, m.Err, "copy %d", i)
				require.Equal(t, as[i], m.From)
				require.False(t, seen[m.To], "address %s given twice", m.To)
				seen[m.To] = true
			}
			got := e.search(t, owner, e.all())
			require.Len(t, got, n)
			for _, m := range got {
				require.Equal(t, mailbox.RoleRecoverable, m.Role)
				require.True(t, seen[m.Address], "search found %s that Move did not report", m.Address)
			}
		}},
	}
}

func expungeCases() []testCase {
	return []testCase{
		{Name: "OnlyTargets", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			var as []mailbox.Address
			var raws [][]byte
			for i := range 5 {
				a, raw := e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: fmt.Sprintf("x%d", i)})
				as, raws = append(as, a), append(raws, raw)
			}
			other, otherRaw := e.seed(t, e.Owners[1], mailbox.In(mailbox.RoleInbox), msg{key: "other"})
			errs, err := e.Store.Expunge(e.ctx, []mailbox.Address{as[1], as[3]})
			require.NoError(t, err)
			require.Equal(t, []error{nil, nil}, errs)
			e.requireGone(t, as[1])
			e.requireGone(t, as[3])
			for _, i := range []int{0, 2, 4} {
				e.requireFetch(t, as[i], raws[i])
			}
			e.requireFetch(t, other, otherRaw)
			assert.Equal(t, []string{"x0", "x2", "x4"}, e.keys(e.search(t, owner, e.all())))
		}},
		{Name: "GoneCopy", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			as := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 2)
			moved, err := e.Store.Move(e.ctx, as[:1], mailbox.In(mailbox.RoleJunk))
			require.NoError(t, err)
			require.NoError(t, moved[0].Err)
			errs, err := e.Store.Expunge(e.ctx, []mailbox.Address{as[0], as[1]})
			require.NoError(t, err)
			require.Len(t, errs, 2)
			require.ErrorIs(t, errs[0], mailbox.ErrNotFound)
			require.NoError(t, errs[1])
			mustFetch(t, e, moved[0].To)
			e.requireGone(t, as[1])
		}},
		{Name: "SpanningFolders", Run: func(t *testing.T, e *env) {
			owner := e.Owners[0]
			a := e.seedN(t, owner, mailbox.In(mailbox.RoleInbox), 1)[0]
			b := e.seedN(t, owner, mailbox.In(mailbox.RoleEvidence), 1)[0]
			errs, err := e.Store.Expunge(e.ctx, []mailbox.Address{a, b})
			require.NoError(t, err)
			require.Equal(t, []error{nil, nil}, errs)
			assert.Empty(t, e.search(t, owner, e.all()))
		}},
	}
}

func cancelledCases() []testCase {
	cancelled := func(e *env) context.Context {
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		return ctx
	}
	return []testCase{
		{Name: "Mailboxes", Run: func(t *testing.T, e *env) {
			_, err := e.Store.Mailboxes(cancelled(e))
			require.ErrorIs(t, err, context.Canceled)
		}},
		{Name: "Search", Run: func(t *testing.T, e *env) {
			e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 2)
			err := e.searchErr(t, cancelled(e), e.Owners[0], e.all())
			require.ErrorIs(t, err, context.Canceled)
		}},
		{Name: "Fetch", Run: func(t *testing.T, e *env) {
			a := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 1)[0]
			_, err := e.Store.Fetch(cancelled(e), a)
			require.ErrorIs(t, err, context.Canceled)
		}},
		{Name: "Move", Run: func(t *testing.T, e *env) {
			as := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 3)
			_, err := e.Store.Move(cancelled(e), as, mailbox.In(mailbox.RoleJunk))
			require.ErrorIs(t, err, context.Canceled)
			assert.ElementsMatch(t, as, addrs(e.search(t, e.Owners[0], e.all())), "nothing moved")
		}},
		{Name: "Expunge", Run: func(t *testing.T, e *env) {
			as := e.seedN(t, e.Owners[0], mailbox.In(mailbox.RoleInbox), 3)
			_, err := e.Store.Expunge(cancelled(e), as)
			require.ErrorIs(t, err, context.Canceled)
			assert.ElementsMatch(t, as, addrs(e.search(t, e.Owners[0], e.all())), "nothing expunged")
		}},
		{Name: "Append", Run: func(t *testing.T, e *env) {
			_, err := e.Store.Append(cancelled(e), e.Owners[0], mailbox.In(mailbox.RoleInbox), e.raw(msg{}), nil)
			require.ErrorIs(t, err, context.Canceled)
			assert.Empty(t, e.search(t, e.Owners[0], e.all()), "nothing appended")
		}},
	}
}

func concurrentCases() []testCase {
	return []testCase{
		{Name: "MoversAndSearchers", Run: func(t *testing.T, e *env) {
			const perUser = 12
			workers := e.Concurrency
			if workers == 0 {
				workers = 8
			}
			owners := e.Owners[:2]
			for _, owner := range owners {
				for i := range perUser {
					e.seed(t, owner, mailbox.In(mailbox.RoleInbox), msg{key: fmt.Sprintf("c%d", i), to: []string{owner}})
				}
			}
			dests := []mailbox.Role{mailbox.RoleJunk, mailbox.RoleDeleted, mailbox.RoleInbox, mailbox.RoleRecoverable}
			var wg sync.WaitGroup
			errs := make(chan error, workers*64)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					owner := owners[w%len(owners)]
					for round := range 6 {
						var batch []mailbox.Address
						for m, err := range e.Store.Search(e.ctx, owner, e.all()) {
							if err != nil {
								errs <- fmt.Errorf("worker %d search: %w", w, err)
								return
							}
							// Workers take different and overlapping subsets.
							if int(m.Address.UID)%(1+(w+round)%3) == 0 {
								batch = append(batch, m.Address)
							}
						}
						if len(batch) == 0 {
							continue
						}
						moved, err := e.Store.Move(e.ctx, batch, mailbox.In(dests[(w+round)%len(dests)]))
						if err != nil {
							errs <- fmt.Errorf("worker %d move: %w", w, err)
							return
						}
						for _, m := range moved {
							// Another worker may have moved the copy first.
							if m.Err != nil && !isNotFound(m.Err) {
								errs <- fmt.Errorf("worker %d move %s: %w", w, m.From, m.Err)
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			var want []string
			for i := range perUser {
				want = append(want, fmt.Sprintf("c%d", i))
			}
			want = sortedStrings(want)
			for _, owner := range owners {
				got := e.search(t, owner, e.all())
				assert.Equal(t, want, e.keys(got), "every message of %s exactly once", owner)
				for _, m := range got {
					_, err := e.Store.Fetch(e.ctx, m.Address)
					assert.NoError(t, err, "fetch %s", m.Address)
				}
			}
		}},
	}
}

// caseLenientHeaders: headers that a strict reader cannot read but the
// matching can (encoded words split inside a character, 8-bit text, an
// unknown charset, an address without its closing ">", a Date in ISO
// form) are found by a search: a backend that narrows on its server must
// not lose them.
func caseLenientHeaders(t *testing.T, e *env) {
	owner := e.Owners[0]
	since := time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC)
	body := "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHi\r\n"
	for _, tc := range []struct {
		name, head string
		c          func(id string) mailbox.Criteria
	}{
		{"split encoded words", "From: a@b.example\r\nSubject: =?utf-8?q?Rechnung_f=C3?= =?utf-8?q?=A4llig?=\r\n",
			func(id string) mailbox.Criteria { return mailbox.Criteria{Subject: "fällig " + id} }},
		{"8-bit subject", "From: a@b.example\r\nSubject: Rechnung f\xe4llig\r\n",
			func(id string) mailbox.Criteria { return mailbox.Criteria{Subject: "fällig " + id} }},
		{"unknown charset", "From: a@b.example\r\nSubject: =?x-unknown?b?SW52b2ljZQ==?=\r\n",
			func(id string) mailbox.Criteria { return mailbox.Criteria{Subject: "Invoice " + id} }},
		{"From without closing bracket", "From: Bob <bob@lenient.example\r\nSubject: s\r\n",
			func(string) mailbox.Criteria { return mailbox.Criteria{Senders: []string{"bob@lenient.example"}} }},
		{"From domain without closing bracket", "From: Bob <bob@lenient2.example\r\nSubject: s\r\n",
			func(string) mailbox.Criteria { return mailbox.Criteria{SenderDomains: []string{"lenient2.example"}} }},
		{"To without closing bracket", "From: a@b.example\r\nTo: Carol <carol@lenient.example\r\nSubject: s\r\n",
			func(string) mailbox.Criteria { return mailbox.Criteria{Recipients: []string{"carol@lenient.example"}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.id("lenient-" + strings.ReplaceAll(tc.name, " ", "-"))
			head := tc.head
			if strings.Contains(head, "Subject: s\r\n") {
				head = strings.Replace(head, "Subject: s\r\n", "Subject: s "+id+"\r\n", 1)
			} else {
				head = strings.Replace(head, "\r\n", " "+id+"\r\n", 2)
				head = strings.Replace(head, "From: a@b.example "+id, "From: a@b.example", 1)
			}
			raw := "Message-ID: <" + id + ">\r\nDate: Fri, 01 Mar 2024 09:00:00 +0000\r\n" + head + body
			a := e.seedRaw(t, owner, mailbox.In(mailbox.RoleInbox), []byte(raw))
			c := tc.c(id)
			c.And = []mailbox.Criteria{{MessageIDs: []string{id}}}
			got := e.search(t, owner, c)
			require.Len(t, got, 1, "%q", raw)
			assert.Equal(t, a, got[0].Address)
		})
	}
	t.Run("Date the server cannot read, with Since", func(t *testing.T) {
		id := e.id("lenient-isodate")
		raw := "Message-ID: <" + id + ">\r\nDate: 2024-03-01 09:00:00 +0000\r\nFrom: a@b.example\r\nSubject: isodate\r\n" + body
		e.seedRaw(t, owner, mailbox.In(mailbox.RoleInbox), []byte(raw))
		got := e.search(t, owner, mailbox.Criteria{MessageIDs: []string{id}, Since: since})
		require.Len(t, got, 1)
	})
}

// caseURLIdentity: a URL criterion matches a link by its identity
// (mailbox.NormalizeURL, the name clusters give it): a link a rewriter
// wrapped (Safe Links, Proofpoint) is found by the URL it wraps, and a
// criterion given as a wrapped link finds the bare link, whatever the
// case of scheme and host.
func caseURLIdentity(t *testing.T, e *env) {
	owner := e.Owners[0]
	const target = "https://pay.evil.example/inv/7?id=1"
	safeLinks := "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fpay.evil.example%2Finv%2F7%3Fid%3D1&data=05%7C01&reserved=0"
	proofpoint := "https://urldefense.proofpoint.com/v2/url?u=https-3A__pay.evil.example_inv_7-3Fid-3D1&d=DwMF&c=x&r=y&m=z&s=w&e="
	bodies := map[string]string{
		"safelinks":  "Content-Type: text/html; charset=utf-8\r\n\r\n<p><a href=\"" + safeLinks + "\">Pay now</a></p>\r\n",
		"proofpoint": "Content-Type: text/plain; charset=utf-8\r\n\r\nPay at " + proofpoint + " today.\r\n",
		"bare":       "Content-Type: text/plain; charset=utf-8\r\n\r\nPay at " + target + " today.\r\n",
	}
	addrs := map[string]mailbox.Address{}
	for _, k := range []string{"safelinks", "proofpoint", "bare"} {
		id := e.id("url-identity-" + k)
		raw := "Message-ID: <" + id + ">\r\nDate: Fri, 01 Mar 2024 09:00:00 +0000\r\nFrom: billing@pay.evil.example\r\n" +
			"To: " + owner + "\r\nSubject: Invoice " + id + "\r\nMIME-Version: 1.0\r\n" + bodies[k]
		addrs[k] = e.seedRaw(t, owner, mailbox.In(mailbox.RoleInbox), []byte(raw))
	}
	ids := []string{e.id("url-identity-safelinks"), e.id("url-identity-proofpoint"), e.id("url-identity-bare")}
	for _, tc := range []struct {
		name, url string
	}{
		{"the wrapped URL", target},
		{"scheme and host in capitals", "HTTPS://PAY.EVIL.EXAMPLE/inv/7?id=1"},
		{"a wrapped criterion", safeLinks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.search(t, owner, mailbox.Criteria{URLs: []string{tc.url}, And: []mailbox.Criteria{{MessageIDs: ids}}})
			var found []mailbox.Address
			for _, m := range got {
				found = append(found, m.Address)
			}
			assert.ElementsMatch(t, []mailbox.Address{addrs["safelinks"], addrs["proofpoint"], addrs["bare"]}, found)
		})
	}
	t.Run("another path is another URL", func(t *testing.T) {
		got := e.search(t, owner, mailbox.Criteria{URLs: []string{"https://pay.evil.example/inv/8?id=1"}, And: []mailbox.Criteria{{MessageIDs: ids}}})
		assert.Empty(t, got)
	})
}
