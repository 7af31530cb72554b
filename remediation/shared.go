package remediation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Follower is a [Journal] that other engines append to as well (a
// database, as package pgjournal's is). An engine over one reads what the
// others appended before it answers [Engine.Get], [Engine.Query] and
// [Engine.Outcomes], and before it decides, undoes or resumes an action,
// so that every engine shows every action.
type Follower interface {
	// Follow calls fn with the entries appended after mark, in order,
	// and returns the mark to pass next time; "" means from the start.
	// When the journal was rewritten since mark, rewritten is true and
	// fn gets every entry from the start.
	Follow(ctx context.Context, mark string, fn func(Entry) error) (next string, rewritten bool, err error)
}

// Leaser is a [Journal] that several engines share and that leases work
// to them (package pgjournal's does). An engine over one holds a lease on
// each action it runs, so that no other engine resumes it meanwhile, and
// on each mailbox while it selects and acts on its copies, so that one
// mailbox is acted on by one engine at a time (two engines moving the
// same message at once can leave copies of it behind on an IMAP server).
// A lease outlives an engine that ends without releasing it only for the
// journal's lease timeout: then [Engine.Resume] of another engine
// finishes the action. Journals that are not shared do not implement
// it, and the engine takes no leases.
type Leaser interface {
	// TryAcquire takes those of the leases named keys that no other
	// engine holds, for this journal's engine (renewing those it holds
	// already), and returns the keys it took. It does not wait.
	TryAcquire(ctx context.Context, keys ...string) ([]string, error)
	// Release gives the leases named keys back.
	Release(ctx context.Context, keys ...string) error
}

// Lease names.
func actionLease(id string) string  { return "action:" + id }
func mailboxLease(mb string) string { return "mailbox:" + mb }
func callerLease(key string) string { return "caller:" + key }

// Shared reports whether e's journal is shared with other engines (it
// implements [Follower]): what e remembers of the action center may then
// change under it between calls.
func (e *Engine) Shared() bool { return e.follower != nil }

// Exclusive runs fn while no other call of Exclusive naming one of keys
// runs, on e or on another engine sharing e's journal (one implementing
// [Leaser], whose leases it takes, waiting while another engine holds
// one of them). It lets a caller that decides from the action center
// what to do (as package automation does, to act on a message once)
// decide and act as one step. An engine that ends without giving the
// keys back holds them for the journal's lease timeout at most. It
// returns fn's error, or the context's when it ends before the keys are
// free.
func (e *Engine) Exclusive(ctx context.Context, keys []string, fn func() error) error {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = callerLease(k)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for {
		free := e.takeLocal(names)
		if len(free) == len(names) {
			got, err := e.acquireAll(ctx, names)
			if err != nil {
				e.dropLocal(names)
				return err
			}
			if got {
				break
			}
		}
		e.dropLocal(free)
		if err := pause(ctx); err != nil {
			return fmt.Errorf("remediation: waiting for another engine's exclusive call: %w", err)
		}
	}
	defer e.dropLocal(names)
	if e.leaser != nil {
		defer e.release(names...)
	}
	return fn()
}

// acquireAll takes the leases keys all, or none. Without a Leaser it
// reports true.
func (e *Engine) acquireAll(ctx context.Context, keys []string) (bool, error) {
	if e.leaser == nil {
		return true, nil
	}
	got, err := e.leaser.TryAcquire(ctx, keys...)
	if err != nil {
		return false, fmt.Errorf("remediation: leases: %w", err)
	}
	if len(got) == len(keys) {
		return true, nil
	}
	e.release(got...)
	return false, nil
}

// leaseRetry bounds the pause between attempts to take a mailbox lease
// another engine holds.
const leaseRetry = 100 * time.Millisecond

// waitLease takes the lease key, waiting while another engine holds it.
// Without a Leaser it returns at once.
func (e *Engine) waitLease(ctx context.Context, key string) error {
	if e.leaser == nil {
		return nil
	}
	for {
		got, err := e.leaser.TryAcquire(ctx, key)
		if err != nil {
			return fmt.Errorf("remediation: lease %s: %w", key, err)
		}
		if len(got) == 1 {
			return nil
		}
		if err := pause(ctx); err != nil {
			return fmt.Errorf("remediation: waiting for lease %s: %w", key, err)
		}
	}
}

// pause waits a random while below leaseRetry before a lease is tried
// again.
func pause(ctx context.Context) error {
	t := time.NewTimer(leaseRetry/4 + rand.N(leaseRetry*3/4))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// release gives leases back; a failure is logged (the leases expire).
func (e *Engine) release(keys ...string) {
	if e.leaser == nil || len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.leaser.Release(ctx, keys...); err != nil {
		e.log.Warn("remediation: release leases", "leases", keys, "err", err)
	}
}

// sync applies what other engines appended to a [Follower] journal since
// the last sync. Records this process runs are left to their runner.
func (e *Engine) sync(ctx context.Context) error {
	if e.follower == nil {
		return nil
	}
	e.syncMu.Lock()
	defer e.syncMu.Unlock()
	var ents []Entry
	next, rewritten, err := e.follower.Follow(ctx, e.mark, func(ent Entry) error {
		ents = append(ents, ent)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remediation: follow the journal: %w", err)
	}
	e.mu.Lock()
	if rewritten {
		for id, s := range e.records {
			if !s.running {
				delete(e.records, id)
			}
		}
	}
	for _, ent := range ents {
		e.apply(ent, true)
	}
	e.mu.Unlock()
	e.mark = next
	return nil
}

// ErrBusy means another engine sharing the journal is deciding on,
// running or undoing the action; try again later.
var ErrBusy = errors.New("remediation: another engine is acting on the action")

// claim catches up with the journal and takes the action lease of the
// action id names (abbreviated as for [Engine.Get]) for a decision that
// one engine alone may make (approve, decline, undo), without waiting
// ([ErrBusy] when another engine has it), then catches up again so that
// the caller decides on what the other engines did. It returns the full
// id. Without a Leaser it only resolves id.
func (e *Engine) claim(ctx context.Context, id string) (string, error) {
	if err := e.sync(ctx); err != nil {
		return "", err
	}
	full, err := e.fullID(id)
	if err != nil || e.leaser == nil {
		return full, err
	}
	if err := e.lease(ctx, full); err != nil {
		return "", err
	}
	if err := e.sync(ctx); err != nil {
		e.release(actionLease(full))
		return "", err
	}
	return full, nil
}

// fullID returns the full id of the action id names (see [Engine.Get]).
func (e *Engine) fullID(id string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.find(id)
	if err != nil {
		return "", err
	}
	return s.r.ID, nil
}

// lease takes the action lease of id before the action runs (a new one,
// or one this engine decided on and holds already): [Engine.Resume] of
// another engine leaves the action alone while it is held. Without a
// Leaser it does nothing.
func (e *Engine) lease(ctx context.Context, id string) error {
	if e.leaser == nil {
		return nil
	}
	got, err := e.leaser.TryAcquire(ctx, actionLease(id))
	if err != nil {
		return fmt.Errorf("remediation: lease %s: %w", actionLease(id), err)
	}
	if len(got) == 0 {
		return fmt.Errorf("%w: %s", ErrBusy, id)
	}
	return nil
}

// withMailbox runs fn holding the lease of mailbox mb, waiting for it
// while another engine holds it. Without a Leaser it just runs fn.
func (e *Engine) withMailbox(ctx context.Context, mb string, fn func() error) error {
	if e.leaser == nil {
		return fn()
	}
	key := mailboxLease(mb)
	for len(e.takeLocal([]string{key})) == 0 {
		if err := pause(ctx); err != nil {
			return fmt.Errorf("remediation: waiting for lease %s: %w", key, err)
		}
	}
	defer e.dropLocal([]string{key})
	if err := e.waitLease(ctx, key); err != nil {
		return err
	}
	defer e.release(key)
	return fn()
}

// resumable reports whether [Engine.Resume] takes up r.
func resumable(r *Record) bool {
	return r.Status == StatusQueued || r.Status == StatusRunning || r.Incomplete
}

// leaseResumable catches up with a shared journal and takes the action
// leases of the actions Resume may take up that no other engine holds (a
// running action's engine renews its lease; one that ended without
// finishing it has let it expire). It then catches up again, for the
// actions whose engines finished them and released their leases
// meanwhile. Without a Leaser it returns nil.
func (e *Engine) leaseResumable(ctx context.Context) (map[string]bool, error) {
	if err := e.sync(ctx); err != nil {
		return nil, err
	}
	if e.leaser == nil {
		return nil, nil
	}
	e.mu.Lock()
	var ids []string
	for id, s := range e.records {
		if !s.running && resumable(&s.r) {
			ids = append(ids, id)
		}
	}
	e.mu.Unlock()
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = actionLease(id)
	}
	got, err := e.leaser.TryAcquire(ctx, keys...)
	if err != nil {
		return nil, fmt.Errorf("remediation: lease actions: %w", err)
	}
	leased := map[string]bool{}
	for _, k := range got {
		leased[strings.TrimPrefix(k, "action:")] = true
	}
	if len(leased) > 0 {
		if err := e.sync(ctx); err != nil {
			for id := range leased {
				e.release(actionLease(id))
			}
			return nil, err
		}
	}
	return leased, nil
}

// runLeased is runGroup for an engine that shares its journal: it takes
// the leases of a group of mailboxes (j's and those next returns) in one
// call and works on those it got; the others wait, holding no lease,
// until the engines that hold them let them go. A group's leases are
// released once its outcomes are durable, at the worker's next flush.
func (w *worker) runLeased(ctx context.Context, j job, next func() (job, bool)) {
	ru, e := w.ru, w.ru.e
	backlog := []job{j}
	for len(backlog) > 0 {
		if ctx.Err() != nil || ru.fatal.Load() {
			return
		}
		for len(backlog) < groupMax {
			j2, ok := next()
			if !ok {
				break
			}
			backlog = append(backlog, j2)
		}
		n := min(len(backlog), groupMax)
		keys := make([]string, n)
		for i, j := range backlog[:n] {
			keys[i] = mailboxLease(j.mailbox)
		}
		free := e.takeLocal(keys)
		got, err := e.leaser.TryAcquire(ctx, free...)
		if err != nil {
			e.dropLocal(free)
			err = fmt.Errorf("remediation: lease mailboxes: %w", err)
			for _, j := range backlog[:n] {
				w.endJob(&mbRun{mailbox: j.mailbox, res: ru.ri.mb(j.mailbox)}, err)
			}
			backlog = backlog[n:]
			continue
		}
		e.dropLocal(notIn(free, got))
		held := make(map[string]bool, len(got))
		for _, k := range got {
			held[k] = true
		}
		var run, rest []job
		for i, j := range backlog[:n] {
			if held[keys[i]] {
				run = append(run, j)
			} else {
				rest = append(rest, j)
			}
		}
		backlog = append(rest, backlog[n:]...)
		if len(run) == 0 {
			// Give back what this worker holds before it waits.
			if err := w.flush(ctx); err != nil {
				ru.fail(err, true)
				return
			}
			if pause(ctx) != nil {
				return
			}
			continue
		}
		queue := run[1:]
		w.runGroup(ctx, run[0], func() (job, bool) {
			if len(queue) == 0 {
				return job{}, false
			}
			j := queue[0]
			queue = queue[1:]
			return j, true
		})
		// The leases go back with the next flush: the outcomes of this
		// group ride on the next group's intents.
		w.leased = append(w.leased, got...)
	}
}

// releaseLeased gives back the leases of w.leased: what was done under
// them is durable.
func (w *worker) releaseLeased() {
	if len(w.leased) == 0 {
		return
	}
	w.ru.e.release(w.leased...)
	w.ru.e.dropLocal(w.leased)
	w.leased = w.leased[:0]
}

// takeLocal marks those of the mailbox leases keys that no other action
// of this engine works under as in use, and returns them.
func (e *Engine) takeLocal(keys []string) []string {
	e.busyMu.Lock()
	defer e.busyMu.Unlock()
	if e.busy == nil {
		e.busy = map[string]bool{}
	}
	var free []string
	for _, k := range keys {
		if !e.busy[k] {
			e.busy[k] = true
			free = append(free, k)
		}
	}
	return free
}

// dropLocal ends what takeLocal marked.
func (e *Engine) dropLocal(keys []string) {
	e.busyMu.Lock()
	defer e.busyMu.Unlock()
	for _, k := range keys {
		delete(e.busy, k)
	}
}

// notIn returns the strings of a that are not in b.
func notIn(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

// leaseDue takes the action leases of the pending records due to expire
// (one deciding on a record holds its lease, so that its decision and
// an expiry are not both journaled), waiting a while (expireWait) for
// those another engine holds: it is deciding on or expiring them, and
// once it has, the journal shows them decided or expired. It catches up
// with the journal and returns the records whose leases it took and the
// leases to give back once the expiry is journaled (all but held's,
// which the caller holds already); ok is false when nothing may expire.
func (e *Engine) leaseDue(ctx context.Context, due func(*state) bool, held string) (leased map[string]bool, give []string, ok bool) {
	leased = map[string]bool{}
	deadline := time.Now().Add(expireWait)
	for {
		e.mu.Lock()
		var keys []string
		for id, s := range e.records {
			if due(s) && !leased[id] {
				keys = append(keys, actionLease(id))
			}
		}
		e.mu.Unlock()
		if len(keys) == 0 {
			break
		}
		got, err := e.leaser.TryAcquire(ctx, keys...)
		if err != nil {
			e.log.Warn("remediation: lease actions to expire", "err", err)
			break
		}
		for _, k := range got {
			leased[strings.TrimPrefix(k, "action:")] = true
			if k != actionLease(held) {
				give = append(give, k)
			}
		}
		if len(got) == len(keys) || time.Now().After(deadline) || pause(ctx) != nil {
			break
		}
		if err := e.sync(ctx); err != nil {
			e.log.Warn("remediation: follow the journal before expiring", "err", err)
			break
		}
	}
	if len(leased) == 0 {
		return nil, nil, false
	}
	if err := e.sync(ctx); err != nil {
		e.log.Warn("remediation: follow the journal before expiring", "err", err)
		e.release(give...)
		return nil, nil, false
	}
	return leased, give, true
}

// expireWait bounds the wait of an expiry for the leases of other
// engines deciding on or expiring the same records.
const expireWait = 2 * time.Second
