package tap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// RulesOptions configure [NewRules]. A nil pointer is the same as a zero
// value.
type RulesOptions struct {
	// Actor is the actor of the records; default "detection-rules" (the
	// actor of the rules' own records).
	Actor string
}

// Rules puts a set of detection rules in the tap: it is the tap's
// [Decider] and [Recorder].
//
// Deciding: for each recipient the enabled rules are evaluated in order
// ([rules.Set.First]: exactly, as [rules.Set.OnDeliver] does) against
// the message as it would land in the recipient's inbox; the first rule
// that matches decides (where OnDeliver lets every matching rule act).
// An executing rule whose action is
// [remediation.Quarantine] gives the [Quarantine] verdict, one whose
// action is [remediation.MoveToJunk] gives [Junk]; any other match is
// delivered and acted on after delivery. A rule whose criteria cannot be
// evaluated is an error: [Options.OnFailure] decides.
//
// Recording: after delivery, the rule's action is recorded in the
// action center with the message's copies in the recipients' mailboxes
// (selected by Message-ID and, for a quarantine or junk verdict, by the
// folder it landed in), source detection rule, the rule's name and the
// decision's reason: a quarantined message then shows in
// [remediation.Engine.Held] with why, and a release takes it out (the
// record finds the copies already held, so its undo moves nothing: they
// were never elsewhere). A proposing rule's action is proposed, the message
// delivered to the inbox until it is approved. A message without a
// Message-ID cannot be selected after delivery: the record fails (and is
// counted), the message stays where the verdict put it.
type Rules struct {
	e     *remediation.Engine
	rs    *rules.Set
	actor string
}

// NewRules returns the adapter of rs, whose actions e records.
func NewRules(e *remediation.Engine, rs *rules.Set, opts *RulesOptions) *Rules {
	a := &Rules{e: e, rs: rs, actor: "detection-rules"}
	if opts != nil && strings.TrimSpace(opts.Actor) != "" {
		a.actor = opts.Actor
	}
	return a
}

// Decide returns the decision of the first enabled rule matching the
// message for rc; see [Rules].
func (a *Rules) Decide(ctx context.Context, d *Delivery, rc Recipient) (Decision, error) {
	if d.Parsed == nil {
		return Decision{}, errors.New("tap: rules: no parsed message")
	}
	m := d.Parsed.Summary()
	m.Address = mailbox.Address{Mailbox: rc.Owner, Folder: "INBOX"}
	m.Role = mailbox.RoleInbox
	if d.From != "" {
		m.EnvelopeFrom = strings.ToLower(d.From)
	}
	if m.Date.IsZero() {
		m.Date = d.Received
	}
	content := func() (*mailbox.Parsed, error) { return d.Parsed, nil }
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	r, ok, err := a.rs.First(&m, content)
	if err != nil || !ok {
		return Decision{Verdict: Deliver}, err
	}
	dec := Decision{Verdict: Deliver, Rule: r.Name, Reason: r.Description}
	if dec.Reason == "" {
		dec.Reason = fmt.Sprintf("detection rule %q matched on delivery", r.Name)
	}
	if r.Mode == rules.ModeExecute {
		switch r.Action {
		case remediation.Quarantine:
			dec.Verdict = Quarantine
		case remediation.MoveToJunk:
			dec.Verdict = Junk
		}
	}
	return dec, nil
}

// Record records (or proposes) the rule's action on the message's copies
// in owners' mailboxes; see [Rules]. A rule removed since it decided is
// not recorded.
func (a *Rules) Record(ctx context.Context, d *Delivery, owners []string, why Decision) error {
	r, err := a.rs.Rule(why.Rule)
	if err != nil {
		return err
	}
	if d.Parsed == nil || strings.TrimSpace(d.Parsed.MessageID) == "" {
		return fmt.Errorf("tap: rule %q: the message has no Message-ID; its copies cannot be selected for the record", r.Name)
	}
	c := &mailbox.Criteria{MessageIDs: []string{d.Parsed.MessageID}}
	switch why.Verdict {
	case Quarantine:
		c.Roles = []mailbox.Role{mailbox.RoleQuarantine}
	case Junk:
		c.Roles = []mailbox.Role{mailbox.RoleJunk}
	}
	req := remediation.Request{
		Action:      r.Action,
		Name:        r.Name,
		Description: why.Reason,
		Severity:    r.Severity,
		Source:      remediation.SourceDetectionRule,
		Actor:       a.actor,
		RuleName:    r.Name,
		Selection:   remediation.Selection{Criteria: c, Mailboxes: owners},
		Confirm:     r.Confirm,
	}
	if r.Mode == rules.ModePropose {
		_, err = a.e.Propose(ctx, req)
	} else {
		_, err = a.e.Execute(ctx, req)
	}
	return err
}
