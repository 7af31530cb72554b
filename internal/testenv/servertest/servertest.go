// Package servertest holds what the helpers that start real servers for
// tests (internal/testenv/dovecot, cyrus, radicale and xandikos) share:
// the rule for a missing server binary, a free loopback port, random
// secrets, a log buffer safe for concurrent writers, starting, awaiting
// and stopping a server's process, and the sample configurations of docs
// they run with.
package servertest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// server binary into a test failure instead of a skip. CI sets it.
const RequireEnv = "ERADICATE_REQUIRE_SERVERS"

// Missing skips t because a server is not installed, with msg as the
// reason, or fails it when [RequireEnv] is "1".
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(RequireEnv + "=1: " + msg)
	}
	t.Skip(msg)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// what names the caller in a failure.
func FreePort(t testing.TB, what string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%s: find a free port: %v", what, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// RandomHex returns n random bytes, hex-encoded: a password or a name no
// other run uses.
func RandomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("servertest: random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}

// WriteFile writes content to path with mode, failing t on error.
func WriteFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatalf("servertest: %v", err)
	}
}

// Buffer collects output (a server's log, a client's protocol trace) from
// concurrent writers. The zero value is ready to use and keeps
// everything; with Max > 0 it keeps the first Max bytes and drops the
// rest.
type Buffer struct {
	// Max is the most bytes kept; 0 keeps everything.
	Max int

	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p, or drops what exceeds Max. It never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max > 0 && b.buf.Len()+len(p) > b.Max {
		b.buf.Write(p[:max(0, b.Max-b.buf.Len())])
		return len(p), nil
	}
	return b.buf.Write(p)
}

// String returns what was kept.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset discards what was kept.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// Sample reads the sample configuration rel (a slash-separated path from
// the module's root, e.g. "docs/dovecot/90-eradicate.conf") and makes the
// replacements old, new, ... in order; each old must occur, or the sample
// no longer says what the tests rely on and an error says so. Servers of
// the tests run with the samples operators are given, so that the two
// cannot drift apart.
func Sample(rel string, oldNew ...string) (string, error) {
	if len(oldNew)%2 != 0 {
		return "", fmt.Errorf("servertest: Sample %s: replacements come in pairs", rel)
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("servertest: cannot locate the module to read %s", rel)
	}
	// This file is internal/testenv/servertest/servertest.go.
	path := filepath.Join(filepath.Dir(file), "..", "..", "..", filepath.FromSlash(rel))
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("servertest: %w", err)
	}
	s := string(b)
	for i := 0; i < len(oldNew); i += 2 {
		if !strings.Contains(s, oldNew[i]) {
			return "", fmt.Errorf("servertest: %s no longer has %q", rel, oldNew[i])
		}
		s = strings.ReplaceAll(s, oldNew[i], oldNew[i+1])
	}
	return s, nil
}
