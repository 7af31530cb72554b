package automation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// ErrNotAutomatable means automation settings name an action other than
// soft delete or quarantine: only those run without a person's decision.
var ErrNotAutomatable = errors.New("automation: only soft delete and quarantine run automatically")

// Defaults of [Options].
const (
	// DefaultSizeCap is the default [Options.SizeCap], as in
	// Defender's automated investigation: 10,000 copies.
	DefaultSizeCap = 10000
	// DefaultCooldown is the default [Options.Cooldown].
	DefaultCooldown = time.Hour
)

// Options say what a [Responder] may remediate on its own, after
// the automated investigation and response (AIR) settings of Defender.
// The zero value enables no cluster kind, so nothing runs until Kinds is
// set.
type Options struct {
	// Kinds are the cluster kinds remediated automatically. They map to
	// Defender's settings: cluster.KindFile is "similar files" and covers
	// clusters of the same file (SHA-256) as well as of similar files;
	// cluster.KindURL is "similar URLs" and covers the same canonical URL
	// as well as the same URL template; cluster.KindSimilarity is
	// "similarity". A cluster is remediated only when every kind of link
	// that actually joined its members (and the kind of a key seed, such
	// as a file hash) is enabled; see [Responder.Remediate].
	Kinds cluster.Kind
	// Action is the automated action; "" means [remediation.SoftDelete].
	// [remediation.Quarantine] may be named too; any other action is
	// refused by [New] with ErrNotAutomatable.
	Action remediation.Action
	// QuarantineKinds are the cluster kinds (of Kinds) whose clusters are
	// quarantined ([remediation.Quarantine]) instead of getting Action: a
	// cluster all of whose [ClusterKinds] are in QuarantineKinds. Zero
	// (the default) quarantines none: Action applies to every enabled
	// kind.
	QuarantineKinds cluster.Kind
	// SizeCap is the most copies an automated action may select. A
	// larger cluster is proposed (pending approval) instead. The engine's
	// blast-radius limit ([remediation.Options.BlastRadius]) caps it too, when
	// lower. Default [DefaultSizeCap]; zero or negative means the
	// default.
	SizeCap int
	// Cooldown is how long a cluster member acted on (executed or
	// proposed) is not acted on again. Default [DefaultCooldown];
	// negative disables it (every call acts).
	Cooldown time.Duration
	// Severity is the severity of the records; default [remediation.SeverityHigh].
	Severity remediation.Severity
	// Logger receives every decision and every limit that applied
	// (cluster seed, kinds, counts, record ids; never bodies). nil
	// discards them.
	Logger *slog.Logger
}

// Decision is what [Responder.Remediate] did with a cluster, and why.
type Decision string

// Decisions.
const (
	// DecisionExecuted: the cluster was soft-deleted.
	DecisionExecuted Decision = "executed"
	// DecisionProposedOverCap: the cluster had more copies than the size
	// cap (or the engine's blast-radius limit) and was proposed for
	// approval instead.
	DecisionProposedOverCap Decision = "proposed: over size cap"
	// DecisionSkippedKind: a kind of link in the cluster is not enabled
	// in [Options.Kinds].
	DecisionSkippedKind Decision = "skipped: kind not enabled"
	// DecisionSkippedRecent: every member was acted on within the
	// cooldown.
	DecisionSkippedRecent Decision = "skipped: acted on recently"
	// DecisionSkippedEmpty: the cluster has no member, or no copy of its
	// members is left to select.
	DecisionSkippedEmpty Decision = "skipped: empty"
)

// Responder remediates clusters on its own, as Defender's AIR does when
// an admin enabled automatic remediation for a cluster kind: it
// soft-deletes a cluster when its kind is enabled and it is under the size
// cap, proposes it when it is over, and does not act again on what it
// acted on within the cooldown. Its records have [remediation.SourceAutomation] and
// are decided by "automation" (or, for a proposal, by the approver); they
// are undone with [remediation.Engine.Undo] like any other action.
//
// A Responder is safe for concurrent use by multiple goroutines.
// Concurrent calls on overlapping clusters act on each member once.
type Responder struct {
	e   *remediation.Engine
	s   Options
	log *slog.Logger

	mu sync.Mutex
	// acted holds, for each member identity, when automation last acted
	// on it; entries older than the cooldown are pruned.
	acted map[string]time.Time
	// recalled reports that acted holds the automation records of the
	// action center (see recall).
	recalled bool
}

// New returns a Responder acting through e (required) with
// options s. It refuses an action other than soft delete and quarantine
// (ErrNotAutomatable) and unknown cluster kinds
// ([remediation.ErrInvalidRequest]), also in QuarantineKinds.
func New(e *remediation.Engine, s Options) (*Responder, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: automation needs an engine", remediation.ErrInvalidRequest)
	}
	if s.Action == "" {
		s.Action = remediation.SoftDelete
	}
	if !s.Action.Automatable() {
		return nil, fmt.Errorf("%w: %q", ErrNotAutomatable, s.Action)
	}
	if k := (s.Kinds | s.QuarantineKinds) &^ cluster.KindCampaign; k != 0 {
		return nil, fmt.Errorf("%w: unknown cluster kinds %d", remediation.ErrInvalidRequest, k)
	}
	if s.SizeCap <= 0 {
		s.SizeCap = DefaultSizeCap
	}
	if s.Cooldown == 0 {
		s.Cooldown = DefaultCooldown
	}
	if s.Severity == "" {
		s.Severity = remediation.SeverityHigh
	}
	a := &Responder{e: e, s: s, log: s.Logger, acted: map[string]time.Time{}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// Options returns the options in effect, defaults filled in.
func (a *Responder) Options() Options { return a.s }

// ClusterKinds returns the kinds of link that decide whether c may be
// remediated automatically: the kinds its members actually joined by
// (c.Links), plus the class of a key seed (a cluster of the carriers of
// one file hash is a "similar files" cluster); for a cluster with no
// link at all (a lone message), the kind it was built with.
func ClusterKinds(c *cluster.Cluster) cluster.Kind {
	k := c.Links
	if c.Seed.MessageID == "" {
		k |= c.Seed.Key.Kind.Class()
	}
	if k == 0 {
		k = c.Kind
	}
	return k
}

// Remediate decides what to do with c, a cluster grown from a seed with a
// malicious verdict, and does it. It returns the record of the action it
// took (nil when it skipped), the decision, and an error:
//
//   - no member, or no copy left to select: [DecisionSkippedEmpty];
//   - a kind of [ClusterKinds] not enabled: [DecisionSkippedKind];
//   - every member acted on within the cooldown:
//     [DecisionSkippedRecent];
//   - more copies than the size cap: proposed for approval
//     ([DecisionProposedOverCap]); the proposal is marked Confirm, so
//     the approver's approval is the confirmation the blast-radius limit
//     asks for;
//   - otherwise soft-deleted, or quarantined when its kinds are in
//     [Options.QuarantineKinds] ([DecisionExecuted]).
//
// Identity: automation remembers each member it acted on — by
// Message-ID, or by copy address for a member without one — for the
// cooldown. A cluster counts as acted on when all its members are
// remembered; when a cluster grew since (new mail of the campaign
// arrived), only the new members are acted on. This holds whatever the
// seed (two seeds of one campaign give one action) and survives merges
// of clusters. An undo does not clear the memory: automation does not
// redo within the cooldown what a person just undid. The memory is the
// action center's: on its first call a Responder recalls the automation
// records of the engine created within the cooldown, so a process
// restarted within the hour does not act again. Use one Responder per
// engine: two would each miss what the other does after that first call.
// Over a journal shared by several engines ([remediation.Engine.Shared]),
// the Responders of the engines recall on every call, and act on a
// member one at a time ([remediation.Engine.Exclusive]): a cluster acted
// on by one engine is not acted on again by another within the cooldown.
//
// Selection: the members by Message-ID, across every mailbox (copies
// moved or delivered since the cluster was built are found too); when a
// member has no Message-ID, the known copies of the members instead. The
// copies are counted before acting: the index's count when it is over
// the cap already, else a dry run of the selection.
//
// Limits (kind not enabled, cooldown, cap) are logged. A failure of the
// engine is returned with the decision that was attempted; when the
// engine recorded nothing, the members are not remembered and a later
// call tries again. When the action ran but did not complete, the record
// is returned with the error (see [remediation.Engine.Execute]) and [remediation.Engine.Resume]
// finishes it.
func (a *Responder) Remediate(ctx context.Context, c *cluster.Cluster) (rec *remediation.Record, d Decision, err error) {
	if c == nil || a.s.Cooldown < 0 {
		return a.remediate(ctx, c)
	}
	// Decide and act as one step across the engines sharing the action
	// center: another Responder acting on a member of c meanwhile is
	// waited for, and its record recalled.
	var keys []string
	for i := range c.Members {
		keys = append(keys, identity(&c.Members[i])...)
	}
	xerr := a.e.Exclusive(ctx, keys, func() error {
		rec, d, err = a.remediate(ctx, c)
		return nil
	})
	if xerr != nil {
		return nil, DecisionSkippedRecent, fmt.Errorf("automation: automation: %w", xerr)
	}
	return rec, d, err
}

func (a *Responder) remediate(ctx context.Context, c *cluster.Cluster) (*remediation.Record, Decision, error) {
	if c == nil || !slices.ContainsFunc(c.Members, func(m cluster.Member) bool { return m.MessageID != "" || len(m.Copies) > 0 }) {
		a.log.Info("automation: automation skipped an empty cluster")
		return nil, DecisionSkippedEmpty, nil
	}
	kinds := ClusterKinds(c)
	seed := c.Seed.String()
	if off := kinds &^ a.s.Kinds; kinds == 0 || off != 0 {
		a.log.Info("automation: automation skipped a cluster: kind not enabled", "seed", seed,
			"kinds", kinds.String(), "not_enabled", off.String(), "messages", len(c.Members))
		return nil, DecisionSkippedKind, nil
	}

	now := a.e.Options().Now().UTC()
	if err := a.recall(ctx, now); err != nil {
		return nil, DecisionSkippedRecent, err
	}
	fresh, ids := a.reserve(c, now)
	if len(fresh) == 0 {
		a.log.Info("automation: automation skipped a cluster acted on recently", "seed", seed,
			"kinds", kinds.String(), "messages", len(c.Members), "cooldown", a.s.Cooldown.String())
		return nil, DecisionSkippedRecent, nil
	}
	release := func() { a.unreserve(ids, now) }

	sel, known := selection(fresh)
	if sel.Criteria == nil && len(sel.Copies) == 0 {
		release()
		a.log.Info("automation: automation skipped a cluster with nothing to select", "seed", seed)
		return nil, DecisionSkippedEmpty, nil
	}
	limit := int64(a.s.SizeCap)
	if br := a.e.Options().BlastRadius; br >= 0 && int64(br) < limit {
		limit = int64(br)
	}
	total := int64(known)
	if sel.Criteria != nil && total <= limit {
		p, err := a.e.DryRun(ctx, sel)
		if err != nil {
			release()
			return nil, DecisionExecuted, fmt.Errorf("automation: automation: count the cluster: %w", err)
		}
		total = p.Total
	}
	if total == 0 {
		release()
		a.log.Info("automation: automation skipped a cluster: no copy left", "seed", seed, "messages", len(fresh))
		return nil, DecisionSkippedEmpty, nil
	}

	action := a.s.Action
	if a.s.QuarantineKinds != 0 && kinds&^a.s.QuarantineKinds == 0 {
		action = remediation.Quarantine
	}
	req := remediation.Request{
		Action: action,
		Name:   fmt.Sprintf("AIR: %s %s cluster", strings.ReplaceAll(string(action), "_", " "), kinds),
		Description: fmt.Sprintf("automated remediation of a %s cluster of %d messages (%d new), seed %s, members %s",
			kinds, len(c.Members), len(fresh), seed, memberHash(c)),
		Severity:  a.s.Severity,
		Source:    remediation.SourceAutomation,
		Actor:     remediation.DecidedByAutomation,
		Cluster:   seed,
		Selection: sel,
		// The engine enforces the cap while the action runs too: copies
		// of the campaign that arrive after the count are not acted on
		// past it without approval.
		MaxCopies: a.s.SizeCap,
	}
	decision := DecisionExecuted
	var rec *remediation.Record
	var err error
	if total > limit {
		decision = DecisionProposedOverCap
		a.log.Warn("automation: automation cluster over the size cap: proposed for approval", "seed", seed,
			"copies", total, "cap", limit)
		req.Confirm = true
		rec, err = a.e.Propose(ctx, req)
	} else {
		rec, err = a.e.Execute(ctx, req)
		if rec == nil && errors.Is(err, remediation.ErrNeedsConfirmation) {
			// The selection grew past the limit since it was counted.
			decision = DecisionProposedOverCap
			a.log.Warn("automation: automation cluster grew over the blast-radius limit: proposed for approval",
				"seed", seed, "cap", limit)
			req.Confirm = true
			rec, err = a.e.Propose(ctx, req)
		}
	}
	if rec == nil {
		release()
		return nil, decision, fmt.Errorf("automation: automation: %w", err)
	}
	a.log.Info("automation: automation acted on a cluster", "decision", string(decision), "record", rec.ID,
		"status", rec.Status, "seed", seed, "kinds", kinds.String(), "messages", len(fresh), "copies", total)
	return rec, decision, err
}

// recall fills the memory, once, from the action center: the members
// selected by automation records created within the cooldown (by
// Message-ID, or by copy address). A Responder created after a restart
// thus does not act again on what the previous process acted on. Until a
// recall succeeds, Remediate does nothing and returns its error.
func (a *Responder) recall(ctx context.Context, now time.Time) error {
	if a.s.Cooldown < 0 {
		return nil
	}
	shared := a.e.Shared()
	a.mu.Lock()
	done := a.recalled
	a.mu.Unlock()
	if done && !shared {
		return nil
	}
	since := now.Add(-a.s.Cooldown)
	found := map[string]time.Time{}
	for r, err := range a.e.Query(ctx, remediation.Filter{Since: since, Sources: []remediation.Source{remediation.SourceAutomation}}) {
		if err != nil {
			return fmt.Errorf("automation: automation: read earlier automated actions: %w", err)
		}
		if r.UndoOf != "" {
			continue
		}
		var keys []string
		if c := r.Selection.Criteria; c != nil {
			for _, id := range c.MessageIDs {
				keys = append(keys, "id:"+mailbox.NormalizeMessageID(id))
			}
		}
		for _, cp := range r.Selection.Copies {
			keys = append(keys, "copy:"+cp.String())
		}
		if len(r.Selection.Copies) > 0 {
			// A cluster with a member without a Message-ID is selected
			// by copies; its members with one are remembered by it.
			for o, err := range a.e.Outcomes(ctx, r.ID) {
				if err != nil {
					return fmt.Errorf("automation: automation: read earlier automated actions: %w", err)
				}
				if o.MessageID != "" {
					keys = append(keys, "id:"+mailbox.NormalizeMessageID(o.MessageID))
				}
			}
		}
		for _, k := range keys {
			if t, ok := found[k]; !ok || r.Created.After(t) {
				found[k] = r.Created
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.recalled || shared {
		for k, t := range found {
			if cur, ok := a.acted[k]; !ok || t.After(cur) {
				a.acted[k] = t
			}
		}
		first := !a.recalled
		a.recalled = true
		if first && len(found) > 0 {
			a.log.Info("automation: automation recalled earlier automated actions", "members", len(found),
				"cooldown", a.s.Cooldown.String())
		}
	}
	return nil
}

// identity returns the key automation remembers member m by.
func identity(m *cluster.Member) []string {
	if m.MessageID != "" {
		return []string{"id:" + mailbox.NormalizeMessageID(m.MessageID)}
	}
	out := make([]string, len(m.Copies))
	for i, c := range m.Copies {
		out[i] = "copy:" + c.String()
	}
	return out
}

// reserve prunes the memory, picks the members of c not acted on within
// the cooldown, and remembers them as acted on at now. It returns them
// and the identities it added. With the cooldown disabled it returns
// every member and remembers nothing.
func (a *Responder) reserve(c *cluster.Cluster, now time.Time) ([]*cluster.Member, []string) {
	var fresh []*cluster.Member
	if a.s.Cooldown < 0 {
		for i := range c.Members {
			fresh = append(fresh, &c.Members[i])
		}
		return fresh, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.acted {
		if now.Sub(t) >= a.s.Cooldown {
			delete(a.acted, k)
		}
	}
	var added []string
	for i := range c.Members {
		m := &c.Members[i]
		keys := identity(m)
		isNew := false
		for _, k := range keys {
			if _, ok := a.acted[k]; !ok {
				isNew = true
				a.acted[k] = now
				added = append(added, k)
			}
		}
		if isNew {
			fresh = append(fresh, m)
		}
	}
	return fresh, added
}

// unreserve forgets the identities reserve remembered at now, when the
// engine recorded nothing.
func (a *Responder) unreserve(ids []string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range ids {
		if t, ok := a.acted[k]; ok && t.Equal(now) {
			delete(a.acted, k)
		}
	}
}

// selection returns the selection of members and the number of copies
// the index knows of them.
func selection(members []*cluster.Member) (remediation.Selection, int) {
	known := 0
	allIDs := true
	for _, m := range members {
		known += len(m.Copies)
		if m.MessageID == "" {
			allIDs = false
		}
	}
	if allIDs {
		ids := make([]string, len(members))
		for i, m := range members {
			ids[i] = m.MessageID
		}
		return remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: ids}}, known
	}
	var copies []mailbox.Address
	seen := map[mailbox.Address]bool{}
	for _, m := range members {
		for _, c := range m.Copies {
			if !seen[c] {
				seen[c] = true
				copies = append(copies, c)
			}
		}
	}
	return remediation.Selection{Copies: copies}, known
}

// memberHash returns a short hash of the cluster's member set, to tell
// clusters apart in the action center.
func memberHash(c *cluster.Cluster) string {
	keys := make([]string, 0, len(c.Members))
	for i := range c.Members {
		keys = append(keys, identity(&c.Members[i])...)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
