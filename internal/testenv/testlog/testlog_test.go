package testlog

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records what is logged and, like
// testing.T, fails loudly when used after completion.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	lines    []string
	cleanups []func()
	finished bool
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) Log(args ...any) { r.Logf("%s", fmt.Sprint(args...)) }

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		panic("Log after the test completed")
	}
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *recorder) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.mu.Lock()
	r.finished = true
	r.mu.Unlock()
}

func TestWriterStopsAfterCleanup(t *testing.T) {
	r := &recorder{TB: t}
	w := New(r)
	n, err := w.Write([]byte("first\n"))
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	w.Printf("second %d", 2)
	r.finish()

	assert.NotPanics(t, func() {
		n, err := w.Write([]byte("late\n"))
		assert.NoError(t, err)
		assert.Equal(t, 5, n)
		w.Printf("late %d", 3)
	})
	assert.Equal(t, []string{"first", "second 2"}, r.lines)
}

func TestWriterConcurrentWithCleanup(t *testing.T) {
	for range 50 {
		r := &recorder{TB: t}
		w := New(r)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 100 {
					fmt.Fprintf(w, "g%d line %d\n", g, i)
				}
			}()
		}
		r.finish() // races with the writers; none may log after it
		wg.Wait()
		for _, l := range r.lines {
			assert.True(t, strings.HasPrefix(l, "g"), l)
		}
	}
}

func TestLogger(t *testing.T) {
	r := &recorder{TB: t}
	l := Logger(r, 0)
	l.Debug("hidden")
	l.Info("shown", "k", 1)
	r.finish()
	l.Info("dropped")
	require.Len(t, r.lines, 1)
	assert.Contains(t, r.lines[0], "msg=shown k=1")
}
