package api

import (
	"net/http"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// HeldMessage is one message held in quarantine: every quarantined copy
// with its Message-ID ([remediation.Held]).
type HeldMessage struct {
	MessageID  string            `json:"message_id"` // without angle brackets; "" when it has none
	Subject    string            `json:"subject"`    // of the first copy found
	From       string            `json:"from"`       // the header From of the first copy found
	Date       time.Time         `json:"date"`       // the message date of the first copy found
	Recipients []string          `json:"recipients"` // owners of the mailboxes holding a copy
	Copies     []mailbox.Address `json:"copies"`     // every quarantined copy
	// Reasons are the quarantine actions that hold the copies (none for
	// copies that reached quarantine otherwise).
	Reasons []HeldReason `json:"reasons,omitempty"`
}

// HeldReason is one quarantine action behind a held message
// ([remediation.HeldReason]); undoing it puts the copies back.
type HeldReason struct {
	RecordID    string             `json:"record_id"`             // the action
	Name        string             `json:"name,omitempty"`        // the action's name
	Description string             `json:"description,omitempty"` // the action's description
	Source      remediation.Source `json:"source"`                // e.g. detection_rule
	RuleName    string             `json:"rule_name,omitempty"`   // the detection rule, for a rule's action
	Actor       string             `json:"actor"`                 // who asked
	DecidedBy   string             `json:"decided_by,omitempty"`  // who decided
	When        time.Time          `json:"when"`                  // when the action started
	Copies      []mailbox.Address  `json:"copies"`                // the held copies it accounts for
}

// HeldList is the answer of GET /eradicate/v1/quarantine.
type HeldList struct {
	Value []HeldMessage `json:"value"` // sorted by date
}

// ReleaseRequest is the body of POST /eradicate/v1/quarantine/release.
type ReleaseRequest struct {
	// MessageIDs are the held messages to release.
	MessageIDs []string `json:"message_ids"`
	// Recipients restricts the release to these original recipients; empty
	// releases to every recipient.
	Recipients []string `json:"recipients,omitempty"`
	// Name is a title for the action center.
	Name string `json:"name,omitempty"`
	// Propose records the release as pending approval instead.
	Propose bool `json:"propose,omitempty"`
}

func (h *Handler) held(c *call) error {
	if len(c.r.URL.Query()) > 0 {
		return badRequest("this call takes no parameters")
	}
	ctx, cancel := c.ctx()
	defer cancel()
	list, err := h.engine.Held(ctx, nil)
	if err != nil {
		return err
	}
	out := HeldList{Value: make([]HeldMessage, 0, len(list))}
	for _, m := range list {
		hm := HeldMessage{MessageID: m.MessageID, Subject: m.Subject, From: m.From,
			Date: m.Date, Recipients: m.Recipients, Copies: m.Copies}
		for _, r := range m.Reasons {
			hm.Reasons = append(hm.Reasons, HeldReason{RecordID: r.RecordID, Name: r.Name, Description: r.Description,
				Source: r.Source, RuleName: r.RuleName, Actor: r.Actor, DecidedBy: r.DecidedBy, When: r.When, Copies: r.Copies})
		}
		out.Value = append(out.Value, hm)
	}
	return c.json(http.StatusOK, out)
}

// release releases held messages: a [remediation.Release] action, answered
// as POST /eradicate/v1/actions answers one.
func (h *Handler) release(c *call) error {
	var rr ReleaseRequest
	if err := c.decode(&rr); err != nil {
		return err
	}
	if len(rr.MessageIDs) == 0 {
		return badRequest("message_ids names no message")
	}
	return h.submit(c, ActionRequest{Action: remediation.Release, Name: rr.Name, Recipients: rr.Recipients, Propose: rr.Propose,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: rr.MessageIDs}}})
}
