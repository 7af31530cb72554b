package imipproc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/internal/msgid"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Actions of the processor besides those of [calendar.ApplyInvite].
const (
	// ActionAlreadyProcessed: an invite entry of the owner already records
	// this message and UID; it was left as it is (so that a rescan does
	// not undo the user's answer).
	ActionAlreadyProcessed calendar.Action = "already-processed"
	// ActionBackfilled: backfill marked an entry the user's own client had
	// created from this invite with invite provenance.
	ActionBackfilled calendar.Action = "backfilled"
	// ActionUnreadable: the calendar part could not be read; see Err.
	ActionUnreadable calendar.Action = "unreadable"
)

// DefaultRoles returns the folders [Processor.Scan] and
// [Processor.ProcessMessageIDs] look in unless [Options.Roles] says
// otherwise: where delivery puts mail (the inbox and junk). Each call
// returns a new slice.
func DefaultRoles() []mailbox.Role { return []mailbox.Role{mailbox.RoleInbox, mailbox.RoleJunk} }

// Options configure a [Processor]. A nil *Options is the same as a zero
// value.
type Options struct {
	// Roles are the folders searched by Scan and ProcessMessageIDs. Nil
	// means [DefaultRoles](). Admin-only roles are never processed.
	Roles []mailbox.Role
	// Concurrency is how many mailboxes Scan works on at once; 0 means 4.
	Concurrency int
	// Backfill turns on the heuristic that marks entries created by the
	// users' own calendar clients (see the package documentation). Off by
	// default.
	Backfill bool
	// Logger receives debug logs (addresses, message ids, UIDs, actions;
	// never bodies). Nil discards them.
	Logger *slog.Logger
}

// Processor applies the meeting invites in delivered mail to calendars, as
// Outlook does on delivery. It is safe for concurrent use.
type Processor struct {
	mail mailbox.Store
	cal  calendar.Store
	opts Options
	log  *slog.Logger
}

// New returns a Processor reading mail from mail and writing entries to
// cal. Mailbox owners are calendar owners. opts may be nil.
func New(mail mailbox.Store, cal calendar.Store, opts *Options) *Processor {
	p := &Processor{mail: mail, cal: cal}
	if opts != nil {
		p.opts = *opts
	}
	if p.opts.Roles == nil {
		p.opts.Roles = DefaultRoles()
	}
	p.opts.Roles = slices.DeleteFunc(slices.Clone(p.opts.Roles), mailbox.Role.AdminOnly)
	if p.opts.Concurrency <= 0 {
		p.opts.Concurrency = 4
	}
	p.log = p.opts.Logger
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p
}

// Outcome is what the processor did with one calendar part of one copy.
type Outcome struct {
	// Address is the copy (Address.Mailbox is the calendar owner).
	Address mailbox.Address `json:"address"`
	// MessageID is the Message-ID of the copy's message, without angle
	// brackets; "" when it has none.
	MessageID string `json:"message_id,omitempty"`
	// Part is the index of the part in mailbox.Parsed.Calendars.
	Part int `json:"part"`
	// Method is the invite's iTIP method ([calendar.Invite.Method]); for a
	// part that could not be read, the Content-Type method parameter.
	Method string `json:"method,omitempty"`
	// UID is the invite's UID; "" for a part that could not be read.
	UID string `json:"uid,omitempty"`
	// Action is a calendar.Action of ApplyInvite or one of this package.
	Action calendar.Action `json:"action"`
	// Reason explains Action: why the invite changed nothing, or why
	// backfill marked an entry; "" when ApplyInvite created or updated
	// entries, and for an unreadable part (see Err).
	Reason string `json:"reason,omitempty"`
	// Entries are the entries created, updated or backfilled.
	Entries []calendar.Entry `json:"entries,omitempty"`
	// Err is why the part failed, nil on success.
	Err error `json:"-"`
}

// Deliver processes one delivered copy: the delivery hook. Each meeting
// invite it carries is applied to the owner's calendars with
// [calendar.ApplyInvite]: the inline text/calendar parts (RFC 6047 section
// 2.4), or, when there is none, .ics attachments whose Content-Type names
// a method; each UID once per message. A copy in an admin-only folder
// (quarantine, evidence, recoverable items) is not processed: its owner
// never received it. Deliver finds the copy's folder role by searching
// those folders for the message (by Message-ID, else From, else Subject);
// a message with none of them is not processed and gives an error.
// An invite already processed for this message (an invite entry records
// its message id and UID) is not applied again. A copy that is gone gives
// an error wrapping mailbox.ErrNotFound. The outcomes are always returned;
// the error joins the failed parts.
func (p *Processor) Deliver(ctx context.Context, addr mailbox.Address) ([]Outcome, error) {
	raw, err := p.mail.Fetch(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("imipproc: fetch %s: %w", addr, err)
	}
	parsed, perr := mailbox.Parse(raw)
	if parsed == nil {
		return nil, fmt.Errorf("imipproc: parse %s: %w", addr, perr)
	}
	if len(parsed.Calendars) == 0 {
		return nil, nil
	}
	held, err := p.adminOnly(ctx, addr, parsed)
	if err != nil {
		return nil, err
	}
	if held {
		p.log.DebugContext(ctx, "imipproc: copy in an admin-only folder not processed", "address", addr.String())
		return nil, nil
	}
	return p.process(ctx, addr, parsed)
}

// adminOnlyRoles are the folders whose copies Deliver never processes.
var adminOnlyRoles = []mailbox.Role{mailbox.RoleQuarantine, mailbox.RoleEvidence, mailbox.RoleRecoverable}

// adminOnly reports whether addr is in an admin-only folder: the message
// is searched for, by Message-ID (else header From, else subject), in
// those folders of its mailbox, and addr looked for among the hits.
func (p *Processor) adminOnly(ctx context.Context, addr mailbox.Address, msg *mailbox.Parsed) (bool, error) {
	c := mailbox.Criteria{Roles: adminOnlyRoles}
	switch {
	case msg.MessageID != "":
		c.MessageIDs = []string{msg.MessageID}
	case msg.From != "":
		c.Senders = []string{msg.From}
	case strings.TrimSpace(msg.Subject) != "":
		c.Subject = msg.Subject
	default:
		return false, fmt.Errorf("imipproc: %s has no Message-ID, From or Subject to tell its folder's role by; not processed", addr)
	}
	for m, err := range p.mail.Search(ctx, addr.Mailbox, c) {
		if err != nil {
			return false, fmt.Errorf("imipproc: folder role of %s: %w", addr, err)
		}
		if m.Address == addr {
			return true, nil
		}
	}
	return false, nil
}

func (p *Processor) process(ctx context.Context, addr mailbox.Address, msg *mailbox.Parsed) ([]Outcome, error) {
	if len(msg.Calendars) == 0 {
		return nil, nil
	}
	owner := addr.Mailbox
	var out []Outcome
	var errs []error
	mid := InviteMessageID(msg)
	for _, mi := range MessageInvites(msg) {
		o := Outcome{Address: addr, MessageID: msg.MessageID, Part: mi.Part, Method: msg.Calendars[mi.Part].Method}
		if mi.Err != nil {
			o.Action, o.Err = ActionUnreadable, mi.Err
			out = append(out, o)
			errs = append(errs, fmt.Errorf("imipproc: %s part %d: %w", addr, mi.Part, mi.Err))
			continue
		}
		inv := mi.Invite
		o.Method, o.UID = inv.Method, inv.UID
		p.apply(ctx, owner, inv, mid, &o)
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("imipproc: %s UID %q: %w", addr, inv.UID, o.Err))
		}
		p.log.LogAttrs(ctx, slog.LevelDebug, "invite processed", slog.String("mailbox", owner),
			slog.String("message_id", msg.MessageID), slog.String("uid", inv.UID),
			slog.String("method", inv.Method), slog.String("action", string(o.Action)))
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

// apply runs backfill (when on), the already-processed check and
// ApplyInvite for one invite, filling o.
func (p *Processor) apply(ctx context.Context, owner string, inv *calendar.Invite, messageID string, o *Outcome) {
	if messageID != "" && inv.Method != calendar.MethodReply {
		done, err := p.cal.Find(ctx, owner, calendar.Query{MessageID: messageID})
		if err != nil {
			o.Action, o.Err = calendar.ActionNotApplied, err
			return
		}
		for _, e := range done {
			if e.UID == inv.UID && e.Provenance.Kind == calendar.ProvenanceInvite &&
				strings.EqualFold(e.Provenance.Method, inv.Method) {
				o.Action, o.Reason = ActionAlreadyProcessed, "an invite entry already records this message"
				return
			}
		}
	}
	if p.opts.Backfill && inv.Method == calendar.MethodRequest {
		n, err := p.backfill(ctx, owner, inv, messageID, o)
		if err != nil {
			o.Action, o.Err = calendar.ActionNotApplied, err
			return
		}
		if n > 0 {
			o.Action = ActionBackfilled
			o.Reason = "an entry with the invite's UID and organizer and unknown provenance, and the invite still in the mailbox: marked as created by the invite"
			return
		}
	}
	res, err := calendar.ApplyInvite(ctx, p.cal, owner, inv, messageID)
	o.Action, o.Reason, o.Entries, o.Err = res.Action, res.Reason, res.Entries, err
}

// backfill marks the owner's entries with the invite's UID and organizer
// and unknown provenance as invite entries of this message. It returns how
// many it marked.
func (p *Processor) backfill(ctx context.Context, owner string, inv *calendar.Invite, messageID string, o *Outcome) (int, error) {
	me := calendar.NormalizeAddress(owner)
	// The owner must be invited, not the organizer: no client makes an
	// entry of an incoming invite the owner organizes, and anyone can
	// write the owner's address as the ORGANIZER of an invite.
	if inv.Organizer == "" || messageID == "" || inv.Organizer == me || !hasAttendee(inv.Attendees, me) {
		return 0, nil
	}
	found, err := p.cal.Find(ctx, owner, calendar.Query{UID: inv.UID})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range found {
		if e.Provenance.Kind != calendar.ProvenanceUnknown || calendar.NormalizeAddress(e.Organizer) != inv.Organizer {
			continue
		}
		// A client's entry of the invite lists the owner as attendee.
		if occ := cmp.Or(e.Master, firstOverride(e)); occ == nil || !hasAttendee(occ.Attendees, me) {
			continue
		}
		// An older revision did not make the entry (a spoof reusing a
		// real meeting's UID and organizer with a lower SEQUENCE must not
		// claim it, or its hard delete would remove the meeting).
		if occ := cmp.Or(e.Master, firstOverride(e)); inv.Sequence < occ.Sequence {
			continue
		}
		e.Provenance = calendar.Provenance{
			Kind:      calendar.ProvenanceInvite,
			MessageID: msgid.Trim(messageID),
			CreatedBy: msgid.Trim(messageID),
			Organizer: inv.Organizer,
			Method:    inv.Method,
			SeriesUID: inv.UID,
		}
		put, err := p.cal.Put(ctx, owner, e)
		if err != nil {
			return n, err
		}
		o.Entries = append(o.Entries, put)
		n++
	}
	return n, nil
}

func hasAttendee(as []calendar.Attendee, addr string) bool {
	for _, a := range as {
		if calendar.NormalizeAddress(a.Email) == addr {
			return true
		}
	}
	return false
}

func firstOverride(e calendar.Entry) *calendar.Occurrence {
	if len(e.Overrides) == 0 {
		return nil
	}
	return &e.Overrides[0]
}

// ProcessMessageIDs processes the copies of the given messages in the
// owner's mailbox (the folders of [Options.Roles]), as a delivery hook
// that knows message ids rather than addresses does. Outcomes are always
// returned; the error joins the failures.
func (p *Processor) ProcessMessageIDs(ctx context.Context, owner string, ids []string) ([]Outcome, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return p.search(ctx, owner, mailbox.Criteria{MessageIDs: ids, Roles: p.opts.Roles})
}

// Scan processes every copy dated since in the folders of [Options.Roles]
// of each owner (nil owners: every mailbox of the mail store), fetching
// each to look for calendar parts. It is the catch-up mode for mail that
// arrived without a delivery hook, and costs one fetch per message; see
// the package documentation. Mailboxes are scanned in parallel. Outcomes
// are always returned; the error joins the failures.
func (p *Processor) Scan(ctx context.Context, owners []string, since time.Time) ([]Outcome, error) {
	if owners == nil {
		all, err := p.mail.Mailboxes(ctx)
		if err != nil {
			return nil, fmt.Errorf("imipproc: list mailboxes: %w", err)
		}
		owners = all
	}
	var (
		mu   sync.Mutex
		out  []Outcome
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, p.opts.Concurrency)
	)
	stopped := false
	for _, owner := range owners {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			stopped = true
		}
		if ctx.Err() != nil {
			stopped = true
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Recipients = the owner matches every message of the owner's
			// mailbox (mailbox.Criteria); Since bounds the scan.
			o, err := p.search(ctx, owner, mailbox.Criteria{Recipients: []string{owner}, Since: since, Roles: p.opts.Roles})
			mu.Lock()
			defer mu.Unlock()
			out = append(out, o...)
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if stopped {
		errs = append(errs, fmt.Errorf("imipproc: scan: %w", ctx.Err()))
	}
	return out, errors.Join(errs...)
}

func (p *Processor) search(ctx context.Context, owner string, c mailbox.Criteria) ([]Outcome, error) {
	var addrs []mailbox.Address
	for m, err := range p.mail.Search(ctx, owner, c) {
		if err != nil {
			return nil, fmt.Errorf("imipproc: search %s: %w", owner, err)
		}
		if m.Role.AdminOnly() {
			continue
		}
		addrs = append(addrs, m.Address)
	}
	var out []Outcome
	var errs []error
	for _, a := range addrs {
		o, err := p.Deliver(ctx, a)
		out = append(out, o...)
		if err != nil {
			if errors.Is(err, mailbox.ErrNotFound) {
				continue // moved or expunged since the search
			}
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("imipproc: %w", ctx.Err()))
			break
		}
	}
	return out, errors.Join(errs...)
}

// DeliverParsed processes a message just delivered to owner's mailbox
// from its parsed content, as [Processor.Deliver] does for a copy in the
// store, without reading the store: the hook of a delivery path that has
// parsed the message already and knows it went to a folder where
// invites apply (not an admin-only one). The outcomes' Address has only
// the Mailbox. An invite already processed for this message is not
// applied again, so a redelivery is harmless.
func (p *Processor) DeliverParsed(ctx context.Context, owner string, msg *mailbox.Parsed) ([]Outcome, error) {
	if msg == nil || len(msg.Calendars) == 0 {
		return nil, nil
	}
	return p.process(ctx, mailbox.Address{Mailbox: owner}, msg)
}
