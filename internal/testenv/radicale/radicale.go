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
	rights, err := servertest.Sample(SampleRights)
	if err == nil && !strings.Contains(rights, "user: "+AdminUser+"\n") {
		err = fmt.Errorf("%s no longer names the admin user %s", SampleRights, AdminUser)
	}
	if err != nil {
		t.Fatalf("radicale: %v", err)
	}
	servertest.WriteFile(t, filepath.Join(dir, "rights"), rights, 0o600)

	port := servertest.FreePort(t, "radicale")
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	s.URL = "http://" + s.Addr + "/"
	conf, err := servertest.Sample(SampleConfig,
		"hosts = 127.0.0.1:5232", "hosts = "+s.Addr,
		"htpasswd_filename = /etc/radicale/users", "htpasswd_filename = "+filepath.Join(dir, "htpasswd"),
		"htpasswd_encryption = bcrypt", "htpasswd_encryption = plain",
		"delay = 1", "delay = 0",
		"file = /etc/radicale/rights", "file = "+filepath.Join(dir, "rights"),
		"filesystem_folder = /var/lib/radicale/collections", "filesystem_folder = "+filepath.Join(dir, "collections"))
	if err != nil {
		t.Fatalf("radicale: %v", err)
	}
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

// The sample configuration operators are given, relative to the module's
// root: every server runs with it.
const (
	SampleConfig = "docs/radicale/config"
	SampleRights = "docs/radicale/rights"
)
