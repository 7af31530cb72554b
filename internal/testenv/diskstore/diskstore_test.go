package diskstore_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/diskstore"
	"github.com/eradicate-dev/eradicate/mailbox/mailboxtest"
)

func TestConformance(t *testing.T) {
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		st, err := diskstore.Open(t.TempDir())
		require.NoError(t, err)
		users := make([]string, 3)
		for i := range users {
			users[i] = fmt.Sprintf("user%d@disk.example", i)
			require.NoError(t, st.AddUser(users[i]))
		}
		return &mailboxtest.Harness{
			Store:  st,
			Owners: users,
			ChangeUIDValidity: func(t *testing.T, owner, folder string) {
				require.NoError(t, st.ChangeUIDValidity(owner, folder))
			},
			CreateFolder: func(t *testing.T, owner, name string) {
				require.NoError(t, st.CreateFolder(owner, name))
			},
			Concurrency: 4,
			BatchSize:   200,
		}
	})
}
