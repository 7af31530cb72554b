package radicale

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// server binary into a test failure instead of a skip.
const RequireEnv = servertest.RequireEnv

// AdminUser is the user name of the generated admin user. It has read and
// write access to every collection.
const AdminUser = "eradicate-admin"

// Server is a running Radicale. Its fields must not be modified.
type Server struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:40123/".
	URL string
	// Addr is the listening address, host:port.
	Addr string
	// Users are the user names and passwords the server accepts, the admin
	// included.
	Users map[string]string
	// AdminPassword is the password of [AdminUser].
	AdminPassword string
	// Dir is the server's temporary folder (config, htpasswd, storage).
	Dir string

	cmd      *exec.Cmd
	stopOnce sync.Once
	done     chan struct{}
	stderr   *servertest.Buffer
}

// Start starts Radicale with the given users (name to plain password) plus
// [AdminUser], waits until it accepts connections, and registers
// [Server.Stop] with t.Cleanup. User names must not contain ':' or line
// breaks.
func Start(t testing.TB, users map[string]string) *Server {
	t.Helper()
	bin, err := exec.LookPath("radicale")
	if err != nil {
		msg := "radicale is not installed (apt-get install radicale); skipping the tests against a real CalDAV server"
		servertest.Missing(t, msg)
	}
	dir := t.TempDir()
	s := &Server{
		Users:         make(map[string]string, len(users)+1),
		AdminPassword: servertest.RandomHex(t, 16),
		Dir:           dir,
		done:          make(chan struct{}),
		stderr:        &servertest.Buffer{Max: 1 << 20},
	}
	for u, p := range users {
		if u == "" || strings.ContainsAny(u, ":\r\n") || strings.ContainsAny(p, "\r\n") {
			t.Fatalf("radicale: unusable user name %q", u)
		}
		s.Users[u] = p
	}
	s.Users[AdminUser] = s.AdminPassword

	names := make([]string, 0, len(s.Users))
	for u := range s.Users {
		names = append(names, u)
	}
	sort.Strings(names)
	var htpasswd strings.Builder
	for _, u := range names {
		fmt.Fprintf(&htpasswd, "%s:%s\n", u, s.Users[u])
	}
	servertest.WriteFile(t, filepath.Join(dir, "htpasswd"), htpasswd.String(), 0o600)
	servertest.WriteFile(t, filepath.Join(dir, "rights"), rights, 0o600)

	port := servertest.FreePort(t, "radicale")
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	s.URL = "http://" + s.Addr + "/"
	conf := fmt.Sprintf(config, s.Addr, filepath.Join(dir, "htpasswd"), filepath.Join(dir, "rights"), filepath.Join(dir, "collections"))
	servertest.WriteFile(t, filepath.Join(dir, "radicale.conf"), conf, 0o600)

	cmd := exec.Command(bin, "-C", filepath.Join(dir, "radicale.conf"))
	cmd.Dir = dir
	cmd.Stdout = s.stderr
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("radicale: start radicale: %v", err)
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.Stop)

	servertest.WaitReady(t, "radicale: radicale on "+s.Addr, s.done, func() bool { return servertest.Listening(s.Addr) }, s.stderr.String)
	return s
}

// Stop stops the server and waits for it to exit. It is safe to call more
// than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		servertest.Interrupt(s.cmd, s.done, 5*time.Second)
	})
}

// Log returns what the server wrote to its standard output and error
// (warnings and errors only).
func (s *Server) Log() string { return s.stderr.String() }

// HomeURL returns the URL of a user's principal and calendar home set.
func (s *Server) HomeURL(user string) string {
	return s.URL + user + "/"
}

const config = `[server]
hosts = %s
max_connections = 64
timeout = 60

[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
delay = 0

[rights]
type = from_file
file = %s

[storage]
filesystem_folder = %s

[web]
type = none

[logging]
level = warning
mask_passwords = True
`

// rights: the admin may do anything; every user may read the root, and
// read and write their principal collection and their calendars.
const rights = `[admin]
user: ` + AdminUser + `
collection: .*
permissions: RrWw

[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RrWw

[calendars]
user: .+
collection: {user}/[^/]+
permissions: rw
`
