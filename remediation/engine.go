package remediation

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Options configure an [Engine]. A nil pointer is the same as a zero value;
// every zero field takes the default its comment gives.
type Options struct {
	// Logger receives the engine's logs (action ids, counts, errors; never
	// message bodies or credentials). nil discards them.
	Logger *slog.Logger
	// Workers is the number of mailboxes worked on in parallel; default
	// 16. Workers also share the journal's fsyncs (group commit), so more
	// of them hide its latency.
	Workers int
	// BatchSize is the most copies of one mailbox moved by one backend
	// call (and journaled as one intent); default 500.
	BatchSize int
	// BlastRadius is the number of selected copies above which a request
	// must set Confirm; default 10,000; negative disables the check. It is
	// checked before the action starts: a first pass counts up to it,
	// searching Workers mailboxes at a time, and keeps what it found, and
	// the action then works on the copies counted without searching those
	// mailboxes again (one pass, not two). It is checked again while the
	// action runs: an action whose selection grows past it meanwhile (in
	// mailboxes the count did not search) stops before acting on more,
	// with ErrNeedsConfirmation.
	BlastRadius int
	// ApprovalTTL is how long a proposed action waits for approval before
	// it expires; default one week.
	ApprovalTTL time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Progress, when set, is called after each batch with the copies done
	// so far. Calls are serialised; a slow callback slows the action.
	Progress func(Progress)
	// EvidenceOnHardDelete makes a hard delete move each copy to the
	// mailbox's admin-only evidence folder (RoleEvidence) instead of
	// expunging it.
	EvidenceOnHardDelete bool
	// FourEyes says which proposals need an approver other than their
	// actor; the zero value is [FourEyesDefault].
	FourEyes FourEyes
	// Narrower, when set, names the mailboxes a selection by criteria
	// must search, out of those it would search otherwise (an index of
	// the mail, such as package hunt's). Every mailbox it names is still
	// searched on the server, so it narrows the work, never the match.
	// When it fails, every mailbox is searched. nil searches every
	// mailbox.
	Narrower Narrower
	// AfterAction, when set, is called after each action this engine
	// runs has ended (whatever its status: completed, partial, failed,
	// or stopped by a cancelled ctx), once its final record is
	// journaled: actions of [Engine.Execute], [Engine.Start],
	// [Engine.Approve], [Engine.Undo] and [Engine.Resume], and so those
	// of detection rules and automation. r is the final record and
	// outcomes streams its outcomes from the journal (as
	// [Engine.Outcomes] does, read only when iterated). An events index
	// learns from it where copies went, which detections fired and
	// which clusters were acted on (package hunt's RecordActions).
	//
	// It is called in the goroutine that ran the action, holding no
	// lock of the engine and no lease, before Execute (or Approve, Undo,
	// Resume) returns; calls for different actions may run at the same
	// time. ctx is the action's context without its cancellation: the
	// callback bounds its own time. An error is logged, never returned
	// to the caller: the action has happened. A resumed action is
	// reported again, with all its outcomes. Proposals declined or
	// expired, which never ran, are not reported.
	AfterAction func(ctx context.Context, r *Record, outcomes iter.Seq2[Outcome, error]) error
}

// Narrower names the mailboxes that can hold copies a criteria selects.
// Implementations are safe for concurrent use.
type Narrower interface {
	// Mailboxes returns, in their order, the mailboxes of mailboxes that
	// must be searched for c: every one that may hold a copy c selects.
	// Leaving out a mailbox that holds one makes an action miss it.
	Mailboxes(ctx context.Context, c mailbox.Criteria, mailboxes []string) ([]string, error)
}

// Locator is a [Narrower] that also knows where the copies are (an index
// of the mail whose view of a mailbox is current). When the mail store is
// a [mailbox.CopySearcher], a selection by criteria then matches the
// criteria against those copies alone, on the server, in each mailbox the
// Locator gives copies for, instead of searching the mailbox; a mailbox
// where one of them is gone (moved or deleted since) is searched. Every
// copy acted on is still matched on the server first.
type Locator interface {
	Narrower
	// Locate returns, in their order, the mailboxes of mailboxes that must
	// be searched for c (those Mailboxes returns), each with the copies
	// the index holds there when it vouches that no other copy in the
	// mailbox can match c; with nil copies the mailbox is searched.
	Locate(ctx context.Context, c mailbox.Criteria, mailboxes []string) ([]Located, error)
}

// Located is one mailbox a selection searches, as a [Locator] gives it.
type Located struct {
	// Mailbox is the mailbox owner.
	Mailbox string
	// Copies, when not nil, are every copy in Mailbox that the criteria
	// may select; nil means search the mailbox.
	Copies []mailbox.Address
}

// FourEyes is the four-eyes rule of [Engine.Approve]: which proposals
// need an approver other than their actor (compared without case and
// surrounding space). [Engine.Approve] refuses such a proposal approved by
// its own actor with [ErrFourEyes] and leaves it pending. Actions executed
// directly ([Engine.Execute], and automation's own decisions) are not
// proposals: the rule does not apply to them.
type FourEyes uint8

// Four-eyes rules.
const (
	// FourEyesDefault: a proposed [HardDelete], and any proposal whose
	// selection is above the blast-radius limit (a Confirm proposal
	// selecting more than [Options.BlastRadius] or its MaxCopies),
	// needs another approver.
	FourEyesDefault FourEyes = iota
	// FourEyesOff turns the rule off: an actor may approve its own
	// proposals.
	FourEyesOff
	// FourEyesAll widens the rule to every proposal.
	FourEyesAll
)

// Engine carries out remediation actions against a mail store (and a
// calendar store for invite handling) and keeps the action center in a
// [Journal]. An Engine is safe for concurrent use by multiple goroutines.
type Engine struct {
	mail mailbox.Store
	cal  calendar.Store
	j    Journal
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	records map[string]*state
	progMu  sync.Mutex
	// compactMu lets one Compact run at a time: it relies on the journal
	// positions it scanned.
	compactMu sync.Mutex

	// Set when the journal is shared with other engines (see shared.go).
	follower Follower
	leaser   Leaser
	syncMu   sync.Mutex
	mark     string // the Follower's mark after the last sync
	// busy are the mailbox leases this engine holds, for the action
	// working on them: the lease is the engine's, so two of its actions
	// take turns on a mailbox here.
	busyMu sync.Mutex
	busy   map[string]bool

	// noneDue reports that no pending record expires before nextDue:
	// expire then has nothing to look at. Guarded by mu; cleared when a
	// record becomes pending (see pending).
	noneDue bool
	nextDue time.Time

	// ended is closed, and replaced, whenever an action stops running
	// in this process (see Wait). Guarded by mu.
	ended chan struct{}

	// Actions begun by Start run under bg; Close cancels it.
	bg       context.Context
	cancelBg context.CancelFunc
	bgMu     sync.Mutex // guards closed and the additions to started
	closed   bool
	started  sync.WaitGroup
}

// state is the engine's view of one record.
type state struct {
	r Record
	// running is set while a goroutine of this process works on it.
	running bool
	// seq is the last batch sequence number handed out.
	seq uint64
}

// New returns an engine over mail (required), cal (nil: calendar entries
// are never touched) and j (required). It replays j to rebuild the action
// center; unfinished actions stay as they are until [Engine.Resume]. opts
// may be nil.
func New(mail mailbox.Store, cal calendar.Store, j Journal, opts *Options) (*Engine, error) {
	if mail == nil || j == nil {
		return nil, fmt.Errorf("%w: a mail store and a journal are required", ErrInvalidRequest)
	}
	e := &Engine{mail: mail, cal: cal, j: j, records: make(map[string]*state), ended: make(chan struct{})}
	e.bg, e.cancelBg = context.WithCancel(context.Background())
	e.follower, _ = j.(Follower)
	e.leaser, _ = j.(Leaser)
	if opts != nil {
		e.opts = *opts
	}
	if e.opts.Workers <= 0 {
		e.opts.Workers = 16
	}
	if e.opts.BatchSize <= 0 {
		e.opts.BatchSize = 500
	}
	if e.opts.BlastRadius == 0 {
		e.opts.BlastRadius = 10000
	}
	if e.opts.ApprovalTTL <= 0 {
		e.opts.ApprovalTTL = 7 * 24 * time.Hour
	}
	if e.opts.Now == nil {
		e.opts.Now = time.Now
	}
	e.log = e.opts.Logger
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if err := e.load(context.Background()); err != nil {
		return nil, err
	}
	return e, nil
}

// load replays the journal into the record index.
func (e *Engine) load(ctx context.Context) error {
	if e.follower != nil {
		return e.sync(ctx)
	}
	for ent, err := range e.j.Replay(ctx) {
		if err != nil {
			return fmt.Errorf("remediation: replay journal: %w", err)
		}
		e.apply(ent, false)
	}
	return nil
}

// apply adds a journal entry to the record index; with notRunning, not
// to a record this process runs (its runner keeps it). Callers hold e.mu
// or have the engine to themselves.
func (e *Engine) apply(ent Entry, notRunning bool) {
	var s *state
	switch ent.Kind {
	case EntryRecord:
		s = e.records[ent.Record.ID]
	case EntryIntent:
		s = e.records[ent.Intent.RecordID]
	case EntryOutcomes:
		s = e.records[ent.Outcomes.RecordID]
	case EntryCalendar:
		s = e.records[ent.Calendar.RecordID]
	}
	if notRunning && s != nil && s.running {
		return
	}
	switch ent.Kind {
	case EntryRecord:
		if s == nil {
			s = &state{}
			e.records[ent.Record.ID] = s
		}
		s.r = *ent.Record
		if s.r.Status == StatusPending {
			e.pending()
		}
	case EntryIntent:
		if s != nil {
			s.seq = max(s.seq, ent.Intent.Seq)
		}
	case EntryOutcomes:
		if s != nil {
			for i := range ent.Outcomes.Items {
				o := &ent.Outcomes.Items[i]
				s.r.Counts.add(o.Kind, 1)
				if o.Retry {
					s.r.Counts.Failed--
				}
			}
		}
	case EntryCalendar:
		if s != nil {
			s.r.Calendar = append(s.r.Calendar, ent.Calendar.Decisions...)
		}
	}
}

func (e *Engine) now() time.Time { return e.opts.Now().UTC() }

// maxTime is after every time the engine meets.
var maxTime = time.Unix(1<<62, 0)

// Options returns the options e runs with, every default filled in: its
// clock (Now) and its blast-radius limit (BlastRadius) among them, for
// code that acts through e to decide as e does.
func (e *Engine) Options() Options { return e.opts }

func newID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Get returns a copy of the record id, or ErrNotFound. id may be
// abbreviated: a prefix of one action's id, or of the random tail after
// its "-" (as an action table prints it), names that action; one that
// names several gives ErrAmbiguous.
func (e *Engine) Get(ctx context.Context, id string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := e.sync(ctx); err != nil {
		return nil, err
	}
	e.expire(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.find(id)
	if err != nil {
		return nil, err
	}
	return s.r.clone(), nil
}

// find returns the state of the action id, which may be abbreviated as
// [Engine.Get] says. Callers hold e.mu.
func (e *Engine) find(id string) (*state, error) {
	if s := e.records[id]; s != nil {
		return s, nil
	}
	if strings.TrimSpace(id) == "" {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	var found *state
	var n int
	for full, s := range e.records {
		_, tail, _ := strings.Cut(full, "-")
		if strings.HasPrefix(full, id) || (tail != "" && strings.HasPrefix(tail, id)) {
			found = s
			n++
		}
	}
	switch n {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	case 1:
		return found, nil
	}
	return nil, fmt.Errorf("%w: %q matches %d actions; give more of the id", ErrAmbiguous, id, n)
}

// Query streams copies of the records f selects, oldest first.
func (e *Engine) Query(ctx context.Context, f Filter) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		if err := e.sync(ctx); err != nil {
			yield(nil, err)
			return
		}
		e.expire(ctx)
		e.mu.Lock()
		var out []*Record
		for _, s := range e.records {
			if f.match(&s.r) {
				out = append(out, s.r.clone())
			}
		}
		e.mu.Unlock()
		slices.SortFunc(out, func(a, b *Record) int {
			return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
		})
		for _, r := range out {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Outcomes streams the per-copy outcomes of the action id from the
// journal, in the order they were recorded. A copy that failed and was
// retried by [Engine.Resume] appears twice: the failure, then the retry
// (Outcome.Retry set). id may be abbreviated as for [Engine.Get].
func (e *Engine) Outcomes(ctx context.Context, id string) iter.Seq2[Outcome, error] {
	return func(yield func(Outcome, error) bool) {
		if err := e.sync(ctx); err != nil {
			yield(Outcome{}, err)
			return
		}
		e.mu.Lock()
		s, err := e.find(id)
		if err == nil {
			id = s.r.ID
		}
		e.mu.Unlock()
		if err != nil {
			yield(Outcome{}, err)
			return
		}
		for ent, err := range e.j.Replay(ctx) {
			if err != nil {
				yield(Outcome{}, err)
				return
			}
			if ent.Kind != EntryOutcomes || ent.Outcomes.RecordID != id {
				continue
			}
			for _, o := range ent.Outcomes.Items {
				if !yield(o, nil) {
					return
				}
			}
		}
	}
}

// save journals a snapshot of the record (durably). Callers hold no lock.
func (e *Engine) save(ctx context.Context, rs ...*Record) error {
	ents := make([]Entry, len(rs))
	for i, r := range rs {
		ents[i] = Entry{Kind: EntryRecord, Record: r}
	}
	if err := e.j.Append(ctx, ents...); err != nil {
		return fmt.Errorf("remediation: journal: %w", err)
	}
	return nil
}

// expire marks pending records past their expiry as expired.
func (e *Engine) expire(ctx context.Context) { e.expireHolding(ctx, "") }

// pending notes that a record became pending: expire looks again. Callers
// hold e.mu.
func (e *Engine) pending() { e.noneDue = false }

// expireHolding is expire for a caller that holds the action lease of
// the record held (a decision): it is not given back here.
func (e *Engine) expireHolding(ctx context.Context, held string) {
	now := e.now()
	due := func(s *state) bool {
		return s.r.Status == StatusPending && !s.r.Expires.IsZero() && !now.Before(s.r.Expires)
	}
	e.mu.Lock()
	quiet := e.noneDue && now.Before(e.nextDue)
	e.mu.Unlock()
	if quiet {
		return // nothing pending is due: no scan of every record
	}
	var leased map[string]bool
	if e.leaser != nil {
		var give []string
		var ok bool
		if leased, give, ok = e.leaseDue(ctx, due, held); !ok {
			return
		}
		defer e.release(give...)
	}
	e.mu.Lock()
	var exp []*Record
	left := false // a due record left pending (leased elsewhere)
	var next time.Time
	for id, s := range e.records {
		switch {
		case due(s) && (leased == nil || leased[id]):
			s.r.Status = StatusExpired
			s.r.Finished = now
			exp = append(exp, s.r.clone())
		case due(s):
			left = true
		case s.r.Status == StatusPending && !s.r.Expires.IsZero() && (next.IsZero() || s.r.Expires.Before(next)):
			next = s.r.Expires
		}
	}
	if !left {
		e.noneDue = true
		e.nextDue = next
		if next.IsZero() {
			e.nextDue = maxTime
		}
	}
	e.mu.Unlock()
	if len(exp) > 0 {
		if err := e.save(context.WithoutCancel(ctx), exp...); err != nil {
			e.log.Error("remediation: journal expiry", "err", err)
		}
		for _, r := range exp {
			e.log.Info("remediation: pending action expired", "id", r.ID)
		}
	}
}

// newRecord validates req and returns a record for it.
func (e *Engine) newRecord(req Request) (*Record, error) {
	if !req.Action.Valid() {
		return nil, fmt.Errorf("%w: unknown action %q", ErrInvalidRequest, req.Action)
	}
	if strings.TrimSpace(req.Actor) == "" {
		return nil, fmt.Errorf("%w: an actor is required", ErrInvalidRequest)
	}
	sel := req.Selection
	switch {
	case sel.Criteria != nil && len(sel.Copies) > 0:
		return nil, fmt.Errorf("%w: set criteria or copies, not both", ErrInvalidRequest)
	case sel.Criteria != nil:
		if err := sel.Criteria.ValidateSelection(); err != nil {
			return nil, fmt.Errorf("remediation: selection refused: %w", err)
		}
	case len(sel.Copies) > 0:
		for _, a := range sel.Copies {
			if a.Mailbox == "" || a.Folder == "" || a.UID == 0 {
				return nil, fmt.Errorf("%w: incomplete copy address %s", ErrInvalidRequest, a)
			}
		}
	default:
		return nil, ErrEmptySelection
	}
	if len(req.Recipients) > 0 && !req.Action.spec().recipients {
		return nil, fmt.Errorf("%w: %s", ErrInvalidRequest, refuseRecipients)
	}
	if req.RemoveInvites && !req.Action.spec().removeInvites {
		return nil, fmt.Errorf("%w: %s", ErrInvalidRequest, refuseRemoveInvites)
	}
	src := req.Source
	if src == "" {
		src = SourceManual
	}
	if src == SourceDetectionRule && req.RuleName == "" {
		return nil, fmt.Errorf("%w: a detection-rule request needs the rule name", ErrInvalidRequest)
	}
	now := e.now()
	r := &Record{
		ID:            newID(now),
		Name:          req.Name,
		Description:   req.Description,
		Severity:      req.Severity,
		Source:        src,
		Action:        req.Action,
		Actor:         req.Actor,
		RuleName:      req.RuleName,
		Cluster:       req.Cluster,
		Created:       now,
		Selection:     sel,
		Confirm:       req.Confirm,
		RemoveInvites: req.RemoveInvites,
		MaxCopies:     req.MaxCopies,
	}
	for _, rc := range req.Recipients {
		rc = strings.ToLower(strings.TrimSpace(rc))
		if !slices.Contains(r.Recipients, rc) {
			r.Recipients = append(r.Recipients, rc)
		}
	}
	if r.Name == "" {
		r.Name = string(req.Action)
	}
	// A copy listed twice is one copy: one outcome, counted once.
	r.Selection.Copies = nil
	seenCopy := make(map[mailbox.Address]bool, len(sel.Copies))
	for _, a := range sel.Copies {
		if !seenCopy[a] {
			seenCopy[a] = true
			r.Selection.Copies = append(r.Selection.Copies, a)
		}
	}
	r.Selection.Mailboxes = nil
	for _, mb := range sel.Mailboxes {
		if !slices.Contains(r.Selection.Mailboxes, mb) {
			r.Selection.Mailboxes = append(r.Selection.Mailboxes, mb)
		}
	}
	if sel.Criteria != nil {
		c := sel.Criteria.Clone()
		r.Selection.Criteria = &c
	}
	return r, nil
}

// DryRun reports what sel selects, per mailbox and folder, without acting
// on anything. It searches [Options.Workers] mailboxes at a time, as an
// action does.
func (e *Engine) DryRun(ctx context.Context, sel Selection) (Preview, error) {
	r, err := e.newRecord(Request{Action: SoftDelete, Actor: "dry-run", Selection: sel})
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Folders: map[string]map[string]int64{}}
	err = e.selectAll(ctx, r, func(_ string, msgs []mailbox.Message) bool {
		for _, m := range msgs {
			f := p.Folders[m.Address.Mailbox]
			if f == nil {
				f = map[string]int64{}
				p.Folders[m.Address.Mailbox] = f
			}
			f[m.Address.Folder]++
			p.Total++
		}
		return true
	})
	p.Mailboxes = len(p.Folders)
	return p, err
}

// Preview is the result of [Engine.DryRun].
type Preview struct {
	// Total is the number of copies selected.
	Total int64
	// Mailboxes is the number of mailboxes holding a selected copy.
	Mailboxes int
	// Folders counts the selected copies by mailbox, then folder name.
	Folders map[string]map[string]int64
}

// Execute runs req now, with the actor as the decider ("automation" for
// [SourceAutomation]), and returns its record when it ends. It refuses a
// selection above the blast radius without Confirm (ErrNeedsConfirmation),
// an empty or match-everything one, and a release to a non-recipient
// (ErrNotRecipient), before anything is recorded or moved. The record is
// returned whenever the action was recorded, together with an error that
// joins the failures when the action did not complete.
func (e *Engine) Execute(ctx context.Context, req Request) (*Record, error) {
	r, total, pre, err := e.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	return e.start(ctx, r, total, pre)
}

// Start is [Engine.Execute] that does not wait for the action to end: it
// checks req and refuses it as Execute does (the same errors, before
// anything is recorded or moved), journals the record, running, and
// returns it; the action then runs in the background, its record readable
// by [Engine.Get] and [Engine.Query] meanwhile and [Engine.Wait] waiting
// for its end. ctx bounds the checks only; the action's values come from
// it, its lifetime from the engine: [Engine.Close] waits for it, or stops
// it (it then ends incomplete, and [Engine.Resume] finishes it), as a
// crash would. After Close, Start gives ErrEngineClosed. The errors of
// the action itself are in its record and the engine's log.
func (e *Engine) Start(ctx context.Context, req Request) (*Record, error) {
	if !e.addStarted() {
		return nil, ErrEngineClosed
	}
	r, total, pre, err := e.prepare(ctx, req)
	if err == nil && e.bg.Err() != nil {
		err = ErrEngineClosed // Close stopped the started actions meanwhile
	}
	var st *state
	if err == nil {
		st, err = e.begin(ctx, r)
	}
	if err != nil {
		e.started.Done()
		return nil, err
	}
	out := r.clone()
	// The caller's values, the engine's lifetime.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(e.bg, cancel)
	go func() {
		defer e.started.Done()
		defer cancel()
		defer stop()
		if rec, err := e.run(rctx, st, r, nil, total, pre); err != nil {
			e.log.Warn("remediation: started action ended with errors", "id", rec.ID, "status", rec.Status, "err", err)
		}
	}()
	return out, nil
}

// addStarted counts one more action begun by Start, unless the engine is
// closed.
func (e *Engine) addStarted() bool {
	e.bgMu.Lock()
	defer e.bgMu.Unlock()
	if e.closed {
		return false
	}
	e.started.Add(1)
	return true
}

// prepare validates and checks req for Execute and Start and returns its
// record, decided, with what precheck found.
func (e *Engine) prepare(ctx context.Context, req Request) (*Record, int64, preselection, error) {
	r, err := e.newRecord(req)
	if err != nil {
		return nil, 0, nil, err
	}
	r.DecidedBy = req.Actor
	if r.Source == SourceAutomation {
		r.DecidedBy = DecidedByAutomation
	}
	r.Decided = r.Created
	total, pre, err := e.precheck(ctx, r)
	if err != nil {
		return nil, 0, nil, err
	}
	return r, total, pre, nil
}

// Wait waits until the action id is not running in this engine (begun by
// [Engine.Start], or by a call of another goroutine), or ctx is done, and
// returns its record. It does not wait for a pending or queued action,
// nor for an action another engine runs on a shared journal. id may be
// abbreviated as for [Engine.Get].
func (e *Engine) Wait(ctx context.Context, id string) (*Record, error) {
	for {
		e.mu.Lock()
		s, err := e.find(id)
		if err != nil {
			e.mu.Unlock()
			return nil, err
		}
		if !s.running {
			e.mu.Unlock()
			return e.Get(ctx, s.r.ID)
		}
		ended := e.ended
		e.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// stopped wakes the callers of Wait: an action stopped running. Callers
// hold e.mu.
func (e *Engine) stopped() {
	close(e.ended)
	e.ended = make(chan struct{})
}

// Close waits for the actions begun by [Engine.Start] to end, or for ctx
// to be done: it then stops those still running (each ends incomplete, as
// after a crash, and [Engine.Resume] finishes it) and waits for them to
// stop, and returns ctx's error. Start gives ErrEngineClosed from the
// first call of Close on. Close does not close the journal, and the
// engine's other methods work on; actions run by [Engine.Execute],
// [Engine.Approve] and [Engine.Undo] are bounded by their callers' ctx.
func (e *Engine) Close(ctx context.Context) error {
	e.bgMu.Lock()
	e.closed = true
	e.bgMu.Unlock()
	done := make(chan struct{})
	go func() { e.started.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		e.cancelBg()
		<-done
		return ctx.Err()
	}
}

// Propose records req as pending approval; it expires after
// [Options.ApprovalTTL]. The selection is validated now (and its blast
// radius checked) and selected again when approved.
func (e *Engine) Propose(ctx context.Context, req Request) (*Record, error) {
	r, err := e.newRecord(req)
	if err != nil {
		return nil, err
	}
	if _, _, err := e.precheck(ctx, r); err != nil {
		return nil, err
	}
	r.Status = StatusPending
	r.Expires = r.Created.Add(e.opts.ApprovalTTL)
	if err := e.save(ctx, r); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.records[r.ID] = &state{r: *r.clone()}
	e.pending()
	e.mu.Unlock()
	e.log.Info("remediation: action proposed", "id", r.ID, "action", r.Action, "actor", r.Actor)
	return r, nil
}

// decide moves a pending record to queued (approve) or declined.
func (e *Engine) decide(ctx context.Context, id, approver string, approve bool, reason string) (_ *Record, err error) {
	if strings.TrimSpace(approver) == "" {
		return nil, fmt.Errorf("%w: an approver is required", ErrInvalidRequest)
	}
	if e.leaser != nil {
		// One engine decides: it holds the action's lease, kept for the
		// run when approving.
		full, err := e.claim(ctx, id)
		if err != nil {
			return nil, err
		}
		id = full
		defer func() {
			if !approve || err != nil {
				e.release(actionLease(full))
			}
		}()
	}
	e.expireHolding(ctx, id)
	now := e.now()
	e.mu.Lock()
	s, err := e.find(id)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	id = s.r.ID
	if s.r.Status == StatusExpired {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: %s expired at %s", ErrExpired, id, s.r.Expires.Format(time.RFC3339))
	}
	if s.r.Status != StatusPending {
		st := s.r.Status
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: %s is %s", ErrNotPending, id, st)
	}
	r := s.r.clone()
	r.DecidedBy = approver
	r.Decided = now
	if approve {
		r.Status = StatusQueued
	} else {
		r.Status = StatusDeclined
		r.DeclineReason = reason
		r.Finished = now
	}
	// Claim it so a concurrent decision sees it is no longer pending.
	s.r.Status = r.Status
	e.mu.Unlock()
	if err := e.save(ctx, r); err != nil {
		e.mu.Lock()
		s.r.Status = StatusPending
		e.pending()
		e.mu.Unlock()
		return nil, err
	}
	e.mu.Lock()
	s.r = *r.clone()
	e.mu.Unlock()
	return r, nil
}

// Approve approves the pending action id in the name of approver and runs
// it, as [Engine.Execute] does. An expired action gives ErrExpired, one
// not pending ErrNotPending, and one the four-eyes rule
// ([Options.FourEyes]) keeps from its own actor ErrFourEyes (it stays
// pending). id may be abbreviated as for [Engine.Get].
func (e *Engine) Approve(ctx context.Context, id, approver string) (*Record, error) {
	if err := e.fourEyes(ctx, id, approver); err != nil {
		return nil, err
	}
	r, err := e.decide(ctx, id, approver, true, "")
	if err != nil {
		return nil, err
	}
	id = r.ID
	e.log.Info("remediation: action approved", "id", id, "approver", approver)
	total, pre, err := e.precheck(ctx, r)
	if err != nil {
		defer e.release(actionLease(id))
		r.Status = StatusFailed
		r.Finished = e.now()
		r.Error = err.Error()
		if serr := e.save(context.WithoutCancel(ctx), r); serr != nil {
			return nil, serr
		}
		e.mu.Lock()
		e.records[id].r = *r.clone()
		e.mu.Unlock()
		return r, err
	}
	return e.start(ctx, r, total, pre)
}

// fourEyes refuses approver's approval of the pending action id when the
// four-eyes rule needs another approver for it.
func (e *Engine) fourEyes(ctx context.Context, id, approver string) error {
	if e.opts.FourEyes == FourEyesOff {
		return nil
	}
	e.mu.Lock()
	s, _ := e.find(id)
	var r *Record
	if s != nil && s.r.Status == StatusPending {
		r = s.r.clone()
	}
	e.mu.Unlock()
	if r == nil {
		return nil // decide reports a missing or decided action
	}
	return e.fourEyesCheck(ctx, r, approver)
}

// fourEyesCheck refuses approver's approval of the proposal r (a copy)
// when the four-eyes rule needs another approver for it.
func (e *Engine) fourEyesCheck(ctx context.Context, r *Record, approver string) error {
	if e.opts.FourEyes == FourEyesOff || !strings.EqualFold(strings.TrimSpace(r.Actor), strings.TrimSpace(approver)) {
		return nil
	}
	switch {
	case e.opts.FourEyes == FourEyesAll:
		return fmt.Errorf("%w: %s was proposed by %s", ErrFourEyes, r.ID, r.Actor)
	case r.Action.spec().fourEyes != "":
		return fmt.Errorf("%w: %s is %s proposed by %s", ErrFourEyes, r.ID, r.Action.spec().fourEyes, r.Actor)
	case !r.Confirm:
		return nil // within the limit, or Approve's own check refuses it
	}
	// A confirmed proposal: is its selection above the limit it waived?
	r.Confirm = false
	limit := e.limit(r)
	if limit < 0 {
		return nil
	}
	over := int64(len(r.Selection.Copies)) > limit
	if len(r.Selection.Copies) == 0 && r.Selection.Criteria != nil && r.Selection.Criteria.ValidateSelection() == nil {
		var n int64
		if err := e.selectAll(ctx, r, func(_ string, msgs []mailbox.Message) bool { n += int64(len(msgs)); return n <= limit }); err != nil {
			return err
		}
		over = n > limit
	}
	if over {
		return fmt.Errorf("%w: %s selects more than %d copies and was proposed by %s", ErrFourEyes, r.ID, limit, r.Actor)
	}
	return nil
}

// Decline declines the pending action id in the name of approver. id may
// be abbreviated as for [Engine.Get].
func (e *Engine) Decline(ctx context.Context, id, approver, reason string) (*Record, error) {
	r, err := e.decide(ctx, id, approver, false, reason)
	if err == nil {
		e.log.Info("remediation: action declined", "id", r.ID, "approver", approver)
	}
	return r, err
}

// Undo reverses the finished action id: every copy it moved goes back to
// the folder it came from. A copy moved since is reported NotFound ("moved
// since"), not forced back. An undo of an undo gives ErrUndoUndo, of a hard
// delete ErrIrreversible, of an action already undone ErrAlreadyUndone, of
// an unfinished one ErrNotFinished. The undo is a new record; the two are
// linked by UndoOf and UndoneBy. id may be abbreviated as for [Engine.Get].
func (e *Engine) Undo(ctx context.Context, id, actor string) (*Record, error) {
	if strings.TrimSpace(actor) == "" {
		return nil, fmt.Errorf("%w: an actor is required", ErrInvalidRequest)
	}
	if e.leaser != nil {
		// One engine undoes an action: it holds the action's lease
		// until the undo is journaled.
		full, err := e.claim(ctx, id)
		if err != nil {
			return nil, err
		}
		defer e.release(actionLease(full))
	}
	now := e.now()
	e.mu.Lock()
	s, err := e.find(id)
	if s != nil {
		id = s.r.ID
	}
	switch {
	case err != nil:
	case s.r.Action == Undo:
		err = fmt.Errorf("%w (%s undoes %s)", ErrUndoUndo, id, s.r.UndoOf)
	case s.r.Action.spec().irreversible != "":
		err = fmt.Errorf("%w: %s %s", ErrIrreversible, id, s.r.Action.spec().irreversible)
	case s.r.UndoneBy != "":
		err = fmt.Errorf("%w: %s by %s", ErrAlreadyUndone, id, s.r.UndoneBy)
	case !s.r.Status.Final() || s.r.Incomplete || s.running ||
		s.r.Status == StatusDeclined || s.r.Status == StatusExpired || s.r.Status == StatusCancelled:
		err = fmt.Errorf("%w: %s is %s", ErrNotFinished, id, s.r.Status)
	}
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	u := &Record{
		ID:          newID(now),
		Name:        "Undo: " + s.r.Name,
		Description: "undo of " + id,
		Severity:    s.r.Severity,
		Source:      SourceManual,
		Action:      Undo,
		Actor:       actor,
		DecidedBy:   actor,
		Created:     now,
		Decided:     now,
		UndoOf:      id,
	}
	orig := s.r.clone()
	orig.UndoneBy = u.ID
	total := orig.Counts.Succeeded
	s.r.UndoneBy = u.ID // claim
	e.mu.Unlock()
	u.Status = StatusRunning
	u.Started = now
	if err := e.lease(ctx, u.ID); err != nil {
		e.mu.Lock()
		s.r.UndoneBy = ""
		e.mu.Unlock()
		return nil, err
	}
	if err := e.save(ctx, u, orig); err != nil {
		e.release(actionLease(u.ID))
		e.mu.Lock()
		s.r.UndoneBy = ""
		e.mu.Unlock()
		return nil, err
	}
	e.mu.Lock()
	st := &state{r: *u.clone(), running: true}
	e.records[u.ID] = st
	e.mu.Unlock()
	return e.run(ctx, st, u, nil, total, nil)
}
