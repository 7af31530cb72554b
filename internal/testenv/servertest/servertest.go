// Package servertest holds what the helpers that start real servers for
// tests (Dovecot in internal/testenv/dovecot, Radicale in
// internal/testenv/radicale) share: the rule for a missing server binary, a
// free loopback port, random secrets, and a log buffer safe for
// concurrent writers.
package servertest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"sync"
	"testing"
	"time"
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

// WaitReady polls ready every 50 ms until it reports true, for up to 30
// seconds. It fails t, naming what and adding log()'s text, when the
// server's process exits first (exited is closed) or the time is up.
func WaitReady(t testing.TB, what string, exited <-chan struct{}, ready func() bool, log func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready: %s", what, log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not ready within 30s: %s", what, log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Listening reports whether something accepts TCP connections at addr.
func Listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
