package mock

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Op names a kind of backend call, for fault injection. Every method of
// mailbox.Store and calendar.Store a [Tenant] implements is one Op.
type Op string

// The backend calls a [Tenant] counts and can fail.
const (
	OpMailboxes Op = "Mailboxes" // mailbox.Store.Mailboxes
	OpSearch    Op = "Search"    // mailbox.Store.Search (counted when iteration starts)
	OpFetch     Op = "Fetch"     // mailbox.Store.Fetch
	OpMove      Op = "Move"      // mailbox.Store.Move
	OpExpunge   Op = "Expunge"   // mailbox.Store.Expunge
	OpAppend    Op = "Append"    // mailbox.Store.Append
	OpCalendars Op = "Calendars" // calendar.Store.Calendars
	OpFind      Op = "Find"      // calendar.Store.Find
	OpPut       Op = "Put"       // calendar.Store.Put
	OpDelete    Op = "Delete"    // calendar.Store.Delete
)

// ErrInjected is the error an injected [Fault] returns when its Err is nil.
var ErrInjected = errors.New("mock: injected fault")

// FaultMode says when an injected [Fault] strikes relative to the effect of
// the call.
type FaultMode int

const (
	// FaultBefore fails the call before it has any effect: the method
	// returns the error and nothing changed. It is the default.
	FaultBefore FaultMode = iota
	// FaultPartial applies to Move, Expunge and Search. Move and Expunge
	// handle the first K addresses of the batch normally, every later
	// one gets the fault's error in its per-address result, and the
	// method's own error is nil, as when a connection drops in the
	// middle of a batch. Search yields the first K hits, then the error.
	// Other calls treat it as FaultBefore.
	FaultPartial
	// FaultAfter applies to Move, Expunge, Append and Search (and to the
	// calendar calls that honour it): the call takes its full effect,
	// then returns only the error, as when the server did the work but
	// the reply was lost (Search: every hit, then the error). For Move,
	// Expunge and Append this deliberately breaks the "nothing changed on
	// error" rule of the Store contracts, to test the crash consistency
	// of callers. Other calls treat it as FaultBefore.
	FaultAfter
)

// String returns the mode's name.
func (m FaultMode) String() string {
	switch m {
	case FaultBefore:
		return "before"
	case FaultPartial:
		return "partial"
	case FaultAfter:
		return "after"
	}
	return fmt.Sprintf("FaultMode(%d)", int(m))
}

// Fault is one injected failure.
type Fault struct {
	// Err is the error the call returns; nil means [ErrInjected]. The
	// returned error wraps it.
	Err error
	// Mode says when the fault strikes; the zero value is [FaultBefore].
	Mode FaultMode
	// K is the number of addresses handled before a [FaultPartial] fault
	// strikes.
	K int
}

func (f *Fault) err(op Op) error {
	err := f.Err
	if err == nil {
		err = ErrInjected
	}
	return fmt.Errorf("mock: %s: %w", op, err)
}

// faultState holds the injected faults of a Tenant. It is guarded by
// Tenant.mu.
type faultState struct {
	calls   int
	nth     map[int]Fault // by call number (1-based, counted from New)
	byOp    map[Op]Fault
	latency time.Duration
}

// FailNth makes the nth backend call from now fail with err before it has
// any effect: n = 1 is the next call. Every mailbox.Store and
// calendar.Store method call counts, including calls that fail. err nil
// means [ErrInjected].
func (t *Tenant) FailNth(n int, err error) {
	t.InjectNth(n, Fault{Err: err})
}

// InjectNth makes the nth backend call from now (n = 1 is the next) strike
// f. A later injection at the same position replaces an earlier one. n < 1
// is ignored.
func (t *Tenant) InjectNth(n int, f Fault) {
	if n < 1 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.faults.nth == nil {
		t.faults.nth = make(map[int]Fault)
	}
	t.faults.nth[t.faults.calls+n] = f
}

// FailOp makes every call of kind op fail with err before it has any
// effect, until [Tenant.ClearFaults]. err nil means [ErrInjected].
func (t *Tenant) FailOp(op Op, err error) {
	t.InjectOp(op, Fault{Err: err})
}

// InjectOp makes every call of kind op strike f until
// [Tenant.ClearFaults]. It replaces an earlier fault for op. A fault set
// by [Tenant.InjectNth] for the same call takes precedence.
func (t *Tenant) InjectOp(op Op, f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.faults.byOp == nil {
		t.faults.byOp = make(map[Op]Fault)
	}
	t.faults.byOp[op] = f
}

// SetLatency makes every backend call wait d before it does anything. The
// wait ends early, with an error wrapping ctx.Err(), when the call's ctx is
// done. d <= 0 removes the latency.
func (t *Tenant) SetLatency(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults.latency = max(d, 0)
}

// ClearFaults removes every injected fault and the latency. The call count
// of [Tenant.Calls] is kept.
func (t *Tenant) ClearFaults() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults.nth = nil
	t.faults.byOp = nil
	t.faults.latency = 0
}

// Calls returns the number of backend calls made so far: every
// mailbox.Store and calendar.Store method call, including those that
// failed. A test runs an operation once, reads Calls, then fails each
// position in turn with [Tenant.FailNth].
func (t *Tenant) Calls() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.faults.calls
}

// enter starts a backend call of kind op: it counts the call, returns an
// error wrapping ctx.Err() when ctx is done, waits for the latency, and
// returns the fault that strikes this call, if any. A non-nil error means
// the call must return it at once with no effect; a non-nil *Fault (mode
// FaultPartial or FaultAfter) is for the call to apply. Callers that
// support neither mode use [Tenant.fault]. enter takes t.mu; it must not
// be called with t.mu held.
func (t *Tenant) enter(ctx context.Context, op Op) (*Fault, error) {
	t.mu.Lock()
	t.faults.calls++
	n := t.faults.calls
	latency := t.faults.latency
	f, ok := t.faults.nth[n]
	if ok {
		delete(t.faults.nth, n)
	} else {
		f, ok = t.faults.byOp[op]
	}
	t.mu.Unlock()

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mock: %s: %w", op, err)
	}
	if latency > 0 {
		timer := time.NewTimer(latency)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("mock: %s: %w", op, ctx.Err())
		case <-timer.C:
		}
	}
	if !ok {
		return nil, nil
	}
	if f.Mode == FaultBefore {
		return nil, f.err(op)
	}
	return &f, nil
}

// fault starts a backend call of kind op as [Tenant.enter] does, for calls
// that support only [FaultBefore]: any injected fault fails the call
// before it has an effect. A nil result means go ahead.
func (t *Tenant) fault(ctx context.Context, op Op) error {
	f, err := t.enter(ctx, op)
	if err != nil {
		return err
	}
	if f != nil {
		return f.err(op)
	}
	return nil
}
