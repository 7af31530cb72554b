package imapstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// fullCaps are the capabilities of the in-process server in the
// conformance tests: IMAP4rev1 with MOVE and UIDPLUS (not IMAP4rev2, which
// implies both, so that tests can take them away).
func fullCaps() imap.CapSet {
	return imap.CapSet{
		imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}, imap.CapNamespace: {},
		imap.CapListExtended: {}, imap.CapESearch: {}, imap.CapLiteralPlus: {},
	}
}

// memFolders are the folders every in-process mailbox gets. The server has
// no SPECIAL-USE attributes, so the store finds roles by name.
var memFolders = []string{"INBOX", "Drafts", "Sent", "Junk", "Trash", "Quarantine", "Recoverable Items", "Evidence"}

const (
	memMaster         = "eradicate-admin"
	memMasterPassword = "master-secret-7f3a"
)

// memServer is go-imap's in-memory server on a loopback port, with a
// session that understands master logins ("user*eradicate-admin") and can
// be slowed down.
type memServer struct {
	Addr      string
	Passwords map[string]string

	mu    sync.Mutex
	users map[string]*imapmemserver.User
	// delay is added to every SEARCH and FETCH, in nanoseconds.
	delay atomic.Int64
	// removeMu serialises MOVE and EXPUNGE: imapmemserver answers a MOVE
	// that finds none of its UIDs with an unencodable empty COPYUID, so
	// the session checks for the UIDs first, under this lock.
	removeMu sync.Mutex
}

func startMem(t testing.TB, caps imap.CapSet, owners ...string) *memServer {
	t.Helper()
	m := &memServer{Passwords: map[string]string{}, users: map[string]*imapmemserver.User{}}
	for _, o := range owners {
		m.addUser(t, o)
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &memSession{srv: m}, nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       testlog.New(t),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

func (m *memServer) addUser(t testing.TB, owner string) {
	t.Helper()
	pw := "pw-" + owner
	u := imapmemserver.NewUser(owner, pw)
	for _, f := range memFolders {
		require.NoError(t, u.Create(f, nil))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users[owner] = u
	m.Passwords[owner] = pw
}

func (m *memServer) user(name string) *imapmemserver.User {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.users[name]
}

type memSession struct {
	*imapmemserver.UserSession
	srv *memServer
}

func (s *memSession) Login(username, password string) error {
	if owner, master, ok := strings.Cut(username, "*"); ok {
		if master != memMaster || password != memMasterPassword {
			return imapserver.ErrAuthFailed
		}
		u := s.srv.user(owner)
		if u == nil {
			return imapserver.ErrAuthFailed
		}
		s.UserSession = imapmemserver.NewUserSession(u)
		return nil
	}
	u := s.srv.user(username)
	if u == nil {
		return imapserver.ErrAuthFailed
	}
	if err := u.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

func (s *memSession) Close() error {
	if s.UserSession == nil {
		return nil
	}
	return s.UserSession.Close()
}

func (s *memSession) Search(kind imapserver.NumKind, c *imap.SearchCriteria, o *imap.SearchOptions) (*imap.SearchData, error) {
	time.Sleep(time.Duration(s.srv.delay.Load()))
	return s.UserSession.Search(kind, c, o)
}

func (s *memSession) Fetch(w *imapserver.FetchWriter, set imap.NumSet, o *imap.FetchOptions) error {
	time.Sleep(time.Duration(s.srv.delay.Load()))
	return s.UserSession.Fetch(w, set, o)
}

func (s *memSession) Move(w *imapserver.MoveWriter, set imap.NumSet, dest string) error {
	s.srv.removeMu.Lock()
	defer s.srv.removeMu.Unlock()
	crit := &imap.SearchCriteria{}
	switch set := set.(type) {
	case imap.UIDSet:
		crit.UID = []imap.UIDSet{set}
	case imap.SeqSet:
		crit.SeqNum = []imap.SeqSet{set}
	}
	data, err := s.UserSession.Search(imapserver.NumKindUID, crit, &imap.SearchOptions{})
	if err != nil {
		return err
	}
	if data.Count == 0 {
		return nil
	}
	return s.UserSession.Move(w, set, dest)
}

func (s *memSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	s.srv.removeMu.Lock()
	defer s.srv.removeMu.Unlock()
	return s.UserSession.Expunge(w, uids)
}

// store returns a store on the server with the master user.
func (m *memServer) store(t testing.TB, owners []string, mod func(*imapstore.Config)) *imapstore.Store {
	t.Helper()
	cfg := imapstore.Config{
		Addr:      m.Addr,
		Security:  imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: memMaster, Password: memMasterPassword},
		Mailboxes: owners,
		Logger:    testlog.Logger(t, slog.LevelWarn),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := imapstore.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client logs in to addr as login with a plain imapclient, independent of
// the store.
func client(t testing.TB, addr, login, password string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Login(login, password).Wait())
	return c
}

// recreateFolder gives a folder a new UIDVALIDITY on a server without an
// admin command for it: rename it away, create it again, copy the
// messages back and delete the old one.
func recreateFolder(t testing.TB, c *imapclient.Client, folder string) {
	t.Helper()
	tmp := folder + "-old"
	require.NoError(t, c.Rename(folder, tmp, nil).Wait())
	// RENAME of INBOX leaves an empty INBOX on most servers (RFC 9051
	// section 6.3.6), not on every one.
	if err := c.Create(folder, nil).Wait(); err != nil {
		var ie *imap.Error
		require.ErrorAs(t, err, &ie)
		require.Equal(t, imap.ResponseCodeAlreadyExists, ie.Code, "create %s: %v", folder, err)
	}
	sel, err := c.Select(tmp, nil).Wait()
	require.NoError(t, err)
	if sel.NumMessages > 0 {
		_, err = c.Copy(seqAll(), folder).Wait()
		require.NoError(t, err)
	}
	require.NoError(t, c.Unselect().Wait())
	require.NoError(t, c.Delete(tmp).Wait())
}

func seqAll() imap.SeqSet { return imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}} }

// dovecotEnv is a Dovecot shared by the cases of a test, handing out
// fresh users.
type dovecotEnv struct {
	srv   *dovecot.Server
	n     atomic.Int64
	ready int64 // users u0001 to u<ready> exist from the start
}

// dovecotUsers is the number of users a shared Dovecot starts with.
const dovecotUsers = 400

func startDovecot(t testing.TB, opts *dovecot.Options) *dovecotEnv {
	t.Helper()
	if opts == nil {
		opts = &dovecot.Options{}
	}
	if opts.Users == nil {
		opts.Users = map[string]string{}
		for i := 1; i <= dovecotUsers; i++ {
			name := userName(i)
			opts.Users[name] = "pw-" + name
		}
	}
	return &dovecotEnv{srv: dovecot.Start(t, opts), ready: int64(len(opts.Users))}
}

func userName(i int) string { return fmt.Sprintf("u%04d@example.test", i) }

// newUsers returns n users with fresh, empty mailboxes.
func (d *dovecotEnv) newUsers(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		i := d.n.Add(1)
		name := userName(int(i))
		if i > d.ready {
			require.NoError(t, d.srv.AddUser(context.Background(), name, "pw-"+name))
		}
		out = append(out, name)
	}
	return out
}

// store returns a store on the Dovecot with the master user.
func (d *dovecotEnv) store(t testing.TB, owners []string, mod func(*imapstore.Config)) *imapstore.Store {
	t.Helper()
	master := &imapstore.MasterUser{User: d.srv.MasterUser, Password: imapstore.Password(d.srv.MasterPassword)}
	return testStore(t, d.srv.Addr, master, owners, mod)
}

// testStore returns a store on the server at addr (plaintext) with the
// master user's logins, for owners, logging warnings to t; mod, if not
// nil, changes the configuration first. The store is closed when t ends.
func testStore(t testing.TB, addr string, master *imapstore.MasterUser, owners []string, mod func(*imapstore.Config)) *imapstore.Store {
	t.Helper()
	cfg := imapstore.Config{
		Addr:      addr,
		Security:  imapstore.SecurityInsecure,
		Master:    master,
		Mailboxes: owners,
		Logger:    testlog.Logger(t, slog.LevelWarn),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := imapstore.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// masterClient logs in as owner with the master user.
func (d *dovecotEnv) masterClient(t testing.TB, owner string) *imapclient.Client {
	t.Helper()
	return client(t, d.srv.Addr, d.srv.MasterLogin(owner), d.srv.MasterPassword)
}

func (d *dovecotEnv) doveadm(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.srv.Doveadm(context.Background(), args...)
	require.NoError(t, err)
	return string(out)
}

// rawMessage builds a small message.
func rawMessage(id, from, to, subject string) []byte {
	return []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nDate: Fri, 01 Mar 2024 09:00:00 +0000\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n")
}

// collect gathers a search that must succeed.
func collect(t testing.TB, s mailbox.Store, owner string, c mailbox.Criteria) []mailbox.Message {
	t.Helper()
	var out []mailbox.Message
	for m, err := range s.Search(context.Background(), owner, c) {
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}
