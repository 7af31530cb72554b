package remediation

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// The reasons the guard gives.
const (
	actGuard     = ""
	alreadyGuard = "(already)"
	inQuarantine = "held in quarantine: release it or hard-delete it"
	inEvidence   = "evidence copy: kept in the admin-only evidence store"
	inSent       = "the sender's copy in a Sent folder: use delete_sender_copy"
	notInboxable = "not in junk, deleted items, recoverable items or quarantine"
	notHeld      = "not held in quarantine"
	notSent      = "not in a Sent folder"
	notOwn       = "not the sender's own copy: the mailbox owner is not the sender"
)

// guardRoles are the roles a selected copy may be in, in the order of
// actionCase.guard.
var guardRoles = []mailbox.Role{
	mailbox.RoleNone, mailbox.RoleInbox, mailbox.RoleJunk, mailbox.RoleDeleted,
	mailbox.RoleSent, mailbox.RoleRecoverable, mailbox.RoleQuarantine, mailbox.RoleEvidence,
}

type actionCase struct {
	action                                Action
	valid, reversible, automatable        bool
	fourEyes                              bool
	dest, destEvidence                    mailbox.Location // without and with EvidenceOnHardDelete
	scope                                 mailbox.Role     // the role effective adds, RoleNone for none
	recipients, removeInvites             bool
	purgesInvites, releases, heldOnly     bool
	guard, guardEvidence, guardOthersCopy []string // per guardRoles; nil: as guard
}

// actionCases is the action table as the package documentation states it:
// one case per Action constant, and one for an unknown action.
var actionCases = []actionCase{
	{
		action: MoveToJunk, valid: true, reversible: true,
		dest: mailbox.In(mailbox.RoleJunk), removeInvites: true,
		guard: []string{actGuard, actGuard, alreadyGuard, actGuard, inSent, actGuard, inQuarantine, inEvidence},
	},
	{
		action: MoveToDeleted, valid: true, reversible: true,
		dest: mailbox.In(mailbox.RoleDeleted), removeInvites: true,
		guard: []string{actGuard, actGuard, actGuard, alreadyGuard, inSent, actGuard, inQuarantine, inEvidence},
	},
	{
		action: SoftDelete, valid: true, reversible: true, automatable: true,
		dest: mailbox.In(mailbox.RoleRecoverable), removeInvites: true,
		guard: []string{actGuard, actGuard, actGuard, actGuard, inSent, alreadyGuard, inQuarantine, inEvidence},
	},
	{
		action: HardDelete, valid: true, fourEyes: true,
		destEvidence: mailbox.In(mailbox.RoleEvidence), purgesInvites: true,
		guard:         []string{actGuard, actGuard, actGuard, actGuard, inSent, actGuard, actGuard, inEvidence},
		guardEvidence: []string{actGuard, actGuard, actGuard, actGuard, inSent, actGuard, actGuard, alreadyGuard},
	},
	{
		action: Quarantine, valid: true, reversible: true, automatable: true,
		dest: mailbox.In(mailbox.RoleQuarantine), removeInvites: true,
		guard: []string{actGuard, actGuard, actGuard, actGuard, inSent, actGuard, alreadyGuard, inEvidence},
	},
	{
		action: MoveToInbox, valid: true, reversible: true,
		dest: mailbox.In(mailbox.RoleInbox), releases: true,
		guard: []string{notInboxable, alreadyGuard, actGuard, actGuard, notInboxable, actGuard, actGuard, notInboxable},
	},
	{
		action: Release, valid: true, reversible: true,
		dest: mailbox.In(mailbox.RoleInbox), scope: mailbox.RoleQuarantine,
		recipients: true, releases: true, heldOnly: true,
		guard: []string{notHeld, notHeld, notHeld, notHeld, notHeld, notHeld, actGuard, notHeld},
	},
	{
		action: DeleteSenderCopy, valid: true, reversible: true,
		dest: mailbox.In(mailbox.RoleRecoverable), scope: mailbox.RoleSent,
		guard:           []string{notSent, notSent, notSent, notSent, actGuard, alreadyGuard, notSent, notSent},
		guardOthersCopy: []string{notOwn, notOwn, notOwn, notOwn, notOwn, notOwn, notOwn, notOwn},
	},
	{
		action: Undo,
		guard:  []string{actGuard, actGuard, actGuard, actGuard, inSent, actGuard, inQuarantine, inEvidence},
	},
	{
		action: "no_such_action",
		guard:  []string{actGuard, actGuard, actGuard, actGuard, inSent, actGuard, inQuarantine, inEvidence},
	},
}

// TestActionTable checks every spec's fields, through the functions that
// read them, and its guard for a copy in every role: the sender's own
// copy and another's, with and without EvidenceOnHardDelete.
func TestActionTable(t *testing.T) {
	var covered []Action
	for _, tc := range actionCases {
		t.Run(string(tc.action), func(t *testing.T) {
			if actionSpecs[tc.action] != nil {
				covered = append(covered, tc.action)
			}
			s := tc.action.spec()
			assert.Equal(t, tc.valid, tc.action.Valid(), "Valid")
			assert.Equal(t, tc.reversible, tc.action.Reversible(), "Reversible")
			assert.Equal(t, tc.automatable, s.automatable, "automatable")
			assert.Equal(t, tc.fourEyes, s.fourEyes != "", "fourEyes")
			assert.Equal(t, tc.recipients, s.recipients, "recipients")
			assert.Equal(t, tc.removeInvites, s.removeInvites, "removeInvites")
			assert.Equal(t, tc.purgesInvites, s.purgesInvites, "purgesInvites")
			assert.Equal(t, tc.releases, s.releases, "releases")
			assert.Equal(t, tc.heldOnly, s.heldOnly, "heldOnly")
			if s.heldOnly {
				// A held-only action searches, and acts in, quarantine only.
				assert.Equal(t, mailbox.RoleQuarantine, s.scope)
				assert.Equal(t, []mailbox.Role{mailbox.RoleQuarantine}, s.from)
			}

			plain := &Engine{}
			ev := &Engine{opts: Options{EvidenceOnHardDelete: true}}
			destEv := tc.destEvidence
			if destEv == (mailbox.Location{}) {
				destEv = tc.dest
			}
			assert.Equal(t, tc.dest, plain.destination(tc.action), "destination")
			assert.Equal(t, destEv, ev.destination(tc.action), "destination with evidence")

			c := &mailbox.Criteria{Subject: "invoice"}
			want := *c
			if tc.scope != mailbox.RoleNone {
				want = mailbox.Criteria{And: []mailbox.Criteria{*c, {Roles: []mailbox.Role{tc.scope}}}}
			}
			assert.Equal(t, want, effective(tc.action, c), "effective")

			guardEv, others := tc.guardEvidence, tc.guardOthersCopy
			if guardEv == nil {
				guardEv = tc.guard
			}
			require.Len(t, tc.guard, len(guardRoles))
			for i, role := range guardRoles {
				own := &mailbox.Message{Address: mailbox.Address{Mailbox: "Bob@Example.org", Folder: "f", UID: 1}, Role: role, From: "bob@example.org"}
				ownEnv := &mailbox.Message{Address: own.Address, Role: role, From: "eve@example.org", EnvelopeFrom: "BOB@example.org"}
				other := &mailbox.Message{Address: own.Address, Role: role, From: "eve@example.org", EnvelopeFrom: "eve@example.org"}
				wantOther := tc.guard[i]
				if others != nil {
					wantOther = others[i]
				}
				assert.Equal(t, tc.guard[i], guardResult(plain, tc.action, own), "own copy in %q", role)
				assert.Equal(t, tc.guard[i], guardResult(plain, tc.action, ownEnv), "own copy (envelope) in %q", role)
				assert.Equal(t, wantOther, guardResult(plain, tc.action, other), "another's copy in %q", role)
				assert.Equal(t, guardEv[i], guardResult(ev, tc.action, own), "own copy in %q, evidence on", role)
			}
		})
	}
	// Every action of the table has a case (Undo included).
	assert.ElementsMatch(t, slices.Collect(maps.Keys(actionSpecs)), covered)
}

func guardResult(e *Engine, a Action, m *mailbox.Message) string {
	reason, already := e.guard(a, m)
	if already {
		if reason != "" {
			return "(already, with a reason: " + reason + ")"
		}
		return alreadyGuard
	}
	return reason
}
