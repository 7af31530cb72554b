// Package postgres starts a throwaway PostgreSQL cluster for tests.
//
// [Start] runs initdb into a temporary folder and then the postgres server
// in the foreground, listening on a free port on 127.0.0.1 only (no Unix
// socket), with password (SCRAM) authentication for a generated superuser.
// The cluster is removed with the test's temporary folder when the test
// ends; [Server.Stop] runs first, from t.Cleanup.
//
// The server binaries are looked up in the directory named by the
// environment variable ERADICATE_PG_BIN, then in the newest
// /usr/lib/postgresql/<version>/bin (Debian's layout), then on PATH. When
// none is found the test is skipped, unless ERADICATE_REQUIRE_SERVERS is
// "1", which turns the skip into a failure (CI sets it).
//
// # Privileges
//
// PostgreSQL refuses to run as root. When the test runs as root, initdb
// and postgres run as the "postgres" system user (which the operating
// system's package creates), and the temporary folder is made traversable
// for it; the data folder belongs to that user. Otherwise they run as the
// test's user.
//
// # Durability
//
// By default the cluster runs with fsync off and synchronous_commit off:
// a throwaway cluster need not survive a power cut, and tests run faster.
// [Options.Durable] keeps PostgreSQL's defaults (fsync on, commits flushed
// before they are acknowledged), for benchmarks that compare with journals
// that fsync.
package postgres

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// PostgreSQL into a test failure instead of a skip.
const RequireEnv = servertest.RequireEnv

// BinEnv names the environment variable that may name the folder holding
// initdb and postgres.
const BinEnv = "ERADICATE_PG_BIN"

// SuperUser is the name of the cluster's generated superuser.
const SuperUser = "eradicate"

// Options configure [Start]. A nil *Options is the same as a zero value.
type Options struct {
	// Durable keeps fsync and synchronous commits on (PostgreSQL's
	// defaults); off by default.
	Durable bool
	// MaxConnections is the server's max_connections; 0 means 200.
	MaxConnections int
	// Settings are further server settings (name to value), passed as
	// -c name=value.
	Settings map[string]string
}

// Server is a running PostgreSQL cluster. Its fields must not be modified.
type Server struct {
	// Addr is the listening address, 127.0.0.1:port.
	Addr string
	// Port is the listening port.
	Port int
	// User and Password are the superuser's credentials.
	User, Password string
	// Dir is the cluster's temporary folder; DataDir, in it, holds the
	// cluster.
	Dir, DataDir string

	bin  string
	run  *servertest.Run // the current run; nil before the first start
	log  servertest.Buffer
	cred *credential
}

// Start initialises a cluster, starts PostgreSQL, waits until it accepts
// connections, and registers [Server.Stop] with t.Cleanup.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	bin := binDir()
	if bin == "" {
		servertest.Missing(t, "PostgreSQL is not installed (apt-get install postgresql, or set "+BinEnv+"); skipping the tests against a real PostgreSQL")
	}
	s := &Server{
		User:     SuperUser,
		Password: servertest.RandomHex(t, 16),
		Dir:      t.TempDir(),
		bin:      bin,
	}
	s.DataDir = filepath.Join(s.Dir, "data")
	cred, err := s.setPrivileges()
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	s.cred = cred
	if err := s.initdb(); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	err = servertest.StartAttempts(func() error {
		port := servertest.FreePort(t, "postgres")
		s.Port, s.Addr = port, fmt.Sprintf("127.0.0.1:%d", port)
		return s.start(opts)
	}, s.Stop)
	if err != nil {
		t.Fatalf("postgres: %v\n%s", err, s.Log())
	}
	t.Cleanup(s.Stop)
	return s
}

// setPrivileges chooses the user the server runs as: nil (the test's
// own) unless the test runs as root, then the postgres system user, for
// which the temporary folder is made traversable.
func (s *Server) setPrivileges() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, os.MkdirAll(s.DataDir, 0o700)
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user postgres has a non-numeric uid or gid")
	}
	// t.TempDir's folders are private to root; let postgres reach its
	// data folder, which it alone may read.
	for _, d := range []string{filepath.Dir(s.Dir), s.Dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(s.DataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chown(s.DataDir, uid, gid); err != nil {
		return nil, err
	}
	return &credential{uid: uint32(uid), gid: uint32(gid)}, nil
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	runAs(cmd, s.cred)
	return cmd
}

func (s *Server) initdb() error {
	// The password file is read by initdb, which runs as the server's
	// user; it is removed as soon as initdb is done.
	pw := filepath.Join(s.Dir, "pwfile")
	if err := os.WriteFile(pw, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pw)
	if s.cred != nil {
		if err := os.Chown(pw, int(s.cred.uid), int(s.cred.gid)); err != nil {
			return err
		}
	}
	cmd := s.command("initdb", "-D", s.DataDir, "-U", s.User, "--pwfile", pw,
		"--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync", "--no-instructions")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func (s *Server) start(opts *Options) error {
	maxConns := opts.MaxConnections
	if maxConns <= 0 {
		maxConns = 200
	}
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(s.Port),
		"unix_socket_directories": "",
		"max_connections":         strconv.Itoa(maxConns),
		"logging_collector":       "off",
	}
	if !opts.Durable {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	args := []string{"-D", s.DataDir}
	for _, k := range names {
		args = append(args, "-c", k+"="+settings[k])
	}
	s.log.Max = 1 << 20
	s.log.Reset()
	cmd := s.command("postgres", args...)
	cmd.Stdout = &s.log
	cmd.Stderr = &s.log
	run, err := servertest.Launch(cmd)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.run = run
	done := run.Exited()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := s.ping()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited before accepting connections on %s", s.Addr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections on %s within 60s: %v", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// ConnString returns a connection string (a URL) for database as the
// superuser.
func (s *Server) ConnString(database string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", s.User, s.Password, s.Addr, database)
}

// CreateDatabase creates a database with a random name and returns its
// connection string. A database per test keeps tests that share a server
// apart.
func (s *Server) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := "test_" + servertest.RandomHex(t, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		t.Fatalf("postgres: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("postgres: create database: %v", err)
	}
	return s.ConnString(name)
}

// Stop stops the server (a fast shutdown: connections are closed) and
// waits for it to exit. It is safe to call more than once.
func (s *Server) Stop() {
	s.run.Interrupt(20 * time.Second)
}

// Log returns what the server wrote to its standard error (its log),
// up to 1 MiB.
func (s *Server) Log() string { return s.log.String() }

// binDir returns the folder holding initdb and postgres, or "".
func binDir() string {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv(BinEnv); dir != "" && has(dir) {
		return dir
	}
	// Debian: /usr/lib/postgresql/<major>/bin, newest first.
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
		for _, d := range dirs {
			if has(d) {
				return d
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p)
	}
	return ""
}

// majorOf returns the version in /usr/lib/postgresql/<version>/bin.
func majorOf(binDir string) int {
	v, err := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	if err != nil {
		return -1
	}
	return v
}
