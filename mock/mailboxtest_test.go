package mock_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/mailboxtest"
	"github.com/eradicate-dev/eradicate/mock"
)

func TestMailboxConformance(t *testing.T) {
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		tenant := mock.New(nil)
		users := []string{"alice@tenant.example", "bob@tenant.example", "carol@tenant.example"}
		for _, u := range users {
			require.NoError(t, tenant.AddUser(u))
		}
		return &mailboxtest.Harness{
			Store:  tenant,
			Owners: users,
			ChangeUIDValidity: func(t *testing.T, owner, folder string) {
				require.NoError(t, tenant.ResetUIDValidity(owner, folder))
			},
			CreateFolder: func(t *testing.T, owner, name string) {
				require.NoError(t, tenant.CreateFolder(owner, name))
			},
		}
	})
}

func TestMailboxConformanceWithoutHooks(t *testing.T) {
	// A backend without the optional hooks still passes: the cases that
	// need them skip. Seed goes through Deliver instead of Append here.
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		tenant := mock.New(nil)
		users := []string{"dave@tenant.example", "erin@tenant.example", "frank@tenant.example"}
		for _, u := range users {
			require.NoError(t, tenant.AddUser(u))
		}
		return &mailboxtest.Harness{
			Store:  tenant,
			Owners: users,
			Seed: func(ctx context.Context, owner string, loc mailbox.Location, raw []byte) (mailbox.Address, error) {
				if loc.Folder != "" {
					return tenant.Append(ctx, owner, loc, raw, nil)
				}
				got, err := tenant.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: []string{owner}, Role: loc.Role})
				if err != nil {
					return mailbox.Address{}, err
				}
				return got[0], nil
			},
			BatchSize: 50,
		}
	})
}
