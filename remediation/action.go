package remediation

import (
	"slices"
	"strings"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Action is what an action does to each selected copy. The semantics are
// those of the design's action table; see the package documentation.
type Action string

// Actions.
const (
	MoveToJunk       Action = "move_to_junk"       // to the Junk folder
	MoveToDeleted    Action = "move_to_deleted"    // to Deleted Items (Trash)
	SoftDelete       Action = "soft_delete"        // to recoverable items
	HardDelete       Action = "hard_delete"        // purged; invite-created calendar entries removed
	Quarantine       Action = "quarantine"         // to the admin-only quarantine folder; released or undone back
	MoveToInbox      Action = "move_to_inbox"      // from junk, deleted, recoverable or quarantine to Inbox
	Release          Action = "release"            // from quarantine to Inbox of (a subset of) the recipients
	DeleteSenderCopy Action = "delete_sender_copy" // soft delete of the copy in an internal sender's Sent folder
	Undo             Action = "undo"               // moves every copy of another action back; see [Engine.Undo]
)

// Valid reports whether a is a known action other than [Undo] (which only
// [Engine.Undo] creates).
func (a Action) Valid() bool { return a.spec().valid }

// Reversible reports whether [Engine.Undo] can undo an action of this
// kind.
func (a Action) Reversible() bool { s := a.spec(); return s.valid && s.irreversible == "" }

// Automatable reports whether an action of this kind may run without a
// person's decision: the actions package
// [github.com/eradicate-dev/eradicate/remediation/automation] may take.
func (a Action) Automatable() bool { return a.spec().automatable }

// actionSpec is everything the engine decides by the kind of an action:
// each Action has one, in actionSpecs, and no other code in the package
// looks at which action it is (but to tell an undo, [Undo], from the
// actions it undoes). An action not in the table (a record of another
// version) has unknownAction's.
type actionSpec struct {
	// valid: a Request or a Rule may ask for it ([Action.Valid]).
	valid bool
	// irreversible, when set, makes [Engine.Undo] refuse the action
	// (ErrIrreversible); it says why ("purged its copies").
	irreversible string
	// automatable: automation may take it ([Action.Automatable]).
	automatable bool
	// fourEyes, when set, makes a proposal of the action need an approver
	// other than its proposer under FourEyesDefault, whatever its size; it
	// names the action in the refusal ("a hard delete").
	fourEyes string

	// dest is the role of the folder copies are moved to; RoleNone
	// purges them.
	dest mailbox.Role
	// evidence: under Options.EvidenceOnHardDelete copies go to the
	// admin-only evidence folder instead (dest is RoleNone).
	evidence bool
	// scope restricts the criteria a search uses to copies in this
	// role; RoleNone searches every folder.
	scope mailbox.Role

	// ownCopy: only the mailbox owner's own copy (the owner is the sender)
	// is acted on; checked first, wherever the copy is.
	ownCopy bool
	// noAlready: a copy found at the destination is not reported as
	// already there but goes through the source rule (a release did not
	// release a copy already in the inbox).
	noAlready bool
	// from, when set, lists the only roles a copy is acted on in; a copy
	// elsewhere is skipped with notFrom. When nil, copies in every role
	// but those of refuse are acted on.
	from    []mailbox.Role
	notFrom string
	// refuse lists the roles (with the skip reason) of the copies the
	// action does not act on, when from is nil.
	refuse []refusal

	// recipients: the action may be restricted to some of the original
	// recipients (Request.Recipients): only their mailboxes are searched,
	// and each must hold a selected copy.
	recipients bool
	// removeInvites: Request.RemoveInvites may be set.
	removeInvites bool
	// purgesInvites: the invite-created calendar entries of the copies
	// are always removed, as Request.RemoveInvites does; the invite
	// removal rule counts the messages as purged.
	purgesInvites bool
	// releases: a copy it takes out of quarantine is released: its
	// invites are applied as a fresh delivery would.
	releases bool
	// heldOnly: every copy it acts on comes from quarantine; a resumed
	// copy without a recorded role was in quarantine.
	heldOnly bool
}

// The refusals of requests that set what their action does not take.
const (
	refuseRecipients    = "recipients apply to a release only"
	refuseRemoveInvites = "remove invites applies to quarantine, soft delete, move to deleted items and move to junk (a hard delete always removes them)"
)

// refusal is a role an action does not act on, with the skip reason.
type refusal struct {
	role   mailbox.Role
	reason string
}

// The refusals of the moves and deletes.
var (
	refuseEvidence   = refusal{mailbox.RoleEvidence, "evidence copy: kept in the admin-only evidence store"}
	refuseSent       = refusal{mailbox.RoleSent, "the sender's copy in a Sent folder: use delete_sender_copy"}
	refuseQuarantine = refusal{mailbox.RoleQuarantine, "held in quarantine: release it or hard-delete it"}
	refuseDefault    = []refusal{refuseQuarantine, refuseEvidence, refuseSent}
)

// actionSpecs is the action table (see the package documentation for
// what each action does).
var actionSpecs = map[Action]*actionSpec{
	MoveToJunk: {
		valid: true, dest: mailbox.RoleJunk, refuse: refuseDefault, removeInvites: true,
	},
	MoveToDeleted: {
		valid: true, dest: mailbox.RoleDeleted, refuse: refuseDefault, removeInvites: true,
	},
	SoftDelete: {
		valid: true, automatable: true, dest: mailbox.RoleRecoverable, refuse: refuseDefault, removeInvites: true,
	},
	HardDelete: {
		valid: true, irreversible: "purged its copies", fourEyes: "a hard delete", evidence: true,
		refuse: []refusal{refuseEvidence, refuseSent}, purgesInvites: true,
	},
	Quarantine: {
		// A copy in quarantine is already there (the delivery tap
		// quarantines before the message lands, and its record finds
		// the copies held); evidence and the sender's copy stay.
		valid: true, automatable: true, dest: mailbox.RoleQuarantine,
		refuse: []refusal{refuseEvidence, refuseSent}, removeInvites: true,
	},
	MoveToInbox: {
		valid: true, dest: mailbox.RoleInbox,
		from:     []mailbox.Role{mailbox.RoleJunk, mailbox.RoleDeleted, mailbox.RoleRecoverable, mailbox.RoleQuarantine},
		notFrom:  "not in junk, deleted items, recoverable items or quarantine",
		releases: true,
	},
	Release: {
		valid: true, dest: mailbox.RoleInbox, scope: mailbox.RoleQuarantine,
		// A copy outside quarantine was not released by this action,
		// even in the inbox.
		noAlready:  true,
		from:       []mailbox.Role{mailbox.RoleQuarantine},
		notFrom:    "not held in quarantine",
		recipients: true, releases: true, heldOnly: true,
	},
	DeleteSenderCopy: {
		valid: true, dest: mailbox.RoleRecoverable, scope: mailbox.RoleSent,
		// Who the copy belongs to comes first: a recipient's copy is
		// never the sender's, wherever it is.
		ownCopy: true,
		from:    []mailbox.Role{mailbox.RoleSent},
		notFrom: "not in a Sent folder",
	},
	// Undo is made by Engine.Undo only; it moves copies back where the
	// undone action found them, by its own rules (run.go).
	Undo: {refuse: refuseDefault},
}

// unknownAction is the spec of an action not in the table (a record of
// another version): it is not valid, and the guard's default refusals
// apply.
var unknownAction = &actionSpec{refuse: refuseDefault}

// spec returns the spec of a.
func (a Action) spec() *actionSpec {
	if s := actionSpecs[a]; s != nil {
		return s
	}
	return unknownAction
}

// effective returns the criteria a search uses for the action.
func effective(a Action, c *mailbox.Criteria) mailbox.Criteria {
	if r := a.spec().scope; r != mailbox.RoleNone {
		return mailbox.Criteria{And: []mailbox.Criteria{*c, {Roles: []mailbox.Role{r}}}}
	}
	return *c
}

// destination returns where the action puts copies; zero for a purge.
func (e *Engine) destination(a Action) mailbox.Location { return e.dest(a.spec()) }

// dest returns where an action of spec s puts copies; zero for a purge.
func (e *Engine) dest(s *actionSpec) mailbox.Location {
	if s.evidence && e.opts.EvidenceOnHardDelete {
		return mailbox.In(mailbox.RoleEvidence)
	}
	return mailbox.In(s.dest) // RoleNone: the zero Location
}

// guard decides what happens to a selected copy: "" with ok means act;
// a reason means skip; already means it is at the destination. The rules
// of a's spec apply in order: ownCopy, the destination (unless noAlready),
// then from or refuse.
func (e *Engine) guard(a Action, m *mailbox.Message) (reason string, already bool) {
	s := a.spec()
	if s.ownCopy {
		owner := strings.ToLower(m.Address.Mailbox)
		if !strings.EqualFold(m.From, owner) && !strings.EqualFold(m.EnvelopeFrom, owner) {
			return "not the sender's own copy: the mailbox owner is not the sender", false
		}
	}
	if !s.noAlready {
		if dest := e.dest(s); dest.Role != mailbox.RoleNone && m.Role == dest.Role {
			return "", true
		}
	}
	if s.from != nil {
		if slices.Contains(s.from, m.Role) {
			return "", false
		}
		return s.notFrom, false
	}
	for _, r := range s.refuse {
		if m.Role == r.role {
			return r.reason, false
		}
	}
	return "", false
}
