package journaltest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/conformance"
	"github.com/eradicate-dev/eradicate/remediation"
)

// Harness is what a journal hands the suite for one case.
type Harness struct {
	// Journal is the journal under test: open and empty. The suite
	// closes it (a second Close is not checked).
	Journal remediation.Journal

	// Reopen opens the journal again from where Journal keeps it, as a
	// restarted process would. The suite calls it after closing the
	// journal, and, when Exclusive is set, also while it is open, to see
	// the second open refused. On an error it returns a nil Journal (not
	// a nil pointer in a Journal). nil means the journal does not outlive
	// Close: the cases that reopen it are skipped.
	Reopen func(t *testing.T) (remediation.Journal, error)
	// TearLastWrite damages the stored journal as a crash in the middle
	// of its last write would leave it: the write of the last Append call
	// made durable (for example, by cutting off its last bytes). The
	// journal is closed when it is called. nil skips the TornTail cases
	// (they need Reopen too).
	TearLastWrite func(t *testing.T)
	// Exclusive says the journal holds a lock while it is open: Reopen
	// then fails with an error wrapping [journal.ErrLocked],
	// and succeeds again after Close. false skips the Lock cases (they
	// need Reopen too).
	Exclusive bool

	// Concurrency is the number of goroutines of the concurrency cases;
	// 0 means 8.
	Concurrency int
	// Skip names cases the journal cannot pass, by "Group/Case" (for
	// example "Rewrite/CancelledContext"), with the reason; each is
	// skipped with its reason in the test log. Prefer a hook or a fix to
	// a skip.
	Skip map[string]string
}

// Run runs the conformance suite against the journal newHarness returns.
// It calls newHarness once per case, with the case's *testing.T.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	conformance.Run(t, groups(), newHarness, newEnv, func(h *Harness) map[string]string { return h.Skip })
}

// env is one case's view of the harness, with helpers.
type env struct {
	*Harness
	ctx context.Context
}

// newEnv checks h and returns the case's view of it, which closes the
// journal when the case ends.
func newEnv(t *testing.T, h *Harness) *env {
	require.NotNil(t, h.Journal, "the harness has no journal")
	e := &env{Harness: h, ctx: t.Context()}
	e.track(t, h.Journal)
	return e
}

// track closes j when the case ends.
func (e *env) track(t *testing.T, j remediation.Journal) {
	t.Cleanup(func() { j.Close() })
}

func (e *env) concurrency() int {
	if e.Concurrency > 0 {
		return e.Concurrency
	}
	return 8
}

// needReopen skips the case unless the harness can reopen the journal.
func (e *env) needReopen(t *testing.T) {
	t.Helper()
	if e.Reopen == nil {
		t.Skip("the harness has no Reopen hook: the journal is not checked across a close and reopen")
	}
}

// needRewriter returns j as a Rewriter, or skips the case.
func needRewriter(t *testing.T, j remediation.Journal) remediation.Rewriter {
	t.Helper()
	return conformance.Implements[remediation.Rewriter](t, j)
}

// reopen closes j and opens the journal again.
func (e *env) reopen(t *testing.T, j remediation.Journal) remediation.Journal {
	t.Helper()
	require.NoError(t, j.Close(), "Close")
	nj, err := e.Reopen(t)
	require.NoError(t, err, "Reopen after Close")
	require.NotNil(t, nj, "Reopen returned a nil journal")
	e.track(t, nj)
	return nj
}

// append appends entries in one call, which must succeed.
func (e *env) append(t *testing.T, j remediation.Journal, entries ...remediation.Entry) {
	t.Helper()
	require.NoError(t, j.Append(e.ctx, entries...), "Append")
}

// replay returns every entry of j; the replay must not fail.
func (e *env) replay(t *testing.T, j remediation.Journal) []remediation.Entry {
	t.Helper()
	var out []remediation.Entry
	for ent, err := range j.Replay(e.ctx) {
		require.NoError(t, err, "Replay, after %d entries", len(out))
		out = append(out, ent)
	}
	return out
}

// requireEntries checks that j replays exactly want, in order.
func (e *env) requireEntries(t *testing.T, j remediation.Journal, want []remediation.Entry, msgAndArgs ...any) {
	t.Helper()
	requireSame(t, want, e.replay(t, j), msgAndArgs...)
}

// requireSame checks that got holds the entries of want, in order, by
// value: an empty slice equals a nil one and times are compared as
// instants, as the engine reads them.
func requireSame(t *testing.T, want, got []remediation.Entry, msgAndArgs ...any) {
	t.Helper()
	want, got = canonical(want), canonical(got)
	msg := message(msgAndArgs)
	for i := range min(len(want), len(got)) {
		require.Equal(t, want[i], got[i], "entry %d of %d, of kind %d; %s", i, len(want), want[i].Kind, msg)
	}
	if len(got) > len(want) {
		require.Fail(t, fmt.Sprintf("%d entries, want %d; the first extra one: %s", len(got), len(want), describe(got[len(want)])), msg)
	}
	if len(got) < len(want) {
		require.Fail(t, fmt.Sprintf("%d entries, want %d; the first missing one: %s", len(got), len(want), describe(want[len(got)])), msg)
	}
}

// describe shows ent with the value its Kind points to.
func describe(ent remediation.Entry) string {
	var v any
	switch {
	case ent.Record != nil:
		v = *ent.Record
	case ent.Intent != nil:
		v = *ent.Intent
	case ent.Outcomes != nil:
		v = *ent.Outcomes
	case ent.Calendar != nil:
		v = *ent.Calendar
	}
	return fmt.Sprintf("kind %d %+v", ent.Kind, v)
}

// message formats testify's msgAndArgs.
func message(msgAndArgs []any) string {
	switch {
	case len(msgAndArgs) == 0:
		return ""
	case len(msgAndArgs) == 1:
		return fmt.Sprint(msgAndArgs[0])
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

// canonical returns a deep copy of es with empty slices and maps nil and
// times in UTC without a monotonic reading.
func canonical(es []remediation.Entry) []remediation.Entry {
	if len(es) == 0 {
		return nil
	}
	out := reflect.New(reflect.TypeOf(es)).Elem()
	out.Set(deepCopy(reflect.ValueOf(es)))
	return out.Interface().([]remediation.Entry)
}

var timeType = reflect.TypeFor[time.Time]()

func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		return p
	case reflect.Struct:
		if v.Type() == timeType {
			return reflect.ValueOf(v.Interface().(time.Time).UTC())
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		for i := range v.NumField() {
			if f := c.Field(i); f.CanSet() {
				f.Set(deepCopy(v.Field(i)))
			}
		}
		return c
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			c.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
		return c
	}
	return v
}
