package imapstore_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/mailbox/mailboxtest"
)

// TestConformanceMemServer runs the conformance suite against go-imap's
// in-process server, a fresh one per case. The server has no SPECIAL-USE,
// so roles resolve through the fallback names.
func TestConformanceMemServer(t *testing.T) {
	var n atomic.Int64
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		t.Parallel()
		i := n.Add(1)
		owners := []string{fmt.Sprintf("alice%d@example.com", i), fmt.Sprintf("bob%d@example.com", i), fmt.Sprintf("carol%d@example.com", i)}
		srv := startMem(t, fullCaps(), owners...)
		store := srv.store(t, owners, nil)
		return &mailboxtest.Harness{
			Store:  store,
			Owners: owners,
			ChangeUIDValidity: func(t *testing.T, owner, folder string) {
				recreateFolder(t, client(t, srv.Addr, owner, srv.Passwords[owner]), folder)
			},
			CreateFolder: func(t *testing.T, owner, name string) {
				require.NoError(t, client(t, srv.Addr, owner, srv.Passwords[owner]).Create(name, nil).Wait())
			},
		}
	})
}

// TestConformanceMemServerCredentials runs the suite with per-user
// credentials instead of a master user.
func TestConformanceMemServerCredentials(t *testing.T) {
	var n atomic.Int64
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		t.Parallel()
		i := n.Add(1)
		owners := []string{fmt.Sprintf("dave%d@example.com", i), fmt.Sprintf("erin%d@example.com", i), fmt.Sprintf("frank%d@example.com", i)}
		srv := startMem(t, fullCaps(), owners...)
		creds := imapstore.StaticCredentials{}
		for _, o := range owners {
			creds[o] = imapstore.Credential{Username: o, Password: imapstore.Password(srv.Passwords[o])}
		}
		store := srv.store(t, owners, func(c *imapstore.Config) {
			c.Master = nil
			c.Credentials = creds
		})
		return &mailboxtest.Harness{
			Store:  store,
			Owners: owners,
			ChangeUIDValidity: func(t *testing.T, owner, folder string) {
				recreateFolder(t, client(t, srv.Addr, owner, srv.Passwords[owner]), folder)
			},
			CreateFolder: func(t *testing.T, owner, name string) {
				require.NoError(t, client(t, srv.Addr, owner, srv.Passwords[owner]).Create(name, nil).Wait())
			},
		}
	})
}

// TestConformanceDovecot runs the suite against a real Dovecot: one server,
// fresh users for every case, the master user, SPECIAL-USE folders.
func TestConformanceDovecot(t *testing.T) {
	d := startDovecot(t, nil)
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		owners := d.newUsers(t, 3)
		store := d.store(t, owners, nil)
		return &mailboxtest.Harness{
			Store:             store,
			Owners:            owners,
			ChangeUIDValidity: d.changeUIDValidity,
			CreateFolder:      d.createFolder,
			BatchSize:         300,
		}
	})
}

// changeUIDValidity gives a folder a new UIDVALIDITY with doveadm; the
// messages stay.
func (d *dovecotEnv) changeUIDValidity(t *testing.T, owner, folder string) {
	out := d.doveadm(t, "-f", "flow", "mailbox", "status", "-u", owner, "uidvalidity", folder)
	var old uint64
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "uidvalidity="); ok {
			var err error
			old, err = strconv.ParseUint(v, 10, 32)
			require.NoError(t, err)
		}
	}
	require.NotZero(t, old, "doveadm said %q", out)
	d.doveadm(t, "mailbox", "update", "-u", owner, "--uid-validity", fmt.Sprint(old+1000), folder)
}

// createFolder creates an ordinary folder in a separate session.
func (d *dovecotEnv) createFolder(t *testing.T, owner, name string) {
	require.NoError(t, d.masterClient(t, owner).Create(name, nil).Wait())
}

// TestConformanceDovecotNoSpecialUse runs the suite against a Dovecot whose
// folders have no SPECIAL-USE attributes: roles come from fallback names.
func TestConformanceDovecotNoSpecialUse(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the SPECIAL-USE-less Dovecot run is skipped")
	}
	d := startDovecot(t, &dovecot.Options{NoSpecialUse: true})
	mailboxtest.Run(t, func(t *testing.T) *mailboxtest.Harness {
		owners := d.newUsers(t, 3)
		return &mailboxtest.Harness{Store: d.store(t, owners, nil), Owners: owners, BatchSize: 50,
			ChangeUIDValidity: d.changeUIDValidity, CreateFolder: d.createFolder}
	})
}
