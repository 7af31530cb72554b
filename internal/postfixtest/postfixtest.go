// Package postfixtest starts a real Postfix for tests: the mail transfer
// agent in front of the delivery tap.
//
// [Start] runs Postfix's master daemon in the foreground (master -d) with
// its own configuration folder, queue and log in a temporary folder: SMTP
// on a free loopback port, no DNS, no local delivery, chroot off, and
// retry timers of a second or two so that tests of a mail server going
// away see the queue retried quickly. The caller's settings
// ([Options.MainCF], for example a site's sample configuration) are
// appended to the generated main.cf and take precedence over it. The
// server stops when the test ends.
//
// Postfix's master runs as root and its daemons as the "postfix" user
// (Debian's package creates it); that is the only way Postfix runs. When
// the test does not run as root, or Postfix is not installed, the test
// is skipped, unless ERADICATE_REQUIRE_SERVERS is "1", which turns the
// skip into a failure (CI runs as root and sets it).
package postfixtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/internal/servertest"
)

// Options configure [Start]. A nil *Options is the same as a zero value.
type Options struct {
	// MainCF are main.cf lines appended to the generated ones; a later
	// setting overrides an earlier one. The transport to the tap or the
	// mail server goes here (virtual_transport, virtual_mailbox_domains).
	MainCF string
}

// Server is a running Postfix. Its fields must not be modified.
type Server struct {
	// Addr is the SMTP listening address, host:port.
	Addr string
	// Dir is the temporary folder; ConfigDir holds main.cf and master.cf.
	Dir, ConfigDir string

	daemonDir string
	cmd       *exec.Cmd
	stopOnce  sync.Once
	done      chan struct{}
	out       *servertest.Buffer
}

// Start starts Postfix, waits until it greets SMTP clients, and
// registers [Server.Stop] with t.Cleanup.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	postconf, err := exec.LookPath("postconf")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/postconf"); serr == nil {
			postconf = "/usr/sbin/postconf"
		} else {
			servertest.Missing(t, "postfix is not installed (apt-get install postfix); skipping the tests with a real MTA")
		}
	}
	if os.Geteuid() != 0 {
		servertest.Missing(t, "postfix runs only when started as root; skipping the tests with a real MTA")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		servertest.Missing(t, "no postfix user (apt-get install postfix creates it); skipping the tests with a real MTA")
	}
	out, err := exec.Command(postconf, "-h", "daemon_directory").Output()
	if err != nil {
		t.Fatalf("postfixtest: postconf: %v", err)
	}
	s := &Server{daemonDir: strings.TrimSpace(string(out)), done: make(chan struct{}), out: &servertest.Buffer{Max: 1 << 20}}
	s.Dir = t.TempDir()
	s.ConfigDir = filepath.Join(s.Dir, "conf")
	for _, d := range []string{s.ConfigDir, filepath.Join(s.Dir, "queue"), filepath.Join(s.Dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("postfixtest: %v", err)
		}
	}
	// The postfix user must reach the queue under the test's folder.
	for _, d := range []string{filepath.Dir(s.Dir), s.Dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatalf("postfixtest: %v", err)
		}
	}
	pf, _ := user.Lookup("postfix")
	var uid, gid int
	fmt.Sscan(pf.Uid, &uid)
	fmt.Sscan(pf.Gid, &gid)
	if err := os.Chown(filepath.Join(s.Dir, "data"), uid, gid); err != nil {
		t.Fatalf("postfixtest: %v", err)
	}

	port := servertest.FreePort(t, "postfixtest")
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	servertest.WriteFile(t, filepath.Join(s.ConfigDir, "master.cf"), fmt.Sprintf(masterCF, s.Addr), 0o644)
	servertest.WriteFile(t, filepath.Join(s.ConfigDir, "main.cf"), s.mainCF()+"\n# Settings of the test:\n"+opts.MainCF+"\n", 0o644)
	// postfix check creates the queue's subfolders with their owners.
	if out, err := exec.Command("postfix", "-c", s.ConfigDir, "check").CombinedOutput(); err != nil {
		t.Fatalf("postfixtest: postfix check: %v: %s", err, out)
	}

	cmd := exec.Command(filepath.Join(s.daemonDir, "master"), "-c", s.ConfigDir, "-d")
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = s.out, s.out
	// Its own process group: master signals its group when it stops.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("postfixtest: start master: %v", err)
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for !greets(s.Addr) {
		select {
		case <-s.done:
			t.Fatalf("postfixtest: postfix exited before listening on %s: %s\n%s", s.Addr, s.out.String(), s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfixtest: postfix did not greet on %s within 30s: %s", s.Addr, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

func (s *Server) mainCF() string {
	return fmt.Sprintf(`# Generated by postfixtest for one test run.
compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.postfixtest.invalid
mydomain = postfixtest.invalid
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
biff = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
# Retry deferred mail within seconds, not minutes.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`, s.Dir)
}

// masterCF runs every service without chroot; the SMTP listener is on
// the test's address.
const masterCF = `%s inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

func greets(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4)
	n, _ := conn.Read(buf)
	return n == 4 && string(buf) == "220 "
}

// Send submits raw over SMTP from from to rcpts; Postfix queues it.
func (s *Server) Send(from string, rcpts []string, raw []byte) error {
	return smtp.SendMail(s.Addr, nil, from, rcpts, raw)
}

// QueueLen returns the number of messages in Postfix's queue (all of
// its queues: incoming, active, deferred, hold).
func (s *Server) QueueLen(ctx context.Context) (int, error) {
	cmd := exec.CommandContext(ctx, "postqueue", "-c", s.ConfigDir, "-j")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("postqueue -j: %w: %s", err, stderr.String())
	}
	n := 0
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			return 0, fmt.Errorf("postqueue -j: %w", err)
		}
		n++
	}
	return n, nil
}

// Flush asks Postfix to retry its deferred mail now (postqueue -f).
func (s *Server) Flush(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "postqueue", "-c", s.ConfigDir, "-f").CombinedOutput()
	if err != nil {
		return fmt.Errorf("postqueue -f: %w: %s", err, out)
	}
	return nil
}

// Log returns Postfix's mail log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "maillog"))
	return string(b)
}

// Stop stops Postfix (SIGTERM to master, which stops its daemons) and
// waits for it to exit. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}
