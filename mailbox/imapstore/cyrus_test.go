package imapstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/cyrus"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/mailbox/mailboxtest"
)

// cyrusEnv is a Cyrus shared by the cases of a test, handing out fresh
// users.
type cyrusEnv struct {
	srv *cyrus.Server
	n   atomic.Int64
}

func startCyrus(t testing.TB) *cyrusEnv {
	t.Helper()
	return &cyrusEnv{srv: cyrus.Start(t, &cyrus.Options{Users: map[string]string{}})}
}

// newUsers returns n users with fresh, empty mailboxes.
func (c *cyrusEnv) newUsers(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		name := fmt.Sprintf("c%04d@example.test", c.n.Add(1))
		require.NoError(t, c.srv.AddUser(context.Background(), name, "pw-"+name))
		out = append(out, name)
	}
	return out
}

// store returns a store on the Cyrus with the admin, acting in the other
// users' namespace.
func (c *cyrusEnv) store(t testing.TB, owners []string, mod func(*imapstore.Config)) *imapstore.Store {
	t.Helper()
	admin := &imapstore.MasterUser{User: c.srv.AdminUser, Password: imapstore.Password(c.srv.AdminPassword), Admin: true}
	return testStore(t, c.srv.Addr, admin, owners, mod)
}

// createFolder creates an ordinary folder as the owner.
func (c *cyrusEnv) createFolder(t *testing.T, owner, name string) {
	require.NoError(t, c.srv.Dial(t, owner, c.srv.Users[owner]).Create(name, nil).Wait())
}

// changeUIDValidity gives the owner's folder a new UIDVALIDITY, its
// messages kept with their UIDs (cyrus.Server.ChangeUIDValidity).
func (c *cyrusEnv) changeUIDValidity(t *testing.T, owner, folder string) {
	t.Helper()
	require.NoError(t, c.srv.ChangeUIDValidity(t.Context(), owner, folder))
}

// TestConformanceCyrus runs the suite against a real Cyrus IMAP with its
// admin acting in the other users' namespace: one server, fresh users
// for every case, the admin-only folders hidden from the users by ACLs.
func TestConformanceCyrus(t *testing.T) {
	c := startCyrus(t)
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		owners := c.newUsers(t, 3)
		return &mailboxtest.Harness{
			Store:             c.store(t, owners, nil),
			Owners:            owners,
			CreateFolder:      c.createFolder,
			BatchSize:         300,
			ChangeUIDValidity: c.changeUIDValidity,
		}
	})
}

// TestConformanceCyrusProxy runs the suite with proxy logins (SASL PLAIN,
// the admin authenticating, the owner as authorization identity). Such a
// session has the owner's rights only, so the admin-only folders must be
// visible to the owner: the store creates them.
func TestConformanceCyrusProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the proxy-login Cyrus run is skipped")
	}
	c := startCyrus(t)
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		owners := c.newUsers(t, 3)
		a := c.srv.Dial(t, c.srv.AdminUser, c.srv.AdminPassword)
		for _, o := range owners {
			for _, f := range []string{cyrus.QuarantineFolder, cyrus.RecoverableFolder, cyrus.EvidenceFolder} {
				require.NoError(t, a.Delete(c.srv.AdminFolder(o, f)).Wait())
			}
		}
		return &mailboxtest.Harness{
			Store: c.store(t, owners, func(cfg *imapstore.Config) {
				cfg.Master.Admin = false
				cfg.Master.SASL = true
				cfg.CreateAdminFolders = true
			}),
			Owners:            owners,
			CreateFolder:      c.createFolder,
			BatchSize:         100,
			ChangeUIDValidity: c.changeUIDValidity,
		}
	})
}

// TestCyrusAdminFoldersHidden checks what an admin login gives on Cyrus:
// the store reaches the admin-only folders, which the owner cannot see
// or open; a folder the store creates for a role is hidden the same way;
// a proxy login, having the owner's rights, does not find them.
func TestCyrusAdminFoldersHidden(t *testing.T) {
	c := startCyrus(t)
	owners := c.newUsers(t, 1)
	owner := owners[0]
	ctx := context.Background()
	s := c.store(t, owners, func(cfg *imapstore.Config) { cfg.CreateAdminFolders = true })

	a, err := s.Append(ctx, owner, mailbox.In(mailbox.RoleInbox), rawMessage("hidden-1@example.test", "x@evil.example", owner, "hello"), nil)
	require.NoError(t, err)
	moved, err := s.Move(ctx, []mailbox.Address{a}, mailbox.In(mailbox.RoleQuarantine))
	require.NoError(t, err)
	require.NoError(t, moved[0].Err)
	assert.Equal(t, cyrus.QuarantineFolder, moved[0].To.Folder, "addresses name folders as the owner sees them")

	// A folder the store creates: delete Evidence, then move there.
	adm := c.srv.Dial(t, c.srv.AdminUser, c.srv.AdminPassword)
	require.NoError(t, adm.Delete(c.srv.AdminFolder(owner, cyrus.EvidenceFolder)).Wait())
	s2 := c.store(t, owners, func(cfg *imapstore.Config) { cfg.CreateAdminFolders = true })
	moved, err = s2.Move(ctx, []mailbox.Address{moved[0].To}, mailbox.In(mailbox.RoleEvidence))
	require.NoError(t, err)
	require.NoError(t, moved[0].Err)

	user := c.srv.Dial(t, owner, c.srv.Users[owner])
	list, err := user.List("", "*", nil).Collect()
	require.NoError(t, err)
	for _, l := range list {
		assert.NotContains(t, []string{cyrus.QuarantineFolder, cyrus.RecoverableFolder, cyrus.EvidenceFolder}, l.Mailbox, "the owner sees an admin-only folder")
	}
	for _, f := range []string{cyrus.QuarantineFolder, cyrus.EvidenceFolder} {
		_, err := user.Select(f, nil).Wait()
		require.Error(t, err, "the owner opened %s", f)
	}
	got, err := s2.Fetch(ctx, moved[0].To)
	require.NoError(t, err)
	require.Contains(t, string(got), "hidden-1@example.test")

	// A search of every folder finds it there, under the owner's name.
	var folders []string
	for m, err := range s2.Search(ctx, owner, mailbox.Criteria{MessageIDs: []string{"hidden-1@example.test"}}) {
		require.NoError(t, err)
		folders = append(folders, m.Address.Folder)
	}
	assert.Equal(t, []string{cyrus.EvidenceFolder}, folders)

	// A proxy login has the owner's rights: no admin-only folder.
	proxy := c.store(t, owners, func(cfg *imapstore.Config) { cfg.Master.Admin, cfg.Master.SASL = false, true })
	back, err := proxy.Move(ctx, []mailbox.Address{moved[0].To}, mailbox.In(mailbox.RoleInbox))
	require.NoError(t, err)
	require.ErrorIs(t, back[0].Err, mailbox.ErrNotFound, "a proxy login reached a hidden folder")
}

// TestCyrusMunge8bit shows why Cyrus needs munge8bit: no. With Cyrus's
// default, 8-bit characters in the header of an appended message come
// back as "X": a message the store appends (a release, a restore) is not
// the original, and the conformance case Search/LenientHeaders/8-bit
// subject fails. With munge8bit: no (the default of internal/testenv/cyrus) the message is
// kept byte for byte.
func TestCyrusMunge8bit(t *testing.T) {
	raw := []byte("Message-ID: <munge@example.test>\r\nFrom: a@b.example\r\nSubject: Rechnung f\xe4llig\r\n\r\nHi\r\n")
	for _, munge := range []bool{true, false} {
		t.Run(fmt.Sprintf("munge8bit=%t", munge), func(t *testing.T) {
			c := &cyrusEnv{srv: cyrus.Start(t, &cyrus.Options{Users: map[string]string{}, Munge8bit: munge})}
			owners := c.newUsers(t, 1)
			s := c.store(t, owners, nil)
			a, err := s.Append(context.Background(), owners[0], mailbox.In(mailbox.RoleInbox), raw, nil)
			require.NoError(t, err)
			got, err := s.Fetch(context.Background(), a)
			require.NoError(t, err)
			if munge {
				assert.Contains(t, string(got), "Subject: Rechnung fXllig\r\n")
			} else {
				assert.Equal(t, string(raw), string(got))
			}
		})
	}
}
