package cyrus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// server into a test failure instead of a skip.
const RequireEnv = servertest.RequireEnv

// RootEnv is the environment variable naming the folder the Cyrus
// packages are unpacked into (dpkg-deb -x); default [DefaultRoot].
const RootEnv = "ERADICATE_CYRUS_ROOT"

// DefaultRoot is where the Cyrus packages are looked for when [RootEnv]
// is not set, before an installed Cyrus.
const DefaultRoot = "/opt/eradicate-cyrus"

// Names of the generated admin and of the admin-only folders every user
// gets.
const (
	AdminUser         = "eradicate-admin"
	QuarantineFolder  = "Quarantine"
	RecoverableFolder = "Recoverable Items"
	EvidenceFolder    = "Evidence"
)

// AdminRights are the rights the admin has on every folder of every user,
// and the only rights on the admin-only folders.
const AdminRights = "lrswipkxtecdan"

// Options configure [Start]. A nil *Options is the same as a zero value.
type Options struct {
	// Users are the user names and plain passwords the server accepts.
	// Nil means alice, bob and carol, each with a random password. A name
	// is "local" or "local@domain"; it must not contain '/', '*', '%',
	// '#', white space or a second '@'.
	Users map[string]string
	// Munge8bit keeps Cyrus's default munge8bit: yes, which replaces
	// 8-bit characters in the header of an appended message by "X".
	// By default the server stores headers as they are given (munge8bit:
	// no), as eradicate needs.
	Munge8bit bool
}

// Server is a running Cyrus. Its fields must not be modified.
type Server struct {
	// Addr is the IMAP listening address, host:port (plaintext IMAP).
	Addr string
	// HTTPAddr is the HTTP (CalDAV) listening address, host:port.
	HTTPAddr string
	// URL is the HTTP base URL, e.g. "http://127.0.0.1:40123/".
	URL string
	// Users are the user names and passwords of the ordinary users. Read
	// it only when no goroutine calls [Server.AddUser].
	Users map[string]string
	// AdminUser is [AdminUser].
	AdminUser string
	// AdminPassword is the admin's password, random for each server.
	AdminPassword string
	// Dir is the server's temporary folder, removed by t.Cleanup.
	Dir string
	// Config is the path of the server's imapd.conf, in Dir.
	Config string

	bin       string // the folder of master, imapd...
	munge8bit bool
	env       []string
	saslpw    string
	runUID    int
	runGID    int
	mu        sync.Mutex      // guards Users
	run       *servertest.Run // the current run; nil before the first start
	out       *servertest.Buffer
}

// Start starts Cyrus, waits until it greets IMAP clients and accepts HTTP
// connections, creates the users (their folders, admin ACLs, admin-only
// folders and calendars), and registers [Server.Stop] with t.Cleanup.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	bin, libDir := findCyrus()
	saslpw := lookBin("saslpasswd2", "/usr/sbin/saslpasswd2")
	if bin == "" || saslpw == "" {
		servertest.Missing(t, "Cyrus IMAP is not available (unpack cyrus-imapd, cyrus-common and cyrus-caldav into "+DefaultRoot+
			" or $"+RootEnv+" with dpkg-deb -x, and apt-get install sasl2-bin); skipping the tests against Cyrus")
	}
	users := opts.Users
	if users == nil {
		users = map[string]string{"alice": servertest.RandomHex(t, 8), "bob": servertest.RandomHex(t, 8), "carol": servertest.RandomHex(t, 8)}
	}
	s := &Server{
		Users:         make(map[string]string, len(users)),
		AdminUser:     AdminUser,
		AdminPassword: servertest.RandomHex(t, 16),
		Dir:           tempDir(t),
		bin:           bin,
		saslpw:        saslpw,
		out:           &servertest.Buffer{Max: 1 << 20},
	}
	for u, p := range users {
		if err := checkUser(u, p); err != nil {
			t.Fatalf("cyrus: %v", err)
		}
	}
	s.env = os.Environ()
	if libDir != "" {
		s.env = append(s.env, "LD_LIBRARY_PATH="+libDir)
	}
	s.Config = filepath.Join(s.Dir, "imapd.conf")
	for _, d := range []string{"conf", "spool", "run", "sock"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o750); err != nil {
			t.Fatalf("cyrus: %v", err)
		}
	}
	s.munge8bit = opts.Munge8bit
	runUser, runGroup, err := s.setPrivileges()
	if err != nil {
		t.Fatalf("cyrus: %v", err)
	}
	if err := s.setPassword(AdminUser, s.AdminPassword); err != nil {
		t.Fatalf("cyrus: %v", err)
	}

	lastErr := servertest.StartAttempts(func() error {
		imapPort := servertest.FreePort(t, "cyrus")
		httpPort := servertest.FreePort(t, "cyrus")
		s.Addr = fmt.Sprintf("127.0.0.1:%d", imapPort)
		s.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", httpPort)
		s.URL = "http://" + s.HTTPAddr + "/"
		servertest.WriteFile(t, s.Config, s.imapdConf(runUser, runGroup), 0o644)
		servertest.WriteFile(t, filepath.Join(s.Dir, "cyrus.conf"), s.cyrusConf(), 0o644)
		if err := s.chownAll(); err != nil {
			t.Fatalf("cyrus: %v", err)
		}
		return s.start()
	}, s.Stop)
	if lastErr != nil {
		t.Fatalf("cyrus: %v\n%s", lastErr, s.Log())
	}
	t.Cleanup(s.Stop)

	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, u := range names {
		if err := s.AddUser(context.Background(), u, users[u]); err != nil {
			t.Fatalf("cyrus: %v\n%s", err, s.Log())
		}
	}
	return s
}

// tempDir returns a new folder for the server, removed when the test
// ends: in /dev/shm when it is a usable memory file system, because
// Cyrus syncs its databases and folders to disk on every change (a
// first login takes a quarter of a second on disk), else t.TempDir.
func tempDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "cyrustest-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func checkUser(name, password string) error {
	local, domain, _ := strings.Cut(name, "@")
	if local == "" || strings.ContainsAny(name, "/*%#\\\" \t\r\n") || strings.Contains(domain, "@") || strings.ContainsAny(password, "\r\n") {
		return fmt.Errorf("unusable user name %q", name)
	}
	return nil
}

// findCyrus returns the folder of Cyrus's programs and the folder of its
// libraries ("" when they are installed), or "" when there is no Cyrus.
func findCyrus() (bin, libDir string) {
	roots := []string{DefaultRoot}
	if r := os.Getenv(RootEnv); r != "" {
		roots = []string{r}
	}
	for _, r := range roots {
		b := filepath.Join(r, "usr", "lib", "cyrus", "bin")
		if isExec(filepath.Join(b, "master")) {
			libs, _ := filepath.Glob(filepath.Join(r, "usr", "lib", "*", "libcyrus.so.0"))
			if len(libs) > 0 {
				libDir = filepath.Dir(libs[0])
			}
			return b, libDir
		}
	}
	if isExec("/usr/lib/cyrus/bin/master") {
		return "/usr/lib/cyrus/bin", ""
	}
	return "", ""
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func lookBin(name, fallback string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if isExec(fallback) {
		return fallback
	}
	return ""
}

// setPrivileges chooses the user the server runs as and returns its name
// and group name for imapd.conf.
func (s *Server) setPrivileges() (string, string, error) {
	var u *user.User
	var err error
	if os.Geteuid() != 0 {
		u, err = user.Current()
	} else {
		for _, name := range []string{"cyrus", "nobody"} {
			if u, err = user.Lookup(name); err == nil {
				break
			}
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("no user to run Cyrus as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return "", "", fmt.Errorf("user %s has a non-numeric uid or gid", u.Username)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return "", "", fmt.Errorf("group of %s: %w", u.Username, err)
	}
	s.runUID, s.runGID = uid, gid
	if os.Geteuid() == 0 {
		// t.TempDir's folders are private to root; let the server in.
		dirs := []string{s.Dir}
		if parent := filepath.Dir(s.Dir); parent != "/dev/shm" {
			dirs = append(dirs, parent)
		}
		for _, d := range dirs {
			if err := os.Chmod(d, 0o755); err != nil {
				return "", "", err
			}
		}
	}
	return u.Username, g.Name, nil
}

// chownAll gives the temporary folder to the server's user.
func (s *Server) chownAll() error {
	if os.Geteuid() != 0 {
		return nil
	}
	return filepath.Walk(s.Dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, s.runUID, s.runGID)
	})
}

func (s *Server) imapdConf(runUser, runGroup string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Generated by cyrustest for one test run.")
	p("configdirectory: %s", filepath.Join(s.Dir, "conf"))
	p("partition-default: %s", filepath.Join(s.Dir, "spool"))
	p("defaultpartition: default")
	p("cyrus_user: %s", runUser)
	p("cyrus_group: %s", runGroup)
	p("syslog_prefix: cyrustest")
	p("admins: %s", AdminUser)
	p("proxyservers: %s", AdminUser)
	p("sasl_pwcheck_method: auxprop")
	p("sasl_auxprop_plugin: sasldb")
	p("sasl_sasldb_path: %s", filepath.Join(s.Dir, "sasldb2"))
	p("sasl_mech_list: PLAIN LOGIN")
	p("allowplaintext: yes")
	// Keep 8-bit header text as it is: Cyrus's default turns it into "X"
	// on APPEND, so that a released message would not be the original.
	p("munge8bit: %s", map[bool]string{true: "yes", false: "no"}[s.munge8bit])
	p("virtdomains: userid")
	p("unixhierarchysep: yes")
	p("altnamespace: yes")
	// Owners get no implicit rights: the admin-only folders stay hidden
	// from them (their own folders give them every right by ACL).
	p("implicit_owner_rights: 0")
	p("lmtpsocket: %s", filepath.Join(s.Dir, "sock", "lmtp"))
	p("idlesocket: %s", filepath.Join(s.Dir, "sock", "idle"))
	p("notifysocket: %s", filepath.Join(s.Dir, "sock", "notify"))
	p("mboxname_lockpath: %s", filepath.Join(s.Dir, "run", "lock"))
	p("proc_path: %s", filepath.Join(s.Dir, "run", "proc"))
	p("statuscache: no")
	p("autocreate_quota: 0")
	p("autocreate_inbox_folders: Drafts | Sent | Junk | Trash")
	p("autocreate_subscribe_folders: Drafts | Sent | Junk | Trash")
	p("xlist-drafts: Drafts")
	p("xlist-sent: Sent")
	p("xlist-junk: Junk")
	p("xlist-trash: Trash")
	p("httpmodules: caldav")
	p("caldav_realm: cyrustest")
	p("httpallowcompress: no")
	// Tests append and expunge quickly: no delayed expunge, no delayed
	// delete of folders.
	p("expunge_mode: immediate")
	p("delete_mode: immediate")
	p("imapidlepoll: 1")
	return b.String()
}

func (s *Server) cyrusConf() string {
	conf := "-C " + s.Config
	return fmt.Sprintf(`START {
  recover cmd="%[1]s/ctl_cyrusdb %[2]s -r"
}
SERVICES {
  imap cmd="%[1]s/imapd %[2]s" listen="%[3]s" prefork=2 maxchild=200
  http cmd="%[1]s/httpd %[2]s" listen="%[4]s" prefork=1 maxchild=50
}
EVENTS {
}
`, s.bin, conf, s.Addr, s.HTTPAddr)
}

// setPassword adds or changes a user in the SASL database.
func (s *Server) setPassword(name, password string) error {
	db := filepath.Join(s.Dir, "sasldb2")
	cmd := exec.Command(s.saslpw, "-p", "-c", "-f", db, name)
	cmd.Stdin = strings.NewReader(password)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("saslpasswd2 %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	if os.Geteuid() == 0 {
		return os.Chown(db, s.runUID, s.runGID)
	}
	return nil
}

func (s *Server) start() error {
	cmd := exec.Command(filepath.Join(s.bin, "master"), "-D", "-C", s.Config,
		"-M", filepath.Join(s.Dir, "cyrus.conf"), "-p", filepath.Join(s.Dir, "run", "master.pid"))
	cmd.Dir = s.Dir
	cmd.Env = s.env
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	// Its own process group, so that Stop reaches every service.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	run, err := servertest.Launch(cmd)
	if err != nil {
		return fmt.Errorf("start cyrus master: %w", err)
	}
	s.run = run
	return servertest.PollReady(run.Exited(), "cyrus on "+s.Addr+" and "+s.HTTPAddr, func() bool {
		return servertest.Greets(s.Addr, "* OK") && servertest.Listening(s.HTTPAddr)
	})
}

// Stop stops the server and its services and waits for them to exit. It
// is safe to call more than once.
func (s *Server) Stop() {
	s.run.Stop(func(cmd *exec.Cmd, exited <-chan struct{}) {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
		}
		// Services that outlived the master.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
}

// Log returns what the master process wrote (Cyrus logs to syslog; this
// holds fatal errors only).
func (s *Server) Log() string { return s.out.String() }

// Password returns the password of an ordinary user, and whether there
// is such a user. Unlike reading Users, it is safe while another
// goroutine calls [Server.AddUser].
func (s *Server) Password(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.Users[name]
	return pw, ok
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

// AdminFolder returns the name by which the admin reaches a user's
// folder: "user/alice" for INBOX, "user/alice/Sent", and with a domain
// "user/bob@example.com" and "user/bob/Sent@example.com".
func AdminFolder(owner, folder string) string {
	local, domain, hasDomain := strings.Cut(owner, "@")
	name := "user/" + local
	if !strings.EqualFold(folder, "INBOX") {
		name += "/" + folder
	}
	if hasDomain {
		name += "@" + domain
	}
	return name
}

// AdminFolder is the package's [AdminFolder].
func (s *Server) AdminFolder(owner, folder string) string { return AdminFolder(owner, folder) }

// CalendarHome returns the path of a user's calendar home set.
func (s *Server) CalendarHome(owner string) string {
	return "/dav/calendars/user/" + owner + "/"
}

// Dial returns an IMAP client logged in as name, closed when the test
// ends.
func (s *Server) Dial(t testing.TB, name, password string) *imapclient.Client {
	t.Helper()
	c, err := s.dial(name, password)
	if err != nil {
		t.Fatalf("cyrus: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (s *Server) dial(name, password string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.Addr, err)
	}
	if err := c.Login(name, password).Wait(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("log in as %s: %w", name, err)
	}
	return c, nil
}

// AddUser adds a user while the server runs: the SASL password, a first
// IMAP login (Cyrus creates the INBOX and the special-use folders), a first
// CalDAV request (Cyrus creates the calendars), the admin's ACLs on the
// user's folders and the hidden admin-only folders. It is safe for
// concurrent use.
func (s *Server) AddUser(ctx context.Context, name, password string) error {
	if err := checkUser(name, password); err != nil {
		return err
	}
	if err := s.setPassword(name, password); err != nil {
		return err
	}
	s.mu.Lock()
	s.Users[name] = password
	s.mu.Unlock()

	c, err := s.dial(name, password)
	if err != nil {
		return err
	}
	_, err = c.List("", "*", nil).Collect()
	_ = c.Logout().Wait()
	_ = c.Close()
	if err != nil {
		return fmt.Errorf("list the folders of %s: %w", name, err)
	}
	if err := s.touchCalendars(ctx, name, password); err != nil {
		return err
	}

	a, err := s.dial(AdminUser, s.AdminPassword)
	if err != nil {
		return err
	}
	defer a.Close()
	local, domain, hasDomain := strings.Cut(name, "@")
	pattern := "user/" + local + "*"
	if hasDomain {
		pattern += "@" + domain
	}
	list, err := a.List("", pattern, nil).Collect()
	if err != nil {
		return fmt.Errorf("list the folders of %s as the admin: %w", name, err)
	}
	for _, l := range list {
		if !belongsTo(l.Mailbox, name) {
			continue
		}
		if err := a.SetACL(l.Mailbox, imap.RightsIdentifier(AdminUser), imap.RightModificationReplace, imap.RightSet(AdminRights)).Wait(); err != nil {
			return fmt.Errorf("give the admin rights on %s: %w", l.Mailbox, err)
		}
	}
	for _, f := range []string{QuarantineFolder, RecoverableFolder, EvidenceFolder} {
		mb := AdminFolder(name, f)
		if err := a.Create(mb, nil).Wait(); err != nil {
			return fmt.Errorf("create %s: %w", mb, err)
		}
		if err := a.SetACL(mb, imap.RightsIdentifier(AdminUser), imap.RightModificationReplace, imap.RightSet(AdminRights)).Wait(); err != nil {
			return fmt.Errorf("give the admin rights on %s: %w", mb, err)
		}
		// An empty right set removes the owner's entry (RFC 4314
		// section 3.1).
		if err := a.SetACL(mb, imap.RightsIdentifier(name), imap.RightModificationReplace, imap.RightSet("")).Wait(); err != nil {
			return fmt.Errorf("hide %s from %s: %w", mb, name, err)
		}
	}
	return a.Logout().Wait()
}

// belongsTo reports whether an admin folder name is one of owner's mail
// folders (not another user's, not a calendar collection "#calendars").
func belongsTo(mb, owner string) bool {
	local, domain, hasDomain := strings.Cut(owner, "@")
	if hasDomain {
		var ok bool
		if mb, ok = strings.CutSuffix(mb, "@"+domain); !ok {
			return false
		}
	}
	rest, ok := strings.CutPrefix(mb, "user/"+local)
	if !ok {
		return false
	}
	return rest == "" || (strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, "/#"))
}

// touchCalendars makes the user's first CalDAV request, after which Cyrus
// has created the user's calendar home and default calendar.
func (s *Server) touchCalendars(ctx context.Context, name, password string) error {
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", s.URL+strings.TrimPrefix(s.CalendarHome(name), "/"), nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(name, password)
	req.Header.Set("Depth", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("CalDAV request as %s: %w", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return fmt.Errorf("CalDAV PROPFIND of %s's home: %s", name, resp.Status)
	}
	return nil
}

// ChangeUIDValidity gives a user's folder, INBOX too, a new UIDVALIDITY
// while its messages stay, with their UIDs: it removes the folder's
// index, cache and header files and has reconstruct build them again
// from the message files, as after a lost index. The messages' flags do
// not survive. Cyrus has no command that changes UIDVALIDITY in place
// (reconstruct keeps it while the index is there, a rename keeps it, and
// Cyrus 3.6.1's imapd dies on RENAME INBOX). A rebuilt folder gets the
// current time plus one second as its UIDVALIDITY, so a call can wait a
// second for a value the folder has not had.
func (s *Server) ChangeUIDValidity(ctx context.Context, owner, folder string) error {
	mb := AdminFolder(owner, folder)
	out, err := s.toolOutput(ctx, "mbpath", mb)
	if err != nil {
		return err
	}
	dir := strings.TrimSpace(out)
	if rel, err := filepath.Rel(s.Dir, dir); err != nil || !filepath.IsAbs(dir) || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cyrus: mbpath %s gave %q, not a folder of the server", mb, out)
	}
	a, err := s.dial(AdminUser, s.AdminPassword)
	if err != nil {
		return err
	}
	defer a.Close()
	uidValidity := func() (uint32, error) {
		st, err := a.Status(mb, &imap.StatusOptions{UIDValidity: true}).Wait()
		if err != nil {
			return 0, fmt.Errorf("cyrus: STATUS %s: %w", mb, err)
		}
		return st.UIDValidity, nil
	}
	before, err := uidValidity()
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		for _, f := range []string{"cyrus.index", "cyrus.cache", "cyrus.header"} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("cyrus: %w", err)
			}
		}
		if err := s.Tool(ctx, "reconstruct", "-f", mb); err != nil {
			return err
		}
		after, err := uidValidity()
		if err != nil || after != before {
			return err
		}
		if attempt == 3 {
			return fmt.Errorf("cyrus: %s kept UIDVALIDITY %d after reconstruct", mb, before)
		}
		// The same second gives the same value: try again in the next.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(time.Now().Truncate(time.Second).Add(time.Second))):
		}
	}
}

// Tool runs one of Cyrus's programs (reconstruct, ipurge...) with the
// server's configuration, as the server's user.
func (s *Server) Tool(ctx context.Context, name string, args ...string) error {
	_, err := s.toolOutput(ctx, name, args...)
	return err
}

// toolOutput is [Server.Tool], returning what the program wrote.
func (s *Server) toolOutput(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), append([]string{"-C", s.Config}, args...)...)
	cmd.Dir = s.Dir
	cmd.Env = s.env
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(s.runUID), Gid: uint32(s.runGID)}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
