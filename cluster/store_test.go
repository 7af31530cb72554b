package cluster

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// fakeStore is a read-only mailbox.Store over raw messages, enough to
// test AddStore without a backend.
type fakeStore struct {
	owners  []string
	msgs    map[string][]storedMsg
	fetches int
	failUID uint32 // Fetch of this UID fails
}

type storedMsg struct {
	addr mailbox.Address
	raw  []byte
}

var _ mailbox.Store = (*fakeStore)(nil)

func (s *fakeStore) add(owner string, raw []byte) {
	if s.msgs == nil {
		s.msgs = map[string][]storedMsg{}
	}
	if !slices.Contains(s.owners, owner) {
		s.owners = append(s.owners, owner)
	}
	uid := uint32(len(s.msgs[owner]) + 1)
	s.msgs[owner] = append(s.msgs[owner], storedMsg{addr: mailbox.Address{Mailbox: owner, Folder: "INBOX", UIDValidity: 1, UID: uid}, raw: raw})
}

func (s *fakeStore) Mailboxes(ctx context.Context) ([]string, error) { return s.owners, ctx.Err() }

func (s *fakeStore) Search(ctx context.Context, owner string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	return func(yield func(mailbox.Message, error) bool) {
		if err := c.Validate(); err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		list, ok := s.msgs[owner]
		if !ok {
			yield(mailbox.Message{}, mailbox.ErrNoMailbox)
			return
		}
		for _, sm := range list {
			if err := ctx.Err(); err != nil {
				yield(mailbox.Message{}, err)
				return
			}
			p, _ := mailbox.Parse(sm.raw)
			m := p.Summary()
			m.Address = sm.addr
			ok, err := c.Match(&m, func() (*mailbox.Parsed, error) { return p, nil })
			if err != nil {
				yield(mailbox.Message{}, err)
				return
			}
			if ok && !yield(m, nil) {
				return
			}
		}
	}
}

func (s *fakeStore) Fetch(ctx context.Context, a mailbox.Address) ([]byte, error) {
	s.fetches++
	if a.UID == s.failUID {
		return nil, errors.New("fake: I/O error")
	}
	for _, sm := range s.msgs[a.Mailbox] {
		if sm.addr == a {
			return sm.raw, nil
		}
	}
	return nil, mailbox.ErrNotFound
}

func (s *fakeStore) Move(context.Context, []mailbox.Address, mailbox.Location) ([]mailbox.Moved, error) {
	return nil, mailbox.ErrUnsupported
}

func (s *fakeStore) Expunge(context.Context, []mailbox.Address) ([]error, error) {
	return nil, mailbox.ErrUnsupported
}

func (s *fakeStore) Append(context.Context, string, mailbox.Location, []byte, *mailbox.AppendOptions) (mailbox.Address, error) {
	return mailbox.Address{}, mailbox.ErrUnsupported
}

func rawMessage(id, from, to, subject, link string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nContent-Type: text/plain\r\n\r\nPlease visit %s today.\r\n", from, to, subject, id, link))
}

func TestAddStore(t *testing.T) {
	st := &fakeStore{}
	camp := rawMessage("camp@evil.example", "x@evil.example", "alice@corp.example, bob@corp.example", "Reset your password", "http://evil.example/reset")
	st.add("alice@corp.example", camp)
	st.add("bob@corp.example", camp) // a second copy of the same message
	st.add("bob@corp.example", rawMessage("camp2@evil2.example", "y@evil2.example", "bob@corp.example", "Password expiry", "http://evil.example/reset"))
	st.add("carol@corp.example", rawMessage("news@shop.example", "n@shop.example", "carol@corp.example", "Deals", "https://shop.example/"))

	x := New(&Options{Logger: testLogger(t)})
	n, err := x.AddStore(context.Background(), st, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, 3, st.fetches, "the second copy is not fetched")

	seed, err := SeedURL("http://evil.example/reset")
	require.NoError(t, err)
	c, err := x.ClusterOf(seed, KindURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"camp2@evil2.example", "camp@evil.example"}, ids(c))
	assert.Equal(t, 3, c.CopyCount())
	assert.ElementsMatch(t, []mailbox.Address{
		{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 1},
		{Mailbox: "bob@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 1},
		{Mailbox: "bob@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 2},
	}, c.Addresses())

	t.Run("criteria narrows the walk", func(t *testing.T) {
		x := New(nil)
		n, err := x.AddStore(context.Background(), st, &mailbox.Criteria{SenderDomains: []string{"shop.example"}})
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})

	t.Run("refused criteria", func(t *testing.T) {
		_, err := New(nil).AddStore(context.Background(), st, &mailbox.Criteria{Folders: []string{"INBOX"}})
		assert.ErrorIs(t, err, mailbox.ErrMatchesEverything)
	})

	t.Run("fetch failure is skipped", func(t *testing.T) {
		st2 := &fakeStore{failUID: 1}
		st2.add("alice@corp.example", camp)
		st2.add("alice@corp.example", rawMessage("other@x.example", "o@x.example", "alice@corp.example", "Hello there", "http://x.example/"))
		n, err := New(nil).AddStore(context.Background(), st2, nil)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := New(nil).AddStore(ctx, st, nil)
		assert.ErrorIs(t, err, context.Canceled)
	})
}
