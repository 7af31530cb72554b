package remediation

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// item is one selected copy on its way through a batch.
type item struct {
	addr  mailbox.Address
	msgID string
	role  mailbox.Role
	size  int64 // of the raw message when known, else 0
	retry bool
	// refound marks a copy found again after its folder was renumbered
	// (UIDVALIDITY changed); it is not looked for a second time.
	refound bool
}

// resumeInfo is what the journal says about an unfinished action.
type resumeInfo struct {
	done     map[string]bool          // finished mailboxes
	mbs      map[string]*mbResume     // mailboxes with outcomes but not finished
	inflight map[uint64]*Intent       // intents without outcomes
	plans    map[uint64]*CalendarStep // calendar plans without decisions
}

type mbResume struct {
	handled map[mailbox.Address]bool // copies with a final outcome (From and To)
	failed  map[mailbox.Address]bool // copies that failed and are retried
}

func (ri *resumeInfo) mb(name string) *mbResume {
	if ri == nil {
		return nil
	}
	return ri.mbs[name]
}

// runner carries out one action.
type runner struct {
	e     *Engine
	st    *state
	r     *Record // the engine's working copy; counts guarded by mu
	ri    *resumeInfo
	total int64
	pre   preselection // the copies the count found, by mailbox; nil: search

	mu         sync.Mutex
	errs       []error
	incomplete atomic.Bool
	fatal      atomic.Bool // journal failed, or the limit was reached: stop everything
	done       atomic.Int64
	// limit is the blast-radius limit while the action runs (-1: none);
	// selected counts the copies prepared so far.
	limit    int64
	selected atomic.Int64
	// purged are the messages this action purges, for the invite-removal
	// rule (calendar.go).
	purged purgedSet
}

func (ru *runner) fail(err error, retryable bool) {
	if retryable {
		ru.incomplete.Store(true)
	}
	ru.mu.Lock()
	defer ru.mu.Unlock()
	if len(ru.errs) < 10 {
		ru.errs = append(ru.errs, err)
	}
}

// precheck checks a release's recipients and the blast radius. It returns
// the number of selected copies when it counted them, else -1, and, when
// it searched a criteria selection to count it, what it found: the action
// then works on those copies instead of searching every mailbox again.
func (e *Engine) precheck(ctx context.Context, r *Record) (int64, preselection, error) {
	// Checked again: a record proposed, or queued, by an earlier version
	// with looser rules (or kept by another Journal) must not run.
	if c := r.Selection.Criteria; c != nil {
		if err := c.ValidateSelection(); err != nil {
			return -1, nil, fmt.Errorf("%w: selection refused: %w", ErrInvalidRequest, err)
		}
	}
	if r.Action.spec().recipients && len(r.Recipients) > 0 {
		if r.Selection.Criteria == nil {
			return -1, nil, fmt.Errorf("%w: a release to chosen recipients needs criteria", ErrInvalidRequest)
		}
		c := effective(r.Action, r.Selection.Criteria)
		for _, rc := range r.Recipients {
			found := false
			for _, err := range e.mail.Search(ctx, rc, c) {
				if err != nil {
					if errors.Is(err, mailbox.ErrNoMailbox) {
						break
					}
					return -1, nil, fmt.Errorf("remediation: check recipient %s: %w", rc, err)
				}
				found = true
				break
			}
			if !found {
				return -1, nil, e.notHeld(ctx, rc, r.Selection.Criteria)
			}
		}
	}
	limit := e.limit(r)
	if len(r.Selection.Copies) > 0 {
		n := int64(len(r.Selection.Copies))
		if limit >= 0 && n > limit {
			return -1, nil, fmt.Errorf("%w: %d copies selected, limit %d", ErrNeedsConfirmation, n, limit)
		}
		return n, nil, nil
	}
	if limit < 0 {
		return -1, nil, nil
	}
	// The copies counted are kept: at most limit of them, since the
	// count stops above it.
	var n int64
	pre := preselection{}
	err := e.selectAll(ctx, r, func(mb string, msgs []mailbox.Message) bool {
		n += int64(len(msgs))
		pre[mb] = msgs
		return n <= limit
	})
	if err != nil {
		return -1, nil, err
	}
	if n > limit {
		return -1, nil, fmt.Errorf("%w: more than %d copies selected", ErrNeedsConfirmation, limit)
	}
	return n, pre, nil
}

// preselection holds the copies a blast-radius count found, by mailbox
// (as [Engine.mailboxes] names it), every searched mailbox present.
type preselection map[string][]mailbox.Message

// notHeld explains why rc holds no quarantined copy of the messages c
// selects: they were released to rc already (ErrAlreadyReleased), rc
// holds them outside quarantine otherwise (ErrInvalidRequest), or rc is not
// a recipient (ErrNotRecipient).
func (e *Engine) notHeld(ctx context.Context, rc string, c *mailbox.Criteria) error {
	held := map[string]bool{} // normalized Message-IDs rc holds outside quarantine
	n := 0
	for m, err := range e.mail.Search(ctx, rc, *c) {
		if err != nil {
			if errors.Is(err, mailbox.ErrNoMailbox) {
				break
			}
			return fmt.Errorf("remediation: check recipient %s: %w", rc, err)
		}
		n++
		held[mailbox.NormalizeMessageID(m.MessageID)] = true
	}
	if n == 0 {
		return fmt.Errorf("%w: %s holds no quarantined copy of the selected messages; nothing was released", ErrNotRecipient, rc)
	}
	hist, err := e.ReleaseHistory(ctx)
	if err != nil {
		return err
	}
	for _, ev := range slices.Backward(hist) {
		if held[mailbox.NormalizeMessageID(ev.MessageID)] && slices.Contains(ev.Recipients, rc) {
			return fmt.Errorf("%w: %s was released to %s by %s (%s); nothing was released again",
				ErrAlreadyReleased, ev.MessageID, rc, ev.DecidedBy, ev.RecordID)
		}
	}
	return fmt.Errorf("%w: %s holds the selected messages outside quarantine only (delivered, or moved out of it); nothing was released",
		ErrInvalidRequest, rc)
}

// limit returns the blast-radius limit of r, or -1 when there is none:
// the lower of Options.BlastRadius and the request's MaxCopies, unless r
// is confirmed.
func (e *Engine) limit(r *Record) int64 {
	if r.Confirm {
		return -1
	}
	limit := int64(e.opts.BlastRadius)
	if r.MaxCopies > 0 && (limit < 0 || int64(r.MaxCopies) < limit) {
		limit = int64(r.MaxCopies)
	}
	return limit
}

// mailboxes returns the mailboxes a criteria selection searches, with the
// copies to match in each when a [Locator] knows them.
func (e *Engine) mailboxes(ctx context.Context, r *Record) ([]Located, error) {
	plain := func(mbs []string) []Located {
		out := make([]Located, len(mbs))
		for i, mb := range mbs {
			out[i].Mailbox = mb
		}
		return out
	}
	if r.Action.spec().recipients && len(r.Recipients) > 0 {
		return plain(r.Recipients), nil
	}
	mbs := r.Selection.Mailboxes
	if len(mbs) == 0 {
		var err error
		if mbs, err = e.mail.Mailboxes(ctx); err != nil {
			return nil, fmt.Errorf("remediation: list mailboxes: %w", err)
		}
	}
	if e.opts.Narrower == nil || r.Selection.Criteria == nil {
		return plain(mbs), nil
	}
	c := effective(r.Action, r.Selection.Criteria)
	var out []Located
	var err error
	loc, ok := e.opts.Narrower.(Locator)
	if _, cs := e.mail.(mailbox.CopySearcher); ok && cs {
		out, err = loc.Locate(ctx, c, mbs)
	} else {
		var narrow []string
		narrow, err = e.opts.Narrower.Mailboxes(ctx, c, mbs)
		out = plain(narrow)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("remediation: narrow the selection: %w", ctx.Err())
		}
		e.log.Warn("remediation: narrowing failed; searching every mailbox", "id", r.ID, "err", err)
		return plain(mbs), nil
	}
	return out, nil
}

// search streams the copies of mailbox mb that c selects: among exact
// alone when it is not nil (and the store can), else by a search of the
// mailbox, which is also what happens when a copy of exact is gone.
func (e *Engine) search(ctx context.Context, mb string, c mailbox.Criteria, exact []mailbox.Address) iter.Seq2[mailbox.Message, error] {
	cs, ok := e.mail.(mailbox.CopySearcher)
	if exact == nil || !ok {
		return e.mail.Search(ctx, mb, c)
	}
	return func(yield func(mailbox.Message, error) bool) {
		first := true
		for m, err := range cs.SearchCopies(ctx, mb, c, exact) {
			if err != nil && first && (errors.Is(err, mailbox.ErrNotFound) || errors.Is(err, mailbox.ErrUIDValidity)) {
				e.log.Debug("remediation: copies moved since indexed; searching the mailbox", "mailbox", mb, "err", err)
				for m, err := range e.mail.Search(ctx, mb, c) {
					if !yield(m, err) || err != nil {
						return
					}
				}
				return
			}
			first = false
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// selectAll searches the selection of r, [Options.Workers] mailboxes at
// a time, and passes fn the copies of each mailbox searched (none
// included), one call at a time, in no set order, until fn returns false.
// Explicit copies are passed as addressed, by mailbox.
func (e *Engine) selectAll(ctx context.Context, r *Record, fn func(mb string, msgs []mailbox.Message) bool) error {
	if len(r.Selection.Copies) > 0 {
		by := map[string][]mailbox.Message{}
		var order []string
		for _, a := range r.Selection.Copies {
			if by[a.Mailbox] == nil {
				order = append(order, a.Mailbox)
			}
			by[a.Mailbox] = append(by[a.Mailbox], mailbox.Message{Address: a})
		}
		for _, mb := range order {
			if !fn(mb, by[mb]) {
				return nil
			}
		}
		return nil
	}
	mbs, err := e.mailboxes(ctx, r)
	if err != nil {
		return err
	}
	c := effective(r.Action, r.Selection.Criteria)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		stopped  bool // fn said stop, or a search failed
		firstErr error
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	for range min(e.opts.Workers, len(mbs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(mbs) || sctx.Err() != nil {
					return
				}
				var msgs []mailbox.Message
				var serr error
				for m, err := range e.search(sctx, mbs[i].Mailbox, c, mbs[i].Copies) {
					if err != nil {
						serr = err
						break
					}
					msgs = append(msgs, m)
				}
				mu.Lock()
				switch {
				case stopped:
				case serr != nil:
					stopped, firstErr = true, fmt.Errorf("remediation: search %s: %w", mbs[i].Mailbox, serr)
					cancel()
				case !fn(mbs[i].Mailbox, msgs):
					stopped = true
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if !stopped {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("remediation: search: %w", err)
		}
	}
	return nil
}

// start records r as running and runs it.
func (e *Engine) start(ctx context.Context, r *Record, total int64, pre preselection) (*Record, error) {
	st, err := e.begin(ctx, r)
	if err != nil {
		return nil, err
	}
	return e.run(ctx, st, r, nil, total, pre)
}

// begin records r as running (durably, holding its lease when the
// journal is shared) and returns its state, claimed for a run.
func (e *Engine) begin(ctx context.Context, r *Record) (*state, error) {
	r.Status = StatusRunning
	r.Started = e.now()
	if err := e.lease(ctx, r.ID); err != nil {
		return nil, err
	}
	if err := e.save(ctx, r); err != nil {
		e.release(actionLease(r.ID))
		return nil, err
	}
	e.mu.Lock()
	st := e.records[r.ID]
	if st == nil {
		st = &state{}
		e.records[r.ID] = st
	}
	st.r = *r.clone()
	st.running = true
	e.mu.Unlock()
	e.log.Info("remediation: action started", "id", r.ID, "action", r.Action, "actor", r.Actor, "decided_by", r.DecidedBy)
	return st, nil
}

// job is the work on one mailbox.
type job struct {
	mailbox string
	addrs   []mailbox.Address // explicit copies
	exact   []mailbox.Address // the copies a Locator gives; nil: search
	undo    []Outcome         // outcomes of the action an undo reverses
}

// run carries out r (status running, journaled) and finishes its record.
// pre, when not nil, is the selection the blast-radius count found, which
// the action works on instead of searching again.
func (e *Engine) run(ctx context.Context, st *state, r *Record, ri *resumeInfo, total int64, pre preselection) (*Record, error) {
	ru := &runner{e: e, st: st, r: r, ri: ri, total: total, limit: -1, pre: pre}
	if r.Action != Undo {
		// The selection may have grown since it was counted. A resumed
		// action counts what it did already. (An undo reverses only
		// what its action was allowed to do.)
		ru.limit = e.limit(r)
		if ri != nil {
			ru.selected.Store(doneCount(r))
		}
	}
	ru.execute(ctx)

	now := e.now()
	ru.mu.Lock()
	r.Finished = now
	r.Incomplete = ru.incomplete.Load() || ctx.Err() != nil
	c := r.Counts
	switch {
	case !r.Incomplete && c.Failed == 0 && len(ru.errs) == 0:
		r.Status = StatusCompleted
	case c.Succeeded+c.AlreadyInDestination > 0:
		r.Status = StatusPartial
	default:
		r.Status = StatusFailed
	}
	var msgs []string
	for _, err := range ru.errs {
		msgs = append(msgs, err.Error())
	}
	r.Error = strings.Join(msgs, "; ")
	errs := slices.Clone(ru.errs)
	ru.mu.Unlock()

	serr := e.save(context.WithoutCancel(ctx), r)
	e.mu.Lock()
	st.r = *r.clone()
	st.running = false
	e.stopped()
	e.mu.Unlock()
	// Released after the final record is journaled: an engine that
	// takes the lease next sees the action finished.
	e.release(actionLease(r.ID))
	e.log.Info("remediation: action finished", "id", r.ID, "status", r.Status,
		"succeeded", c.Succeeded, "already", c.AlreadyInDestination, "not_found", c.NotFound,
		"failed", c.Failed, "skipped", c.Skipped, "incomplete", r.Incomplete)
	if serr != nil {
		errs = append(errs, serr)
	} else {
		e.afterAction(ctx, r)
	}
	if r.Status != StatusCompleted && len(errs) == 0 {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
		} else if c.Failed > 0 {
			errs = append(errs, fmt.Errorf("remediation: %d copies failed", c.Failed))
		}
	}
	return r.clone(), errors.Join(errs...)
}

// execute runs the reconciliation of a resumed action, then the jobs.
func (ru *runner) execute(ctx context.Context) {
	e := ru.e
	w := ru.newWorker()
	if ru.ri != nil {
		for _, seq := range sortedKeys(ru.ri.inflight) {
			in := ru.ri.inflight[seq]
			if err := e.withMailbox(ctx, in.Mailbox, func() error {
				if err := w.reconcile(ctx, in); err != nil {
					return err
				}
				return w.flush(ctx)
			}); err != nil {
				ru.fail(err, true)
			}
		}
		for _, seq := range sortedKeys(ru.ri.plans) {
			if err := w.removeInvites(ctx, ru.ri.plans[seq]); err != nil {
				ru.fail(err, true)
			}
		}
		if err := w.flush(ctx); err != nil {
			ru.fail(err, true)
			return
		}
		if ctx.Err() != nil || ru.fatal.Load() {
			return
		}
	}

	jobs := make(chan job, e.opts.Workers*groupMax)
	var wg sync.WaitGroup
	for range e.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := ru.newWorker()
			for j := range jobs {
				if ctx.Err() != nil || ru.fatal.Load() {
					continue
				}
				// Add the jobs that are waiting to the group while it is
				// young, so that their intents share one journal write.
				start := time.Now()
				next := func() (job, bool) {
					if time.Since(start) >= groupWindow {
						return job{}, false
					}
					select {
					case j2, ok := <-jobs:
						return j2, ok
					default:
						return job{}, false
					}
				}
				if e.leaser != nil {
					w.runLeased(ctx, j, next)
					continue
				}
				w.runGroup(ctx, j, next)
			}
			if err := w.flush(ctx); err != nil {
				ru.fail(err, true)
			}
		}()
	}
	send := func(j job) bool {
		if ru.fatal.Load() {
			return false
		}
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	ru.produce(ctx, send)
	close(jobs)
	wg.Wait()
	if ru.r.Action == Undo && ctx.Err() == nil && !ru.fatal.Load() {
		if err := ru.restoreInvites(ctx); err != nil {
			ru.fail(err, true)
		}
	}
	if err := ctx.Err(); err != nil {
		ru.fail(fmt.Errorf("remediation: action interrupted: %w", err), true)
	}
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	ks := make([]uint64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// produce sends one job per mailbox.
func (ru *runner) produce(ctx context.Context, send func(job) bool) {
	e, r := ru.e, ru.r
	skip := func(mb string) bool { return ru.ri != nil && ru.ri.done[mb] }
	switch {
	case r.Action == Undo:
		// Stream the original's outcomes; each outcome batch is one
		// mailbox.
		for ent, err := range e.j.Replay(ctx) {
			if err != nil {
				ru.fail(fmt.Errorf("remediation: read outcomes of %s: %w", r.UndoOf, err), true)
				return
			}
			if ent.Kind != EntryOutcomes || ent.Outcomes.RecordID != r.UndoOf {
				continue
			}
			var its []Outcome
			for _, o := range ent.Outcomes.Items {
				if o.Kind == Succeeded && !o.To.IsZero() && o.To != o.Copy {
					its = append(its, o)
				}
			}
			if len(its) > 0 && !send(job{mailbox: ent.Outcomes.Mailbox, undo: its}) {
				return
			}
		}
	case len(r.Selection.Copies) > 0:
		by := map[string][]mailbox.Address{}
		var order []string
		for _, a := range r.Selection.Copies {
			if by[a.Mailbox] == nil {
				order = append(order, a.Mailbox)
			}
			by[a.Mailbox] = append(by[a.Mailbox], a)
		}
		for _, mb := range order {
			if !skip(mb) && !send(job{mailbox: mb, addrs: by[mb]}) {
				return
			}
		}
	default:
		mbs, err := e.mailboxes(ctx, r)
		if err != nil {
			ru.fail(err, true)
			return
		}
		for _, l := range mbs {
			if !skip(l.Mailbox) && !send(job{mailbox: l.Mailbox, exact: l.Copies}) {
				return
			}
		}
	}
}

// worker holds the journal entries of one goroutine that are not yet
// written: outcomes are journaled with the next intent, so one fsync covers
// both.
type worker struct {
	ru      *runner
	pend    []Entry
	invites map[string][]SeriesRef // invite series by Message-ID
	// leased are mailbox leases to give back once what was done under
	// them is durable: at the next flush (see runLeased).
	leased []string

	// Buffers reused between batches to spare the garbage collector:
	// selected copies of the current group of mailboxes, the addresses of
	// a backend call, and outcome slices already journaled.
	arena []item
	addrs []mailbox.Address
	outs  [][]Outcome
}

// maxFreeOuts bounds the outcome slices a worker keeps for reuse.
const maxFreeOuts = 2 * groupMax

// newOuts returns a zeroed outcome slice of length n.
func (w *worker) newOuts(n int) []Outcome {
	for i := len(w.outs) - 1; i >= 0; i-- {
		if o := w.outs[i]; cap(o) >= n {
			w.outs = append(w.outs[:i], w.outs[i+1:]...)
			o = o[:n]
			clear(o)
			return o
		}
	}
	return make([]Outcome, n)
}

func (ru *runner) newWorker() *worker { return &worker{ru: ru} }

func (w *worker) flush(ctx context.Context) error {
	if len(w.pend) == 0 {
		w.releaseLeased()
		return nil
	}
	err := w.ru.e.j.Append(context.WithoutCancel(ctx), w.pend...)
	for i := range w.pend {
		// Journals do not keep entries after Append: reuse the slices.
		if ob := w.pend[i].Outcomes; ob != nil && len(w.outs) < maxFreeOuts && cap(ob.Items) >= 16 {
			w.outs = append(w.outs, ob.Items[:0])
		}
		w.pend[i] = Entry{}
	}
	w.pend = w.pend[:0]
	if err != nil {
		w.ru.fatal.Store(true)
		return fmt.Errorf("remediation: journal: %w", err)
	}
	w.releaseLeased()
	return nil
}

// mbRun is the state of one mailbox's job.
type mbRun struct {
	mailbox  string
	res      *mbResume
	skipped  []Outcome // outcomes decided without a backend call
	produced map[mailbox.Address]bool
	failed   bool // a retryable failure: the mailbox is not finished
	aborted  bool
	batches  int
	// markHandled makes execute record the copies its outcomes settle
	// (and where they went) in res: set by reconcile, which runs in one
	// goroutine before the jobs, whose workers share res.
	markHandled bool
}

// groupMax is the most mailboxes whose last batches share one journal
// write.
const groupMax = 16

// groupWindow is how long a worker keeps adding waiting mailboxes to a
// group. Sharing a journal write (an fsync) pays when selecting a
// mailbox's copies is quick, as in memory; when it is slow, as over the
// network, each mailbox is acted on at once, while the backend still has
// it open (an IMAP store would otherwise log in to it a second time).
const groupWindow = 2 * time.Millisecond

// runGroup works on the mailbox of j and on those next returns, up to
// groupMax in all, until next reports no more. The last batch of each
// criteria job is only prepared; then one journal write makes all their
// intents durable and the batches are acted on.
func (w *worker) runGroup(ctx context.Context, j job, next func() (job, bool)) {
	ru := w.ru
	var open []*pendingBatch
	for n := 1; ; n++ {
		if ctx.Err() != nil || ru.fatal.Load() {
			break
		}
		m := &mbRun{mailbox: j.mailbox, res: ru.ri.mb(j.mailbox)}
		var pb *pendingBatch
		var err error
		switch {
		case j.undo != nil:
			err = w.doUndo(ctx, m, j.undo)
		case j.addrs != nil:
			err = w.doCopies(ctx, m, j.addrs)
		default:
			pb, err = w.doCriteria(ctx, m, j.exact)
		}
		if pb != nil && err == nil {
			open = append(open, pb)
		} else {
			w.endJob(m, err)
		}
		var ok bool
		if n >= groupMax {
			break
		}
		if j, ok = next(); !ok {
			break
		}
	}
	defer func() { w.arena = w.arena[:0] }()
	if len(open) == 0 {
		return
	}
	if err := w.flush(ctx); err != nil {
		for _, pb := range open {
			w.endJob(pb.m, err)
		}
		return
	}
	for _, pb := range open {
		w.endJob(pb.m, w.execute(ctx, pb, false))
	}
}

// endJob finishes the work on one mailbox.
func (w *worker) endJob(m *mbRun, err error) {
	ru := w.ru
	if err != nil {
		m.aborted = true
		ru.fail(err, retryable(err))
		ru.e.log.Warn("remediation: mailbox not finished", "id", ru.r.ID, "mailbox", m.mailbox, "err", err)
	}
	if !m.aborted && ru.r.Action != Undo {
		// Close the mailbox: pending skips and the done mark.
		w.closeMailbox(m)
	} else if len(m.skipped) > 0 {
		w.addOutcomes(&OutcomeBatch{RecordID: ru.r.ID, Mailbox: m.mailbox, Items: m.skipped})
		m.skipped = nil
	}
}

// closeMailbox journals the mailbox's remaining skips and, when nothing
// retryable failed, marks it done. The done mark rides on the mailbox's
// last outcome batch when that is still pending.
func (w *worker) closeMailbox(m *mbRun) {
	done := !m.failed
	if len(m.skipped) > 0 {
		w.addOutcomes(&OutcomeBatch{RecordID: w.ru.r.ID, Mailbox: m.mailbox, Done: done, Items: m.skipped})
		m.skipped = nil
		return
	}
	if !done || m.batches == 0 {
		return // nothing selected here, or to be retried
	}
	for i := len(w.pend) - 1; i >= 0; i-- {
		if ob := w.pend[i].Outcomes; ob != nil && ob.Mailbox == m.mailbox {
			ob.Done = true
			return
		}
	}
	w.pend = append(w.pend, Entry{Kind: EntryOutcomes, Outcomes: &OutcomeBatch{RecordID: w.ru.r.ID, Mailbox: m.mailbox, Done: true}})
}

// addOutcomes counts and queues an outcome batch.
func (w *worker) addOutcomes(ob *OutcomeBatch) {
	ru := w.ru
	var c Counts
	for i := range ob.Items {
		c.add(ob.Items[i].Kind, 1)
		if ob.Items[i].Retry {
			c.Failed--
		}
	}
	ru.mu.Lock()
	rc := &ru.r.Counts
	rc.Succeeded += c.Succeeded
	rc.AlreadyInDestination += c.AlreadyInDestination
	rc.NotFound += c.NotFound
	rc.Failed += c.Failed
	rc.Skipped += c.Skipped
	ru.mu.Unlock()
	w.pend = append(w.pend, Entry{Kind: EntryOutcomes, Outcomes: ob})
	done := ru.done.Add(int64(len(ob.Items)))
	if p := ru.e.opts.Progress; p != nil && len(ob.Items) > 0 {
		ru.e.progMu.Lock()
		p(Progress{ID: ru.r.ID, Done: done, Total: ru.total})
		ru.e.progMu.Unlock()
	}
}

func (w *worker) addCalendar(cs *CalendarStep) {
	ru := w.ru
	if len(cs.Decisions) > 0 {
		ru.mu.Lock()
		ru.r.Calendar = append(ru.r.Calendar, cs.Decisions...)
		ru.mu.Unlock()
	}
	w.pend = append(w.pend, Entry{Kind: EntryCalendar, Calendar: cs})
}

// seen reports whether a selected copy must be left alone: it has an
// outcome already (resume) or this job produced it (a copy moved during
// the search turning up again at its destination).
func (m *mbRun) seen(a mailbox.Address) bool {
	return (m.res != nil && m.res.handled[a]) || m.produced[a]
}

func (m *mbRun) isRetry(a mailbox.Address) bool { return m.res != nil && m.res.failed[a] }

// doCriteria selects and acts on the copies of one mailbox. Its last batch
// is returned prepared (intent queued, not yet durable) for the caller to
// flush and execute.
func (w *worker) doCriteria(ctx context.Context, m *mbRun, exact []mailbox.Address) (*pendingBatch, error) {
	ru := w.ru
	a := ru.r.Action
	c := effective(a, ru.r.Selection.Criteria)
	dest := ru.e.destination(a)
	bs := ru.e.opts.BatchSize
	// The copies go to the worker's arena; a batch is the arena's tail. A
	// batch acted on at once gives its room back; the last one stays until
	// the group is done.
	start := len(w.arena)
	tail := func() []item { return w.arena[start:len(w.arena):len(w.arena)] }
	found := ru.e.search(ctx, m.mailbox, c, exact)
	if msgs, ok := ru.pre[m.mailbox]; ok {
		found = func(yield func(mailbox.Message, error) bool) {
			for _, msg := range msgs {
				if !yield(msg, nil) {
					return
				}
			}
		}
	}
	for msg, err := range found {
		if err != nil {
			return nil, fmt.Errorf("remediation: search %s: %w", m.mailbox, err)
		}
		if m.seen(msg.Address) {
			continue
		}
		if !w.classify(m, &msg) {
			continue
		}
		w.arena = append(w.arena, item{addr: msg.Address, msgID: msg.MessageID, role: msg.Role, size: msg.Size, retry: m.isRetry(msg.Address)})
		if len(w.arena)-start >= bs {
			if err := w.batch(ctx, m, dest, tail(), true); err != nil {
				return nil, err
			}
			w.arena = w.arena[:start]
		}
	}
	if len(w.arena) > start {
		return w.prepare(ctx, m, dest, tail())
	}
	return nil, nil
}

// classify applies the action's guard to msg; false means it was decided
// without a backend call (queued in m.skipped).
func (w *worker) classify(m *mbRun, msg *mailbox.Message) bool {
	reason, already := w.ru.e.guard(w.ru.r.Action, msg)
	switch {
	case already:
		m.skipped = append(m.skipped, Outcome{Copy: msg.Address, To: msg.Address, MessageID: msg.MessageID, Kind: AlreadyInDestination, Retry: m.isRetry(msg.Address)})
		return false
	case reason != "":
		m.skipped = append(m.skipped, Outcome{Copy: msg.Address, MessageID: msg.MessageID, Kind: Skipped, Detail: reason, Retry: m.isRetry(msg.Address)})
		return false
	}
	return true
}

func (w *worker) doCopies(ctx context.Context, m *mbRun, addrs []mailbox.Address) error {
	ru := w.ru
	e := ru.e
	// Learn each copy's Message-ID, then its role and summary by a search.
	ids := map[mailbox.Address]string{}
	noID := map[mailbox.Address]*mailbox.Parsed{}
	var idList []string
	var todo []mailbox.Address
	for _, a := range addrs {
		if m.seen(a) {
			continue
		}
		raw, err := e.mail.Fetch(ctx, a)
		if err != nil {
			if errors.Is(err, mailbox.ErrUIDValidity) {
				// The folder was renumbered since the copy was picked: it
				// may still be there under another UID, and which one
				// cannot be told without its Message-ID. Not reported
				// not found, which would let the action complete.
				m.skipped = append(m.skipped, Outcome{Copy: a, Kind: Failed, Retry: m.isRetry(a),
					Detail: "its folder was renumbered (UIDVALIDITY changed) since the copy was picked, so it cannot be told from the others; pick it again"})
				w.ru.fail(fmt.Errorf("remediation: %s: %w", a, err), false)
				continue
			}
			if errors.Is(err, mailbox.ErrNotFound) {
				m.skipped = append(m.skipped, Outcome{Copy: a, Kind: NotFound, Detail: "moved or deleted since selection", Retry: m.isRetry(a)})
				continue
			}
			return fmt.Errorf("remediation: fetch %s: %w", a, err)
		}
		p, _ := mailbox.ParseHeader(raw)
		id := ""
		if p != nil {
			id = p.MessageID
		} else {
			p = &mailbox.Parsed{}
		}
		ids[a] = id
		if id != "" {
			idList = append(idList, id)
		} else {
			noID[a] = p
		}
		todo = append(todo, a)
	}
	found := map[mailbox.Address]mailbox.Message{}
	search := func(c mailbox.Criteria) error {
		for msg, err := range e.mail.Search(ctx, m.mailbox, c) {
			if err != nil {
				return fmt.Errorf("remediation: search %s: %w", m.mailbox, err)
			}
			found[msg.Address] = msg
		}
		return nil
	}
	if len(idList) > 0 {
		if err := search(mailbox.Criteria{MessageIDs: idList}); err != nil {
			return err
		}
	}
	// A copy without a Message-ID is found in its folder by sender, else
	// subject, to learn its role: the guards depend on it.
	for a, p := range noID {
		c := mailbox.Criteria{Folders: []string{a.Folder}}
		switch {
		case p.From != "":
			c.Senders = []string{p.From}
		case strings.TrimSpace(p.Subject) != "":
			c.Subject = p.Subject
		default:
			continue
		}
		if err := search(c); err != nil {
			return err
		}
	}
	dest := e.destination(ru.r.Action)
	var batch []item
	for _, a := range todo {
		msg, ok := found[a]
		if !ok {
			// Without its role the guards cannot be applied (it could be
			// in quarantine, in a Sent folder, in evidence): leave it.
			m.skipped = append(m.skipped, Outcome{Copy: a, MessageID: ids[a], Kind: Skipped, Retry: m.isRetry(a),
				Detail: "its folder's role could not be learnt by a search of the mailbox, so the guards cannot be applied"})
			continue
		}
		if !w.classify(m, &msg) {
			continue
		}
		batch = append(batch, item{addr: a, msgID: msg.MessageID, role: msg.Role, size: msg.Size, retry: m.isRetry(a)})
		if len(batch) >= e.opts.BatchSize {
			if err := w.batch(ctx, m, dest, batch, false); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return w.batch(ctx, m, dest, batch, false)
	}
	return nil
}

func (w *worker) doUndo(ctx context.Context, m *mbRun, its []Outcome) error {
	by := map[string][]item{}
	var order []string
	for _, o := range its {
		if m.seen(o.To) {
			continue
		}
		f := o.Copy.Folder
		if by[f] == nil {
			order = append(order, f)
		}
		by[f] = append(by[f], item{addr: o.To, msgID: o.MessageID, retry: m.isRetry(o.To)})
	}
	bs := w.ru.e.opts.BatchSize
	for _, f := range order {
		list := by[f]
		for len(list) > 0 {
			n := min(len(list), bs)
			if err := w.batch(ctx, m, mailbox.InFolder(f), list[:n], false); err != nil {
				return err
			}
			list = list[n:]
		}
	}
	return nil
}

// retryable reports whether a per-copy or batch error may go away on a
// retry.
func retryable(err error) bool {
	return !errors.Is(err, ErrNeedsConfirmation) &&
		!errors.Is(err, mailbox.ErrNotFound) && !errors.Is(err, mailbox.ErrUIDValidity) &&
		!errors.Is(err, mailbox.ErrNoFolder) && !errors.Is(err, mailbox.ErrNoMailbox) &&
		!errors.Is(err, mailbox.ErrUnsupported)
}

// batch acts on copies of one mailbox: intent (durable), backend call,
// outcomes. searching reports that a search of the mailbox is still under
// way, so moved copies must be remembered to be skipped when seen again.
func (w *worker) batch(ctx context.Context, m *mbRun, to mailbox.Location, items []item, searching bool) error {
	pb, err := w.prepare(ctx, m, to, items)
	if err != nil {
		return err
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	return w.execute(ctx, pb, searching)
}

// pendingBatch is a batch whose intent is queued in the worker's pending
// entries; it may be acted on only once they are flushed.
type pendingBatch struct {
	m     *mbRun
	to    mailbox.Location
	items []item
	seq   uint64
	plan  *CalendarStep
}

// prepare queues the intent (and, for a hard delete or an action with
// RemoveInvites, the calendar plan) of a batch.
func (w *worker) prepare(ctx context.Context, m *mbRun, to mailbox.Location, items []item) (*pendingBatch, error) {
	ru := w.ru
	if ru.limit >= 0 && ru.selected.Add(int64(len(items))) > ru.limit {
		ru.fatal.Store(true)
		return nil, fmt.Errorf("%w: the selection grew past %d copies while the action ran; nothing more was acted on",
			ErrNeedsConfirmation, ru.limit)
	}
	seq := atomic.AddUint64(&ru.st.seq, 1)
	m.batches++
	in := &Intent{RecordID: ru.r.ID, Seq: seq, Mailbox: m.mailbox, To: to, Copies: make([]IntentCopy, len(items))}
	for i, it := range items {
		in.Copies[i] = IntentCopy{Folder: it.addr.Folder, UIDValidity: it.addr.UIDValidity, UID: it.addr.UID, MessageID: it.msgID, Role: it.role}
	}
	pb := &pendingBatch{m: m, to: to, items: items, seq: seq}
	if ru.r.Action.spec().purgesInvites || ru.r.RemoveInvites {
		// Planned without a calendar store too, so that the record says
		// which invites' entries were not checked.
		refs, err := w.planInvites(ctx, m.mailbox, items)
		if err != nil {
			return nil, err
		}
		if len(refs) > 0 {
			pb.plan = &CalendarStep{RecordID: ru.r.ID, Seq: seq, Plan: refs}
		}
	}
	w.pend = append(w.pend, Entry{Kind: EntryIntent, Intent: in})
	if pb.plan != nil {
		w.pend = append(w.pend, Entry{Kind: EntryCalendar, Calendar: pb.plan})
	}
	return pb, nil
}

// execute makes the backend call of a batch whose intent is durable and
// queues its outcomes.
func (w *worker) execute(ctx context.Context, pb *pendingBatch, searching bool) error {
	ru := w.ru
	e := ru.e
	a := ru.r.Action
	m, to, items, seq := pb.m, pb.to, pb.items, pb.seq
	addrs := w.addrs[:0]
	for _, it := range items {
		addrs = append(addrs, it.addr)
	}
	w.addrs = addrs[:0]
	outs := w.newOuts(len(items))
	if to.Role == mailbox.RoleNone && to.Folder == "" {
		errs, err := e.mail.Expunge(ctx, addrs)
		if err == nil && len(errs) != len(addrs) {
			err = fmt.Errorf("remediation: store returned %d results for %d copies", len(errs), len(addrs))
		}
		if err != nil {
			return w.batchError(m, seq, items, fmt.Errorf("remediation: purge in %s: %w", m.mailbox, err))
		}
		for i, it := range items {
			outs[i] = w.outcome(m, it, mailbox.Address{}, errs[i])
		}
	} else {
		moved, err := e.mail.Move(ctx, addrs, to)
		if err == nil && len(moved) != len(addrs) {
			err = fmt.Errorf("remediation: store returned %d results for %d copies", len(moved), len(addrs))
		}
		if err != nil {
			return w.batchError(m, seq, items, fmt.Errorf("remediation: move in %s to %s: %w", m.mailbox, to, err))
		}
		for i, it := range items {
			outs[i] = w.outcome(m, it, moved[i].To, moved[i].Err)
			if searching && !moved[i].To.IsZero() {
				if m.produced == nil {
					m.produced = map[mailbox.Address]bool{}
				}
				m.produced[moved[i].To] = true
			}
		}
	}
	// Copies whose folder was renumbered since selection are found again
	// below; they get their outcomes there, under their new address.
	var stale []item
	final := outs
	for i, it := range items {
		if outs[i].Kind == 0 {
			stale = append(stale, it)
			if len(stale) == 1 {
				final = make([]Outcome, 0, len(outs)-1)
				final = append(final, outs[:i]...)
			}
		} else if len(stale) > 0 {
			final = append(final, outs[i])
		}
	}
	if len(m.skipped) > 0 {
		final = append(m.skipped, final...)
		m.skipped = nil
	}
	if m.markHandled && m.res != nil {
		// These copies (and where they went) are handled, even when a
		// later step (a calendar step) flushes the outcomes before the
		// caller could look at them.
		for _, o := range final {
			if o.Kind != Failed {
				m.res.handled[o.Copy] = true
				if !o.To.IsZero() {
					m.res.handled[o.To] = true
				}
			}
		}
	}
	w.addOutcomes(&OutcomeBatch{RecordID: ru.r.ID, Seq: seq, Mailbox: m.mailbox, Items: final})
	if e.cal != nil && a.spec().releases {
		w.applyReleased(ctx, seq, m.mailbox, items, outs)
	}
	if pb.plan != nil {
		if err := w.removeInvites(ctx, pb.plan); err != nil {
			return err
		}
	}
	if len(stale) > 0 {
		return w.refind(ctx, m, to, stale, searching)
	}
	return nil
}

// refind looks again, by Message-ID and size, for copies whose folder was
// renumbered (its UIDVALIDITY changed) between their selection and the
// backend call, and acts on those still in that folder in a new batch:
// the message is still there under a new UID, and an action that called
// it not found would complete with the message left in place. A copy not
// in its folder any more is not found; one without a Message-ID, or
// renumbered away a second time, failed.
func (w *worker) refind(ctx context.Context, m *mbRun, to mailbox.Location, stale []item, searching bool) error {
	ru := w.ru
	var outs []Outcome
	var redo []item
	claimed := map[mailbox.Address]bool{}
	byFolder := map[string][]string{}
	for _, it := range stale {
		if it.msgID != "" && !it.refound && !slices.Contains(byFolder[it.addr.Folder], it.msgID) {
			byFolder[it.addr.Folder] = append(byFolder[it.addr.Folder], it.msgID)
		}
	}
	hits := map[string][]mailbox.Message{} // by folder
	for f, ids := range byFolder {
		for msg, err := range ru.e.mail.Search(ctx, m.mailbox, mailbox.Criteria{MessageIDs: ids, Folders: []string{f}}) {
			if err != nil {
				if errors.Is(err, mailbox.ErrNoFolder) || errors.Is(err, mailbox.ErrNoMailbox) {
					break
				}
				return fmt.Errorf("remediation: find again in %s of %s: %w", f, m.mailbox, err)
			}
			if msg.Address.Folder == f {
				hits[f] = append(hits[f], msg)
			}
		}
	}
	for _, it := range stale {
		o := Outcome{Copy: it.addr, MessageID: it.msgID, Retry: it.retry}
		switch {
		case it.msgID == "":
			o.Kind, o.Detail = Failed, "its folder was renumbered (UIDVALIDITY changed) since selection, and without a Message-ID the copy cannot be found again; select it again"
		case it.refound:
			o.Kind, o.Detail = Failed, "its folder was renumbered (UIDVALIDITY changed) again while the copy was being found again; select it again"
		default:
			var hit *mailbox.Message
			for i := range hits[it.addr.Folder] {
				h := &hits[it.addr.Folder][i]
				if claimed[h.Address] || m.seen(h.Address) || h.Address.UIDValidity == it.addr.UIDValidity ||
					mailbox.NormalizeMessageID(h.MessageID) != mailbox.NormalizeMessageID(it.msgID) ||
					(it.size > 0 && h.Size > 0 && h.Size != it.size) {
					continue
				}
				hit = h
				break
			}
			if hit == nil {
				o.Kind, o.Detail = NotFound, "its folder was renumbered (UIDVALIDITY changed) since selection, and the message is no longer in it"
				break
			}
			claimed[hit.Address] = true
			if searching {
				// A search still under way may report it again.
				if m.produced == nil {
					m.produced = map[mailbox.Address]bool{}
				}
				m.produced[hit.Address] = true
			}
			redo = append(redo, item{addr: hit.Address, msgID: hit.MessageID, role: hit.Role, size: hit.Size, retry: it.retry, refound: true})
			continue
		}
		if o.Kind == Failed {
			ru.fail(fmt.Errorf("remediation: %s: %s", it.addr, o.Detail), false)
		}
		outs = append(outs, o)
	}
	if len(outs) > 0 {
		w.addOutcomes(&OutcomeBatch{RecordID: ru.r.ID, Mailbox: m.mailbox, Items: outs})
	}
	if len(redo) == 0 {
		return nil
	}
	// Counted once against the limit: they were counted when selected.
	ru.selected.Add(-int64(len(redo)))
	return w.batch(ctx, m, to, redo, searching)
}

// batchError handles a backend call that failed as a whole: every copy of
// the batch failed, and is counted so. A retryable error leaves the intent
// in flight, as after a crash (the failures are journaled without its
// sequence number; the call may have taken effect in part): [Engine.Resume]
// reconciles it, and the copies' outcomes then replace the failures.
// Otherwise every copy failed for good.
func (w *worker) batchError(m *mbRun, seq uint64, items []item, err error) error {
	outs := make([]Outcome, len(items))
	for i, it := range items {
		outs[i] = Outcome{Copy: it.addr, MessageID: it.msgID, Kind: Failed, Detail: err.Error(), Retry: it.retry}
	}
	if retryable(err) {
		w.addOutcomes(&OutcomeBatch{RecordID: w.ru.r.ID, Mailbox: m.mailbox, Items: outs})
		return err
	}
	w.ru.fail(err, false)
	w.addOutcomes(&OutcomeBatch{RecordID: w.ru.r.ID, Seq: seq, Mailbox: m.mailbox, Items: outs})
	return nil
}

// outcome turns one backend result into an outcome.
func (w *worker) outcome(m *mbRun, it item, to mailbox.Address, err error) Outcome {
	o := Outcome{Copy: it.addr, MessageID: it.msgID, Retry: it.retry}
	switch {
	case err == nil && !to.IsZero() && to == it.addr:
		o.Kind, o.To = AlreadyInDestination, to
	case err == nil:
		o.Kind, o.To = Succeeded, to
	case errors.Is(err, mailbox.ErrNotFound):
		o.Kind, o.Detail = NotFound, "moved or deleted since selection"
		if w.ru.r.Action == Undo {
			o.Detail = "moved since the action; left where it is"
		}
	case errors.Is(err, mailbox.ErrUIDValidity) && w.ru.r.Action != Undo:
		// Left without a kind: execute finds the copy again.
	case errors.Is(err, mailbox.ErrUIDValidity):
		o.Kind, o.Detail = NotFound, "folder UIDVALIDITY changed since the action; left where it is"
	default:
		o.Kind, o.Detail = Failed, err.Error()
		if retryable(err) {
			m.failed = true
		}
		w.ru.fail(fmt.Errorf("remediation: %s: %w", it.addr, err), retryable(err))
	}
	return o
}

// afterAction calls [Options.AfterAction] for the finished record r.
func (e *Engine) afterAction(ctx context.Context, r *Record) {
	if e.opts.AfterAction == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	rec := r.clone()
	err := safeCall(func() error { return e.opts.AfterAction(ctx, rec, e.Outcomes(ctx, rec.ID)) })
	if err != nil {
		e.log.Warn("remediation: after-action callback failed", "id", r.ID, "err", err)
	}
}

// safeCall calls fn and turns a panic into an error.
func safeCall(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn()
}
