// Package testlog routes log output to a test's log for as long as the test
// runs, and drops it afterwards.
//
// Servers and engines started by a test can keep goroutines running after
// the test's cleanups (a connection handler of a server that is closed but
// does not wait for its connections). testing.T panics when such a goroutine
// logs after the test has completed, so the writers here stop forwarding
// from the test's cleanup on, and a write in flight holds the cleanup back
// until it is done.
package testlog

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Writer is an io.Writer that passes each write, without its trailing
// newline, to t.Log until t's cleanups run, and drops writes after that.
// Make it with New.
type Writer struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

// New returns a Writer for t. It registers a cleanup on t, so call it
// before starting what logs: cleanups run last-in first-out, and the
// writer keeps forwarding while the later-registered cleanups (closing the
// servers) run.
func New(t testing.TB) *Writer {
	w := &Writer{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

// Write logs p to the test, or drops it once the test is over. It never
// fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\r\n"))
	}
	return len(p), nil
}

// Printf logs a formatted line, as Write does. It lets a Writer serve as a
// Printf-style logger (go-imap's server Logger).
func (w *Writer) Printf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Logf(format, args...)
	}
}

// Logger returns a slog.Logger writing text at level and above to a new
// Writer for t.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(New(t), &slog.HandlerOptions{Level: level}))
}
