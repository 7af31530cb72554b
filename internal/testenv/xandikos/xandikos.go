package xandikos

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// server binary into a test failure instead of a skip.
const RequireEnv = servertest.RequireEnv

// Principal is the path of the one user's principal.
const Principal = "/user/"

// Server is a running Xandikos. Its fields must not be modified.
type Server struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:40123/".
	URL string
	// Addr is the listening address, host:port.
	Addr string
	// Dir is the folder the server serves, removed by t.Cleanup.
	Dir string

	run *servertest.Run // the current run; nil before the first start
	out *servertest.Buffer
}

// Start starts Xandikos, with the default calendar and address book of
// its one user, waits until it accepts connections, and registers
// [Server.Stop] with t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("xandikos")
	if err != nil {
		servertest.Missing(t, "xandikos is not installed (apt-get install xandikos); skipping the tests against Xandikos")
	}
	s := &Server{Dir: t.TempDir(), out: &servertest.Buffer{Max: 1 << 20}}
	lastErr := servertest.StartAttempts(func() error {
		port := servertest.FreePort(t, "xandikos")
		s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		s.URL = "http://" + s.Addr + "/"
		return s.start(bin, port)
	}, s.Stop)
	if lastErr != nil {
		t.Fatalf("xandikos: %v\n%s", lastErr, s.Log())
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(bin string, port int) error {
	cmd := exec.Command(bin, "--defaults", "-d", filepath.Join(s.Dir, "data"),
		"-l", "127.0.0.1", "-p", fmt.Sprint(port), "--current-user-principal", Principal)
	cmd.Dir = s.Dir
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	run, err := servertest.Launch(cmd)
	if err != nil {
		return fmt.Errorf("start xandikos: %w", err)
	}
	s.run = run
	return servertest.PollReady(run.Exited(), "xandikos on "+s.Addr, func() bool { return servertest.Listening(s.Addr) })
}

// Stop stops the server and waits for it to exit. It is safe to call more
// than once.
func (s *Server) Stop() {
	s.run.Interrupt(5 * time.Second)
}

// Log returns what the server wrote to its standard output and error.
func (s *Server) Log() string { return s.out.String() }
