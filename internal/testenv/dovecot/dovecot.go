// Package dovecot starts a real Dovecot IMAP server for tests.
//
// [Start] runs the dovecot binary from the operating system's packages in
// the foreground (dovecot -F) with a generated configuration in a temporary
// folder: a free loopback port, plaintext IMAP allowed (ssl = no; the
// server listens on 127.0.0.1 only), passwd-file users with plain
// passwords, a master user that can log in as any user
// ("alice*eradicate-admin"), Maildir storage under the temporary folder,
// and the special-use and admin-only folders of every mailbox created
// automatically. The server stops when the test ends.
//
// When dovecot is not installed the test is skipped, unless the
// environment variable ERADICATE_REQUIRE_SERVERS is "1", which turns the
// skip into a failure (CI sets it).
//
// # Privileges
//
// Dovecot never runs mail processes as root. When the test runs as root,
// mail processes run as the "vmail" user when it exists and as "nobody"
// otherwise, and the temporary folder is made traversable for that user.
// When the test runs as another user, every Dovecot process runs as that
// user.
//
// # Processes
//
// imap processes are reused for up to 100 connections (service_count =
// 100, four kept ready), which is safe because every user's mail
// processes run as the same user; Dovecot's default starts one process
// per login. Logins from 127.0.0.1 have no growing delay after failures
// (the anvil auth-penalty socket is disabled).
//
// # Folders
//
// Every mailbox has INBOX, Drafts (\Drafts), Sent (\Sent), Junk (\Junk)
// and Trash (\Trash), all subscribed, and the admin-only folders
// [QuarantineFolder], [RecoverableFolder] and [EvidenceFolder], created but
// not subscribed. [Options.NoSpecialUse] leaves out the special-use
// attributes, for tests of name-based role fallbacks. The master user and
// the admin folders are configured by the sample operators are given,
// [SampleConfig], read at every start.
package dovecot

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// server binary into a test failure instead of a skip.
const RequireEnv = servertest.RequireEnv

// Names of the generated master user, its separator, and the admin-only
// folders every mailbox gets.
const (
	MasterUser        = "eradicate-admin"
	MasterSeparator   = "*"
	QuarantineFolder  = "Quarantine"
	RecoverableFolder = "Recoverable Items"
	EvidenceFolder    = "Evidence"
)

// Options configure [Start]. A nil *Options is the same as a zero value.
type Options struct {
	// Users are the user names and plain passwords the server accepts.
	// Nil means alice, bob and carol, each with a random password. Names
	// must not contain ':', '*', '/', '%' or white space.
	Users map[string]string
	// NoSpecialUse leaves the SPECIAL-USE attributes off Junk, Trash, Sent
	// and Drafts (the folders are still created).
	NoSpecialUse bool
	// MaxConnections bounds the IMAP connections per user and client IP
	// (mail_max_userip_connections); 0 means 1000.
	MaxConnections int
	// Verbose logs every login and IMAP command summary to the log.
	Verbose bool
	// LMTP also serves LMTP (RFC 2033) on a free loopback port,
	// [Server.LMTPAddr]: the delivery path of a mail transfer agent.
	// Recipients are users by their local part ("alice@example.com" and
	// "alice+Junk@example.com" are user alice), and a recipient's detail
	// names the folder to deliver to when it exists
	// (lmtp_save_to_detail_mailbox), as the delivery tap needs.
	LMTP bool
	// LMTPConfig, when LMTP is set and LMTPConfig is not nil, replaces
	// the generated LMTP listener and protocol settings: it returns the
	// configuration that serves LMTP on 127.0.0.1 and port (a site's own
	// snippet, with its port replaced). It must define the
	// "service lmtp" listener on that port.
	LMTPConfig func(port int) string
	// VeryDirtySyncs turns on maildir_very_dirty_syncs and
	// mailbox_list_index_very_dirty_syncs, Dovecot's documented
	// optimisations for servers where only Dovecot changes the Maildirs.
	// STATUS then misses mail that another program put in a folder's
	// new/ (as [Server.WriteMaildir] does), while SELECT and EXAMINE
	// find it.
	VeryDirtySyncs bool
}

// Server is a running Dovecot. Its fields must not be modified.
type Server struct {
	// Addr is the IMAP listening address, host:port (plaintext IMAP).
	Addr string
	// LMTPAddr is the LMTP listening address, host:port, when
	// [Options.LMTP] is set; "" otherwise.
	LMTPAddr string
	// Users are the user names and passwords of the ordinary users. Read
	// it only when no goroutine calls [Server.AddUser].
	Users map[string]string
	// MasterUser is the master user's name, [MasterUser]. It logs in as
	// any user with the login name user + MasterSeparator + MasterUser,
	// or with SASL PLAIN and the user as authorization identity.
	MasterUser string
	// MasterPassword is the master user's password, random for each
	// server.
	MasterPassword string
	// Dir is the server's temporary folder, removed by t.Cleanup.
	Dir string
	// Config is the path of the server's dovecot.conf, in Dir.
	Config string
	// MailDir holds one Maildir per user: MailDir/<user>.
	MailDir string
	// MailUID and MailGID own the mail files (the mail processes' user).
	MailUID, MailGID int

	site    string     // docs/dovecot/90-eradicate.conf, for this server
	mu      sync.Mutex // guards Users while the server runs
	bin     string
	doveadm string
	run     *servertest.Run // the current run; nil before the first start
	logPath string
}

// Start starts Dovecot, waits until it greets IMAP clients, and registers
// [Server.Stop] with t.Cleanup.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	bin := lookBin("dovecot", "/usr/sbin/dovecot")
	doveadm := lookBin("doveadm", "/usr/bin/doveadm")
	if bin == "" || doveadm == "" {
		msg := "dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd); skipping the tests against a real IMAP server"
		servertest.Missing(t, msg)
	}
	if opts.LMTP && !hasLMTP() {
		servertest.Missing(t, "dovecot's LMTP server is not installed (apt-get install dovecot-lmtpd); skipping the tests that deliver over LMTP")
	}

	users := opts.Users
	if users == nil {
		users = map[string]string{"alice": servertest.RandomHex(t, 8), "bob": servertest.RandomHex(t, 8), "carol": servertest.RandomHex(t, 8)}
	}
	s := &Server{
		Users:          make(map[string]string, len(users)),
		MasterUser:     MasterUser,
		MasterPassword: servertest.RandomHex(t, 16),
		bin:            bin,
		doveadm:        doveadm,
	}
	for u, p := range users {
		if u == "" || strings.ContainsAny(u, ":*/% \t\r\n") || strings.ContainsAny(p, ":\r\n") {
			t.Fatalf("dovecot: unusable user name %q", u)
		}
		s.Users[u] = p
	}

	s.Dir = t.TempDir()
	s.MailDir = filepath.Join(s.Dir, "mail")
	s.Config = filepath.Join(s.Dir, "dovecot.conf")
	s.logPath = filepath.Join(s.Dir, "dovecot.log")
	for _, d := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			t.Fatalf("dovecot: %v", err)
		}
	}

	mailUser, err := s.setPrivileges()
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}

	if err := s.writePasswd(); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	servertest.WriteFile(t, filepath.Join(s.Dir, "masters"), fmt.Sprintf("%s:{PLAIN}%s::::::\n", s.MasterUser, s.MasterPassword), 0o644)
	if s.site, err = siteConfig(filepath.Join(s.Dir, "masters")); err != nil {
		t.Fatalf("dovecot: %v", err)
	}

	lastErr := servertest.StartAttempts(func() error {
		port := servertest.FreePort(t, "dovecot")
		s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		lmtpPort := 0
		if opts.LMTP {
			lmtpPort = servertest.FreePort(t, "dovecot")
			s.LMTPAddr = fmt.Sprintf("127.0.0.1:%d", lmtpPort)
		}
		servertest.WriteFile(t, s.Config, s.config(port, lmtpPort, mailUser, opts), 0o644)
		return s.start()
	}, s.Stop)
	if lastErr != nil {
		t.Fatalf("dovecot: %v\n%s", lastErr, s.Log())
	}
	t.Cleanup(s.Stop)
	return s
}

// AddUser adds a user while the server runs and waits until Dovecot knows
// it. Dovecot rereads a changed passwd-file at most once a second, so a
// call can take that long; give [Options.Users] up front when many users
// are needed. It is safe for concurrent use.
func (s *Server) AddUser(ctx context.Context, name, password string) error {
	if name == "" || strings.ContainsAny(name, ":*/% \t\r\n") || strings.ContainsAny(password, ":\r\n") {
		return fmt.Errorf("dovecot: unusable user name %q", name)
	}
	s.mu.Lock()
	s.Users[name] = password
	err := s.writePasswdLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Doveadm(ctx, "user", "-u", name)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("dovecot: user %s not visible: %w", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) writePasswd() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writePasswdLocked()
}

// writePasswdLocked writes the passwd-file atomically, one line per user:
// user:{PLAIN}password:uid:gid:gecos:home:shell:extra, every field
// present, empty ones included.
func (s *Server) writePasswdLocked() error {
	names := make([]string, 0, len(s.Users))
	for u := range s.Users {
		names = append(names, u)
	}
	sort.Strings(names)
	var passwd strings.Builder
	for _, u := range names {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s::::::\n", u, s.Users[u])
	}
	path := filepath.Join(s.Dir, "passwd")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(passwd.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// setPrivileges chooses the mail processes' user and makes the temporary
// folder usable by it. It returns the user's name for the configuration.
func (s *Server) setPrivileges() (*user.User, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return nil, err
		}
		s.MailUID, s.MailGID = os.Geteuid(), os.Getegid()
		return u, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"vmail", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("no unprivileged user (vmail or nobody) for the mail processes: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s has a non-numeric uid or gid", u.Username)
	}
	s.MailUID, s.MailGID = uid, gid
	// t.TempDir's folders are private to root; let the mail user reach
	// the mail folder.
	for _, d := range []string{filepath.Dir(s.Dir), s.Dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.Chown(s.MailDir, uid, gid); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Server) config(port, lmtpPort int, mailUser *user.User, opts *Options) string {
	maxConns := opts.MaxConnections
	if maxConns <= 0 {
		maxConns = 1000
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Generated by dovecottest for one test run.")
	p("base_dir = %s", filepath.Join(s.Dir, "run"))
	p("state_dir = %s", filepath.Join(s.Dir, "state"))
	p("instance_name = dovecottest-%d", port)
	p("log_path = %s", s.logPath)
	p("listen = 127.0.0.1")
	if lmtpPort > 0 {
		p("protocols = imap lmtp")
	} else {
		p("protocols = imap")
	}
	p("ssl = no")
	p("disable_plaintext_auth = no")
	p("auth_mechanisms = plain login")
	p("auth_failure_delay = 0")
	p("auth_cache_size = 0")
	if opts.Verbose {
		p("auth_verbose = yes")
		p("verbose_proctitle = yes")
	} else {
		p("login_log_format_elements = user=<%%u> method=%%m")
	}
	if os.Geteuid() == 0 {
		p("mail_uid = %s", mailUser.Uid)
		p("mail_gid = %s", mailUser.Gid)
		p("first_valid_uid = 1")
		p("first_valid_gid = 1")
	} else {
		p("default_internal_user = %s", mailUser.Username)
		p("default_login_user = %s", mailUser.Username)
		p("first_valid_uid = %d", s.MailUID)
		p("first_valid_gid = %d", s.MailGID)
	}
	p("mail_location = maildir:%s/%%u", s.MailDir)
	p("mail_plugins =")
	p("mail_max_userip_connections = %d", maxConns)
	p("mail_fsync = never")
	if opts.VeryDirtySyncs {
		p("maildir_very_dirty_syncs = yes")
		p("mailbox_list_index_very_dirty_syncs = yes")
	}
	p("default_process_limit = 1024")
	p("default_client_limit = 4096")
	p("imap_max_line_length = 64k")
	p("service imap-login {")
	p("  inet_listener imap {")
	p("    address = 127.0.0.1")
	p("    port = %d", port)
	p("  }")
	p("  inet_listener imaps {")
	p("    port = 0")
	p("  }")
	p("  service_count = 0")
	p("  process_min_avail = 1")
	p("  client_limit = 2048")
	p("}")
	// No growing delay after failed logins (auth penalty): tests of
	// wrong passwords would slow every later login from 127.0.0.1.
	p("service anvil {")
	p("  unix_listener anvil-auth-penalty {")
	p("    mode = 0")
	p("  }")
	p("}")
	// Every user's mail processes run as the one mail user, so an imap
	// process may serve many connections one after the other instead of
	// being started for each login (Dovecot's default, service_count = 1):
	// a tool that logs in to each mailbox in turn would otherwise spend
	// most of its time starting processes.
	p("service imap {")
	p("  process_limit = 1024")
	p("  service_count = 100")
	p("  process_min_avail = 4")
	p("}")
	p("passdb {")
	p("  driver = passwd-file")
	p("  args = %s", filepath.Join(s.Dir, "passwd"))
	p("}")
	p("userdb {")
	p("  driver = passwd-file")
	p("  args = %s", filepath.Join(s.Dir, "passwd"))
	p("}")
	if lmtpPort > 0 {
		p("postmaster_address = postmaster@localhost")
		if opts.LMTPConfig != nil {
			b.WriteString(opts.LMTPConfig(lmtpPort))
			p("")
		} else {
			p("service lmtp {")
			p("  inet_listener lmtp {")
			p("    address = 127.0.0.1")
			p("    port = %d", lmtpPort)
			p("  }")
			p("}")
			p("protocol lmtp {")
			// The local part of the address is the user.
			p("  auth_username_format = %%Ln")
			p("  lmtp_save_to_detail_mailbox = yes")
			p("  recipient_delimiter = +")
			p("}")
		}
	}
	p("namespace inbox {")
	p("  inbox = yes")
	p("  separator = /")
	for _, f := range []struct{ name, use string }{
		{"Drafts", `\Drafts`}, {"Sent", `\Sent`}, {"Junk", `\Junk`}, {"Trash", `\Trash`},
	} {
		p("  mailbox %s {", f.name)
		if !opts.NoSpecialUse {
			p("    special_use = %s", f.use)
		}
		p("    auto = subscribe")
		p("  }")
	}
	p("}")
	// The master user and the admin folders, as the sample tells
	// operators to configure them.
	b.WriteString(s.site)
	return b.String()
}

// SampleConfig is the path, relative to the module's root, of the sample
// configuration every server runs with: the master user and the admin
// folders.
const SampleConfig = "docs/dovecot/90-eradicate.conf"

// sampleMasters is the master users' file the sample names.
const sampleMasters = "/etc/dovecot/eradicate-masters"

// siteConfig returns the sample configuration with masters as the master
// users' file. It checks that the sample still configures what the
// servers of the tests need.
func siteConfig(masters string) (string, error) {
	conf, err := servertest.Sample(SampleConfig, sampleMasters, masters)
	if err != nil {
		return "", err
	}
	for _, want := range []string{
		"auth_master_user_separator = " + MasterSeparator + "\n", "master = yes\n",
		"mailbox " + QuarantineFolder + " {", fmt.Sprintf("mailbox %q {", RecoverableFolder), "mailbox " + EvidenceFolder + " {",
	} {
		if !strings.Contains(conf, want) {
			return "", fmt.Errorf("%s no longer has %q", SampleConfig, want)
		}
	}
	return conf, nil
}

func (s *Server) start() error {
	_ = os.Remove(filepath.Join(s.Dir, "run", "master.pid"))
	cmd := exec.Command(s.bin, "-F", "-c", s.Config)
	cmd.Dir = s.Dir
	var out servertest.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	run, err := servertest.Launch(cmd)
	if err != nil {
		return fmt.Errorf("start dovecot: %w", err)
	}
	s.run = run
	ready := func() bool {
		return servertest.Greets(s.Addr, "* OK") && (s.LMTPAddr == "" || servertest.Greets(s.LMTPAddr, "220 "))
	}
	if err := servertest.PollReady(run.Exited(), "dovecot on "+s.Addr, ready); err != nil {
		return fmt.Errorf("%w: %s", err, out.String())
	}
	return nil
}

// Stop stops the server and waits for it to exit. It is safe to call more
// than once.
func (s *Server) Stop() {
	s.run.Interrupt(10 * time.Second)
}

// Restart starts the server again after [Server.Stop], with the same
// configuration, addresses and mail, and waits until it greets. Tests of
// a mail server going away and coming back use it; t.Cleanup still stops
// it at the end.
func (s *Server) Restart() error {
	s.Stop()
	if err := s.start(); err != nil {
		return fmt.Errorf("dovecot: restart: %w\n%s", err, s.Log())
	}
	return nil
}

// MasterLogin returns the login name with which the master user logs in as
// user: user + MasterSeparator + MasterUser.
func (s *Server) MasterLogin(user string) string {
	return user + MasterSeparator + s.MasterUser
}

// UserNames returns the ordinary users' names, sorted.
func (s *Server) UserNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.Users))
	for u := range s.Users {
		names = append(names, u)
	}
	sort.Strings(names)
	return names
}

// Doveadm runs doveadm with the server's configuration and returns its
// standard output. The error includes standard error.
func (s *Server) Doveadm(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.doveadm, append([]string{"-c", s.Config}, args...)...)
	cmd.Dir = s.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("doveadm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// MaildirFolder returns the Maildir folder that holds a user's IMAP folder
// (Maildir++ layout: INBOX is the user's folder itself, other folders are
// dot-prefixed subfolders, "a/b" is ".a.b"). Files written there directly
// must be owned by MailUID and MailGID; see [Server.WriteMaildir].
func (s *Server) MaildirFolder(user, folder string) string {
	base := filepath.Join(s.MailDir, user)
	if strings.EqualFold(folder, "INBOX") {
		return base
	}
	return filepath.Join(base, "."+strings.ReplaceAll(folder, "/", "."))
}

// WriteMaildir stores raw messages directly in a user's folder on disk, in
// the folder's new/ subfolder, bypassing IMAP (much faster for bulk data).
// Dovecot assigns UIDs when it next syncs the folder. The files and
// folders are owned by the mail user.
func (s *Server) WriteMaildir(user, folder string, raws [][]byte) error {
	dir := s.MaildirFolder(user, folder)
	for _, d := range []string{filepath.Join(s.MailDir, user), dir, filepath.Join(dir, "cur"), filepath.Join(dir, "new"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		if err := s.chown(d); err != nil {
			return err
		}
	}
	var buf [6]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return err
	}
	prefix := fmt.Sprintf("%d.M%sP%d", time.Now().Unix(), hex.EncodeToString(buf[:]), os.Getpid())
	for i, raw := range raws {
		name := fmt.Sprintf("%s_%d.dovecottest", prefix, i)
		tmp := filepath.Join(dir, "tmp", name)
		if err := os.WriteFile(tmp, raw, 0o600); err != nil {
			return err
		}
		if err := s.chown(tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) chown(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return os.Chown(path, s.MailUID, s.MailGID)
}

// Log returns the server's log file.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// hasLMTP reports whether Dovecot's lmtp service binary is installed.
func hasLMTP() bool {
	for _, p := range []string{"/usr/lib/dovecot/lmtp", "/usr/libexec/dovecot/lmtp", "/usr/local/libexec/dovecot/lmtp"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}

func lookBin(name, fallback string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if fi, err := os.Stat(fallback); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return fallback
	}
	return ""
}
