package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
)

// TestMain runs the command itself when the test binary is started as
// `eradicate` by a test (ERADICATE_TEST_MAIN=1): the end-to-end tests run
// `eradicate serve` as a child process.
func TestMain(m *testing.M) {
	if os.Getenv("ERADICATE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// identity is an API identity of a test config, with its token in clear.
type identity struct {
	name, token string
	roles       []string
}

func newIdentities(t *testing.T) map[string]identity {
	ids := map[string]identity{}
	for name, roles := range map[string][]string{
		"reader": {"reader"}, "analyst": {"analyst"}, "approver": {"approver"}, "admin": {"admin"},
		"lead": {"analyst", "approver"},
	} {
		tok, err := api.NewToken()
		require.NoError(t, err)
		ids[name] = identity{name: name, token: tok, roles: roles}
	}
	return ids
}

func tokensTOML(ids map[string]identity) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "\n[[token]]\nname = %q\nsha256 = %q\nroles = [\"%s\"]\n", id.name, api.HashToken(id.token), strings.Join(id.roles, `", "`))
	}
	return b.String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// server is `eradicate serve` running as a child process.
type server struct {
	url  string
	logs *servertest.Buffer
	stop func() error
	kill func() // SIGKILL: the process ends without a shutdown
}

func startServe(t *testing.T, config string, env ...string) *server {
	t.Helper()
	logs := &servertest.Buffer{}
	cmd := exec.Command(os.Args[0], "serve", "-config", config)
	cmd.Env = append(append(os.Environ(), "ERADICATE_TEST_MAIN=1"), env...)
	cmd.Stderr = logs
	cmd.Stdout = logs
	require.NoError(t, cmd.Start())
	s := &server{logs: logs}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var stopped bool
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if line := grepLine(logs.String(), "msg=serving"); line != "" {
			_, u, _ := strings.Cut(line, "url=")
			s.url = strings.Fields(u)[0]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("eradicate serve exited: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "eradicate serve did not start:\n%s", logs.String())
	}
	s.kill = func() {
		_ = cmd.Process.Kill()
		<-done
		stopped = true
	}
	s.stop = func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			stopped = true
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return fmt.Errorf("eradicate serve did not stop on SIGTERM:\n%s", logs.String())
		}
	}
	return s
}

func grepLine(s, sub string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}
