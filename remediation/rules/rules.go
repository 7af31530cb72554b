package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// Errors of detection rules. Callers test for them with [errors.Is].
var (
	// ErrInvalid means a rule is malformed: no name, an unknown action
	// or mode, or criteria that are empty or match everything (the error
	// then also wraps mailbox.ErrEmptyCriteria or
	// mailbox.ErrMatchesEverything).
	ErrInvalid = errors.New("rules: invalid detection rule")
	// ErrExists means a rule with the same name is already set.
	ErrExists = errors.New("rules: detection rule already exists")
	// ErrNotFound means no rule has the given name.
	ErrNotFound = errors.New("rules: no such detection rule")
	// ErrClosed means [Set.Close] was called: delivered copies are
	// no longer evaluated.
	ErrClosed = errors.New("rules: detection rules closed")
	// ErrNotSaved means the set's [Store] could not save a change: the
	// change was not made. The error wraps the store's.
	ErrNotSaved = errors.New("rules: detection rules not saved")
)

// Store keeps detection rules across restarts: [Open] loads them, and a
// [Set] with [Options.Store] saves its rules after every change. The
// package hunt/sqlstore implements it beside the events index, on SQLite
// and PostgreSQL. Implementations are safe for concurrent use.
type Store interface {
	// LoadRules returns the rules last saved, in evaluation order; none
	// when none were saved.
	LoadRules(ctx context.Context) ([]Rule, error)
	// SaveRules replaces the saved rules with rules, all of them or
	// none.
	SaveRules(ctx context.Context, rules []Rule) error
}

// Mode says what a rule does with the copies it matches.
type Mode string

// Rule modes.
const (
	// ModePropose records the rule's action as pending approval
	// ([remediation.Engine.Propose]); nothing moves until an approver approves it.
	ModePropose Mode = "propose"
	// ModeExecute runs the rule's action at once ([remediation.Engine.Execute]).
	ModeExecute Mode = "execute"
)

// Rule is a detection rule: criteria, the action taken on the copies they
// match, and whether that action runs or is proposed. Its actions are
// recorded with [remediation.SourceDetectionRule] and the rule's name in
// [remediation.Record.RuleName].
type Rule struct {
	// Name identifies the rule; required and unique within a [Set].
	Name string `json:"name"`
	// Description is copied to the records of the rule's actions.
	Description string `json:"description,omitempty"`
	// Severity is copied to the records of the rule's actions.
	Severity remediation.Severity `json:"severity,omitempty"`
	// Criteria select the copies the rule acts on. They are evaluated
	// exactly ([mailbox.Criteria.Match]) against each delivered copy, and
	// across every mailbox by [Set.Run]. Empty or match-everything
	// criteria are refused.
	Criteria mailbox.Criteria `json:"criteria"`
	// Action is what happens to matching copies; any [remediation.Action.Valid]
	// action.
	Action remediation.Action `json:"action"`
	// Mode is [ModePropose] or [ModeExecute]; required.
	Mode Mode `json:"mode"`
	// Disabled rules are kept but not evaluated on delivery; [Set.Run]
	// still runs them on demand. Rules are enabled unless Disabled.
	Disabled bool `json:"disabled,omitempty"`
	// Confirm acknowledges, for runs on demand, a selection above the
	// engine's blast-radius limit ([remediation.Options.BlastRadius]).
	Confirm bool `json:"confirm,omitempty"`
}

// Validate reports an error wrapping [ErrInvalid] when r cannot be
// used; for refused criteria it also wraps the criteria's error.
func (r *Rule) Validate() error {
	if strings.TrimSpace(r.Name) == "" {
		return fmt.Errorf("%w: a name is required", ErrInvalid)
	}
	if !r.Action.Valid() {
		return fmt.Errorf("%w: rule %q: unknown action %q", ErrInvalid, r.Name, r.Action)
	}
	if r.Mode != ModePropose && r.Mode != ModeExecute {
		return fmt.Errorf("%w: rule %q: mode must be %q or %q, got %q", ErrInvalid, r.Name, ModePropose, ModeExecute, r.Mode)
	}
	if err := r.Criteria.ValidateSelection(); err != nil {
		return fmt.Errorf("%w: rule %q: %w", ErrInvalid, r.Name, err)
	}
	return nil
}

// clone returns a deep copy of r, so that a caller's later changes to the
// criteria's slices do not reach the rule set.
func (r Rule) clone() Rule {
	r.Criteria = r.Criteria.Clone()
	return r
}

// Error is a failure of a rule on delivery (or of a run on demand):
// a copy whose criteria could not be evaluated, or an action the engine
// refused or could not complete. [Set.Errors] keeps the most recent
// ones.
type Error struct {
	// Rule is the rule's name; "" for a failure before any rule was
	// evaluated (for example an unreadable delivery).
	Rule string
	// Copy is the delivered copy; zero for a run on demand or a batch of
	// several copies.
	Copy mailbox.Address
	// Copies is the number of copies the failed action covered.
	Copies int
	// MessageID is the delivered message's id, when known.
	MessageID string
	// RecordID is the action's record when the engine recorded one (an
	// action that ran but did not complete).
	RecordID string
	// Time is when the failure happened.
	Time time.Time
	// Err is the failure.
	Err error
}

// Error describes the failure.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("rules: detection rule")
	if e.Rule != "" {
		fmt.Fprintf(&b, " %q", e.Rule)
	}
	if !e.Copy.IsZero() {
		fmt.Fprintf(&b, " on %s", e.Copy)
	} else if e.Copies > 0 {
		fmt.Fprintf(&b, " on %d copies", e.Copies)
	}
	if e.RecordID != "" {
		fmt.Fprintf(&b, " (action %s)", e.RecordID)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Options configure a [Set]. A nil pointer is the same as a zero
// value; every zero field takes the default its comment gives.
type Options struct {
	// Logger receives rule matches and failures (rule names, copy
	// addresses, message ids, record ids; never bodies). nil discards
	// them.
	Logger *slog.Logger
	// Actor is the actor of the rules' records; default
	// "detection-rules". The decider of an executed rule's action is the
	// actor too; a proposed one is decided by its approver.
	Actor string
	// FolderRole tells the role of the folder a delivered copy is in, so
	// that criteria restricted to folders or roles are evaluated exactly
	// (the mock tenant's FolderRole fits). nil: a copy in a folder named
	// INBOX (any case) has role inbox, any other has no role.
	FolderRole func(owner, folder string) (mailbox.Role, error)
	// Coalesce is how long copies of one message matched by one rule are
	// gathered into one action. Zero (the default) acts on each copy as
	// it is delivered, before OnDeliver returns. See [Set.OnDeliver].
	Coalesce time.Duration
	// MaxBatch is the most copies one coalesced action gathers; when a
	// batch reaches it, it runs at once. Default 1,000.
	MaxBatch int
	// MaxErrors is how many of the most recent failures [Set.Errors]
	// keeps; default 100.
	MaxErrors int
	// Store, when set, saves the rules after every change ([Set.Add],
	// [Set.Remove], [Set.Enable]); a change it cannot save is refused
	// with [ErrNotSaved]. [Open] loads the rules from it. nil keeps the
	// rules in memory only.
	Store Store
}

// Set is a set of detection rules bound to an [remediation.Engine]. It evaluates
// them on delivery ([Set.OnDeliver]) and runs them on demand over
// existing mail ([Set.Run], [Set.RunRule]). Rules are evaluated in the
// order they were added, and every enabled rule whose criteria match a
// copy acts on it: when two executing rules move the same copy, the
// second finds it gone and records it as not found.
//
// A Set is safe for concurrent use by multiple goroutines; OnDeliver
// may be called for several deliveries at once.
type Set struct {
	e    *remediation.Engine
	opts Options
	log  *slog.Logger
	now  func() time.Time // the engine's clock, in UTC

	// base is the context of coalesced actions that run after OnDeliver
	// returned; Close cancels it.
	base   context.Context
	cancel context.CancelFunc

	changeMu sync.Mutex // held by a change while its rules are saved (see change)

	mu sync.Mutex
	// rules are in evaluation order; a *Rule is never changed once in
	// the slice (Enable replaces it), so a snapshot of the pointers is
	// safe to read without the lock.
	rules   []*Rule
	errs    []Error
	dropped int
	batches map[batchKey]*batch
	closed  bool
	wg      sync.WaitGroup // pending timers of coalesced batches
}

type batchKey struct {
	rule      string
	messageID string
}

// batch is the copies of one message one rule matched within the
// coalescing window.
type batch struct {
	key    batchKey
	copies []mailbox.Address
	seen   map[mailbox.Address]bool
	timer  *time.Timer
}

// New returns an empty rule set acting through e (required). opts
// may be nil.
func New(e *remediation.Engine, opts *Options) *Set {
	rs := &Set{e: e, batches: make(map[batchKey]*batch)}
	if e != nil {
		clock := e.Options().Now
		rs.now = func() time.Time { return clock().UTC() }
	}
	if opts != nil {
		rs.opts = *opts
	}
	if strings.TrimSpace(rs.opts.Actor) == "" {
		rs.opts.Actor = "detection-rules"
	}
	if rs.opts.MaxBatch <= 0 {
		rs.opts.MaxBatch = 1000
	}
	if rs.opts.MaxErrors <= 0 {
		rs.opts.MaxErrors = 100
	}
	rs.log = rs.opts.Logger
	if rs.log == nil {
		rs.log = slog.New(slog.DiscardHandler)
	}
	rs.base, rs.cancel = context.WithCancel(context.Background())
	return rs
}

// Open returns a rule set acting through e (required) with the rules
// opts.Store (required) saved before, for example by a process that ran
// before a restart; the set then saves every change there. A saved rule
// that no longer validates fails Open with an error naming it.
func Open(ctx context.Context, e *remediation.Engine, opts *Options) (*Set, error) {
	if opts == nil || opts.Store == nil {
		return nil, errors.New("rules: Open needs Options.Store")
	}
	saved, err := opts.Store.LoadRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("rules: load detection rules: %w", err)
	}
	rs := New(e, opts)
	for _, r := range saved {
		if err := r.Validate(); err != nil {
			rs.cancel()
			return nil, fmt.Errorf("rules: load detection rules: %w", err)
		}
		if rs.indexLocked(r.Name) >= 0 {
			rs.cancel()
			return nil, fmt.Errorf("rules: load detection rules: %w: %q", ErrExists, r.Name)
		}
		c := r.clone()
		rs.rules = append(rs.rules, &c)
	}
	rs.log.Info("rules: detection rules loaded", "rules", len(saved))
	return rs, nil
}

// Add validates r and adds it after the existing rules. A rule with the
// name of an existing one gives ErrExists; an invalid one an error
// wrapping ErrInvalid (see [Rule.Validate]); with [Options.Store], a
// rule the store cannot save [ErrNotSaved] (as for Remove and Enable).
// The rule is copied.
func (rs *Set) Add(r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	err := rs.change(func(list []*Rule) ([]*Rule, error) {
		if indexOf(list, r.Name) >= 0 {
			return nil, fmt.Errorf("%w: %q", ErrExists, r.Name)
		}
		c := r.clone()
		return append(list, &c), nil
	})
	if err != nil {
		return err
	}
	rs.log.Info("rules: detection rule added", "rule", r.Name, "action", r.Action, "mode", r.Mode, "disabled", r.Disabled)
	return nil
}

// Remove removes the rule name, or gives ErrNotFound. Copies it matched
// that wait in a coalescing batch are not acted on.
func (rs *Set) Remove(name string) error {
	err := rs.change(func(list []*Rule) ([]*Rule, error) {
		i := indexOf(list, name)
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return slices.Delete(list, i, i+1), nil
	})
	if err != nil {
		return err
	}
	rs.log.Info("rules: detection rule removed", "rule", name)
	return nil
}

// Enable enables or disables the rule name, or gives ErrNotFound. Copies a
// disabled rule matched that wait in a coalescing batch are not acted on.
func (rs *Set) Enable(name string, enabled bool) error {
	err := rs.change(func(list []*Rule) ([]*Rule, error) {
		i := indexOf(list, name)
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		c := *list[i]
		c.Disabled = !enabled
		list[i] = &c
		return list, nil
	})
	if err != nil {
		return err
	}
	rs.log.Info("rules: detection rule enabled", "rule", name, "enabled", enabled)
	return nil
}

// change applies edit to a copy of the rules and, once the set's store
// (if any) saved the result, makes it the rules in effect: a change the
// store refuses changes nothing. Changes are applied one at a time.
func (rs *Set) change(edit func([]*Rule) ([]*Rule, error)) error {
	rs.changeMu.Lock()
	defer rs.changeMu.Unlock()
	rs.mu.Lock()
	list, err := edit(slices.Clone(rs.rules))
	rs.mu.Unlock()
	if err != nil {
		return err
	}
	if st := rs.opts.Store; st != nil {
		out := make([]Rule, len(list))
		for i, r := range list {
			out[i] = r.clone()
		}
		if err := st.SaveRules(context.WithoutCancel(rs.base), out); err != nil {
			return fmt.Errorf("%w: %w", ErrNotSaved, err)
		}
	}
	rs.mu.Lock()
	rs.rules = list
	rs.mu.Unlock()
	return nil
}

// Rules returns copies of the rules, in evaluation order.
func (rs *Set) Rules() []Rule {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := make([]Rule, len(rs.rules))
	for i := range rs.rules {
		out[i] = rs.rules[i].clone()
	}
	return out
}

// First returns a copy of the first enabled rule, in evaluation order,
// whose criteria match m exactly ([mailbox.Criteria.Match], content
// giving the parsed message when a criterion needs it), and whether
// there is one. It evaluates without acting: it is for callers that
// decide before the message is stored, as the delivery tap does. A rule
// whose criteria cannot be evaluated stops the search with its error.
func (rs *Set) First(m *mailbox.Message, content func() (*mailbox.Parsed, error)) (Rule, bool, error) {
	rs.mu.Lock()
	// A *Rule in the slice is never changed (Enable replaces it): the
	// snapshot is read without the lock and without copies.
	active := slices.Clone(rs.rules)
	rs.mu.Unlock()
	for _, r := range active {
		if r.Disabled {
			continue
		}
		ok, err := r.Criteria.Match(m, content)
		if err != nil {
			return Rule{}, false, fmt.Errorf("rules: rule %q: %w", r.Name, err)
		}
		if ok {
			return r.clone(), true, nil
		}
	}
	return Rule{}, false, nil
}

// Rule returns a copy of the rule name, or ErrNotFound.
func (rs *Set) Rule(name string) (Rule, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	i := rs.indexLocked(name)
	if i < 0 {
		return Rule{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return rs.rules[i].clone(), nil
}

func indexOf(list []*Rule, name string) int {
	return slices.IndexFunc(list, func(r *Rule) bool { return r.Name == name })
}

func (rs *Set) indexLocked(name string) int { return indexOf(rs.rules, name) }

// Errors returns the most recent failures ([Options.MaxErrors] of
// them), oldest first, and how many older ones were dropped.
func (rs *Set) Errors() ([]Error, int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.errs), rs.dropped
}

// keep logs and keeps a failure.
func (rs *Set) keep(re Error) {
	if re.Time.IsZero() {
		re.Time = rs.now()
	}
	rs.log.Error("rules: detection rule failed", "rule", re.Rule, "copy", re.Copy.String(), "copies", re.Copies,
		"message_id", re.MessageID, "record", re.RecordID, "err", re.Err)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.errs) >= rs.opts.MaxErrors {
		n := len(rs.errs) - rs.opts.MaxErrors + 1
		rs.errs = slices.Delete(rs.errs, 0, n)
		rs.dropped += n
	}
	rs.errs = append(rs.errs, re)
}

// OnDeliver evaluates every enabled rule against the copy at addr that
// was just delivered, p being its parsed content; its signature is that
// of the mock tenant's OnDeliver hooks, and any mail transport can call
// it the same way. Matching is exact: [mailbox.Criteria.Match] over the
// copy's summary (p's headers, addr, and the folder's role from
// [Options.FolderRole]) with p as the content. p is only read.
//
// A matching rule acts on that copy alone (a [remediation.Selection] of explicit
// copies), as its mode says. With [Options.Coalesce] zero it acts
// before OnDeliver returns: a campaign delivered to 100 users makes 100
// records. With a positive Coalesce, the copies of one message (by
// Message-ID) one rule matches are gathered for that long from the first
// match, or until [Options.MaxBatch] of them, and acted on by one
// action: one record per message and rule, which is what an approver
// wants to see for a proposal. The copies then stay where they were
// delivered for up to Coalesce; [Set.Flush] acts on every gathered
// batch at once, [Set.Close] too and stops evaluating.
//
// OnDeliver never fails the delivery and never panics: failures (criteria
// that cannot be evaluated, an action refused or not completed, a panic)
// are logged and kept for [Set.Errors]. ctx bounds an action run
// before OnDeliver returns; coalesced actions run with a context that
// only Close cancels.
func (rs *Set) OnDeliver(ctx context.Context, addr mailbox.Address, p *mailbox.Parsed) {
	var msgID string
	defer func() {
		if v := recover(); v != nil {
			rs.keep(Error{Copy: addr, MessageID: msgID, Err: fmt.Errorf("panic: %v", v)})
		}
	}()
	if p == nil {
		rs.keep(Error{Copy: addr, Err: errors.New("no parsed message")})
		return
	}
	msgID = mailbox.NormalizeMessageID(p.MessageID)
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		rs.keep(Error{Copy: addr, MessageID: msgID, Err: ErrClosed})
		return
	}
	active := slices.Clone(rs.rules)
	rs.mu.Unlock()
	if len(active) == 0 {
		return
	}

	m := p.Summary()
	m.Address = addr
	if m.Date.IsZero() {
		m.Date = rs.now()
	}
	m.Role = rs.role(addr, msgID)
	content := func() (*mailbox.Parsed, error) { return p, nil }
	for _, r := range active {
		if r.Disabled {
			continue
		}
		ok, err := r.Criteria.Match(&m, content)
		if err != nil {
			rs.keep(Error{Rule: r.Name, Copy: addr, MessageID: msgID, Err: err})
			continue
		}
		if !ok {
			continue
		}
		rs.log.Info("rules: detection rule matched", "rule", r.Name, "copy", addr.String(), "message_id", msgID)
		if rs.opts.Coalesce <= 0 {
			rs.act(ctx, *r, []mailbox.Address{addr}, msgID)
			continue
		}
		full, closed := rs.gather(*r, addr, msgID)
		if closed {
			rs.keep(Error{Rule: r.Name, Copy: addr, MessageID: msgID, Err: ErrClosed})
			continue
		}
		if full != nil {
			rs.run(ctx, full)
		}
	}
}

// role returns the role of the folder addr is in.
func (rs *Set) role(addr mailbox.Address, msgID string) mailbox.Role {
	if rs.opts.FolderRole == nil {
		if strings.EqualFold(addr.Folder, "INBOX") {
			return mailbox.RoleInbox
		}
		return mailbox.RoleNone
	}
	role, err := rs.opts.FolderRole(addr.Mailbox, addr.Folder)
	if err != nil {
		rs.keep(Error{Copy: addr, MessageID: msgID, Err: fmt.Errorf("folder role: %w", err)})
		return mailbox.RoleNone
	}
	return role
}

// gather adds addr to the batch of (r, msgID). It returns the batch when
// it is full and taken out of the set, for the caller to run; else nil.
// closed reports that Close was called: nothing was gathered.
func (rs *Set) gather(r Rule, addr mailbox.Address, msgID string) (full *batch, closed bool) {
	k := batchKey{rule: r.Name, messageID: msgID}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		// Close ran since OnDeliver checked: no batch may start now.
		return nil, true
	}
	b := rs.batches[k]
	if b == nil {
		b = &batch{key: k, seen: map[mailbox.Address]bool{}}
		rs.batches[k] = b
		rs.wg.Add(1)
		b.timer = time.AfterFunc(rs.opts.Coalesce, func() {
			defer rs.wg.Done()
			if rs.take(b) {
				rs.run(rs.base, b)
			}
		})
	}
	if b.seen[addr] {
		return nil, false
	}
	b.seen[addr] = true
	b.copies = append(b.copies, addr)
	if len(b.copies) < rs.opts.MaxBatch {
		return nil, false
	}
	rs.takeLocked(b)
	return b, false
}

// take removes b from the set of batches and reports whether it was
// there (whoever takes a batch runs it).
func (rs *Set) take(b *batch) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.batches[b.key] != b {
		return false
	}
	delete(rs.batches, b.key)
	return true
}

// takeLocked removes b, which is in the set, and stops its timer; when
// the timer will not fire any more, its share of wg is released here.
func (rs *Set) takeLocked(b *batch) {
	delete(rs.batches, b.key)
	if b.timer.Stop() {
		rs.wg.Done()
	}
}

// run acts on a batch with the rule as it is now: a rule removed or
// disabled since the copies matched does not act.
func (rs *Set) run(ctx context.Context, b *batch) {
	defer func() {
		if v := recover(); v != nil {
			rs.keep(Error{Rule: b.key.rule, Copies: len(b.copies), MessageID: b.key.messageID, Err: fmt.Errorf("panic: %v", v)})
		}
	}()
	r, err := rs.Rule(b.key.rule)
	if err != nil || r.Disabled {
		rs.log.Info("rules: detection rule removed or disabled; gathered copies not acted on",
			"rule", b.key.rule, "message_id", b.key.messageID, "copies", len(b.copies))
		return
	}
	rs.act(ctx, r, b.copies, b.key.messageID)
}

// act runs or proposes r's action on copies.
func (rs *Set) act(ctx context.Context, r Rule, copies []mailbox.Address, msgID string) {
	desc := r.Description
	if desc == "" {
		desc = fmt.Sprintf("detection rule %q matched message <%s> on delivery", r.Name, msgID)
	}
	req := rs.request(r, remediation.Selection{Copies: slices.Clone(copies)}, desc)
	rec, err := rs.submit(ctx, r, req)
	if err != nil {
		re := Error{Rule: r.Name, Copies: len(copies), MessageID: msgID, Err: err}
		if len(copies) == 1 {
			re.Copy = copies[0]
		}
		if rec != nil {
			re.RecordID = rec.ID
		}
		rs.keep(re)
		return
	}
	rs.log.Info("rules: detection rule acted", "rule", r.Name, "mode", r.Mode, "record", rec.ID,
		"status", rec.Status, "copies", len(copies), "message_id", msgID)
}

func (rs *Set) request(r Rule, sel remediation.Selection, desc string) remediation.Request {
	return remediation.Request{
		Action:      r.Action,
		Name:        r.Name,
		Description: desc,
		Severity:    r.Severity,
		Source:      remediation.SourceDetectionRule,
		Actor:       rs.opts.Actor,
		Selection:   sel,
		Confirm:     r.Confirm,
		RuleName:    r.Name,
	}
}

func (rs *Set) submit(ctx context.Context, r Rule, req remediation.Request) (*remediation.Record, error) {
	if r.Mode == ModePropose {
		return rs.e.Propose(ctx, req)
	}
	return rs.e.Execute(ctx, req)
}

// Run runs the rule name on demand over existing mail: one action over
// the rule's criteria across every mailbox, executed or proposed as its
// mode says, even when the rule is disabled. It returns what
// [remediation.Engine.Execute] or [remediation.Engine.Propose] return; an unknown name gives
// ErrNotFound. Failures are returned, not kept in [Set.Errors].
func (rs *Set) Run(ctx context.Context, name string) (*remediation.Record, error) {
	r, err := rs.Rule(name)
	if err != nil {
		return nil, err
	}
	return rs.RunRule(ctx, r)
}

// RunRule runs r on demand as [Set.Run] does, without adding it to the
// set. r is validated first (an error wrapping ErrInvalid).
func (rs *Set) RunRule(ctx context.Context, r Rule) (*remediation.Record, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r = r.clone()
	desc := r.Description
	if desc == "" {
		desc = fmt.Sprintf("detection rule %q run over existing mail", r.Name)
	}
	crit := r.Criteria
	rec, err := rs.submit(ctx, r, rs.request(r, remediation.Selection{Criteria: &crit}, desc))
	if rec != nil {
		rs.log.Info("rules: detection rule run on demand", "rule", r.Name, "mode", r.Mode, "record", rec.ID, "status", rec.Status)
	}
	return rec, err
}

// Flush acts now on every batch of copies gathered for coalescing, and
// waits for coalesced actions already running. It returns ctx's error if
// ctx ended first (batches are still acted on, with ctx).
func (rs *Set) Flush(ctx context.Context) error {
	rs.mu.Lock()
	var bs []*batch
	for _, b := range rs.batches {
		bs = append(bs, b)
	}
	for _, b := range bs {
		rs.takeLocked(b)
	}
	rs.mu.Unlock()
	slices.SortFunc(bs, func(a, b *batch) int {
		return strings.Compare(a.key.rule+"\x00"+a.key.messageID, b.key.rule+"\x00"+b.key.messageID)
	})
	for _, b := range bs {
		rs.run(ctx, b)
	}
	done := make(chan struct{})
	go func() {
		rs.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes as [Set.Flush] does, then stops evaluating: later
// deliveries are kept as ErrClosed failures and not acted on. Runs
// on demand still work. Close is idempotent.
func (rs *Set) Close(ctx context.Context) error {
	rs.mu.Lock()
	rs.closed = true
	rs.mu.Unlock()
	err := rs.Flush(ctx)
	rs.cancel()
	return err
}
