package imapstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// renumberOnce is an IMAP store that gives a folder a new UIDVALIDITY
// (doveadm) just before the first Move or Expunge, so that the engine's
// selected addresses are stale when it acts on them.
type renumberOnce struct {
	mailbox.Store
	renumber func()
	once     sync.Once
}

func (s *renumberOnce) Move(ctx context.Context, addrs []mailbox.Address, to mailbox.Location) ([]mailbox.Moved, error) {
	s.once.Do(s.renumber)
	return s.Store.Move(ctx, addrs, to)
}

func (s *renumberOnce) Expunge(ctx context.Context, addrs []mailbox.Address) ([]error, error) {
	s.once.Do(s.renumber)
	return s.Store.Expunge(ctx, addrs)
}

// TestEngineActsOnMessageOfRenumberedFolder: on a real Dovecot, a folder
// renumbered between the engine's selection and its action makes the
// store report the stale UIDVALIDITY; the engine finds the message again
// by its Message-ID in that folder and acts on it instead of reporting it
// not found and completing with the phish still in the inbox.
func TestEngineActsOnMessageOfRenumberedFolder(t *testing.T) {
	d := startDovecot(t, nil)
	ctx := context.Background()
	for _, a := range []remediation.Action{remediation.SoftDelete, remediation.HardDelete} {
		t.Run(string(a), func(t *testing.T) {
			owner := d.newUsers(t, 1)[0]
			var st mailbox.Store = d.store(t, []string{owner}, nil)
			for _, raw := range [][]byte{rawMessage(benignID, "lead@corp.example", owner, "Standup notes"), phishRaw(owner)} {
				_, err := st.Append(ctx, owner, mailbox.In(mailbox.RoleInbox), raw, nil)
				require.NoError(t, err)
			}
			rs := &renumberOnce{Store: st, renumber: func() { d.changeUIDValidity(t, owner, "INBOX") }}
			e, err := remediation.New(rs, nil, journal.NewMemory(), nil)
			require.NoError(t, err)
			r, err := e.Execute(ctx, remediation.Request{Action: a, Actor: "soc",
				Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{phishID}}}})
			require.NoError(t, err)
			assert.Equal(t, remediation.StatusCompleted, r.Status, r.Error)
			assert.Equal(t, remediation.Counts{Succeeded: 1}, r.Counts)
			var left []string
			for m, err := range st.Search(ctx, owner, mailbox.Criteria{MessageIDs: []string{phishID, benignID}}) {
				require.NoError(t, err)
				left = append(left, m.MessageID+" "+string(m.Role))
			}
			want := []string{benignID + " " + string(mailbox.RoleInbox)}
			if a == remediation.SoftDelete {
				want = append(want, phishID+" "+string(mailbox.RoleRecoverable))
			}
			assert.ElementsMatch(t, want, left)
		})
	}
}
