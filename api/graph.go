package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// Index is the hunting index that Graph's GET .../analyzedEmails reads:
// one entry per message copy. A Handler without one answers those calls
// 501 Not Implemented.
type Index interface {
	// AnalyzedEmails lists the entries q selects, newest first.
	AnalyzedEmails(ctx context.Context, q IndexQuery) ([]AnalyzedEmail, error)
	// AnalyzedEmail returns the entry id; an error wrapping
	// remediation.ErrNotFound when there is none.
	AnalyzedEmail(ctx context.Context, id string) (AnalyzedEmail, error)
}

// IndexQuery is the OData query of GET .../analyzedEmails.
type IndexQuery struct {
	// Filter is the $filter expression, as given; the index parses it
	// and rejects what it cannot evaluate.
	Filter string
	// Top is $top, the most entries to return; 0 means the index's
	// default.
	Top int
}

// AnalyzedEmail is one entry of the hunting index, in Graph's
// analyzedEmail shape (the properties eradicate knows).
type AnalyzedEmail struct {
	ID                    string    `json:"id"`                          // the index's id of the copy
	NetworkMessageID      string    `json:"networkMessageId"`            // the message (its Message-ID)
	InternetMessageID     string    `json:"internetMessageId,omitempty"` // the Message-ID header
	RecipientEmailAddress string    `json:"recipientEmailAddress"`       // the mailbox owner
	Subject               string    `json:"subject,omitempty"`           // the decoded subject
	LoggedDateTime        time.Time `json:"loggedDateTime,omitzero"`     // when the copy was delivered
}

// GraphRemediate is the body of Graph's POST
// /security/collaboration/analyzedEmails/remediate.
type GraphRemediate struct {
	DisplayName string `json:"displayName"` // the action's name in the action center
	Description string `json:"description"` // free text kept with the action
	// Severity is low, medium or high (unknownFutureValue is refused).
	Severity string `json:"severity"`
	// Action is moveToJunk, moveToInbox, hardDelete, softDelete,
	// moveToDeletedItems or moveToQuarantine (a member of Graph's
	// evolvable enum that Defender does not support yet).
	Action string `json:"action"`
	// ApproverUpn (beta) is refused when set: an approval is an
	// approver's own call.
	ApproverUpn string `json:"approverUpn,omitempty"`
	// RemediateSendersCopy also soft-deletes the copy in an internal
	// sender's Sent folder, as a second action. Graph's own example sends
	// it as the string "false", which is accepted too.
	RemediateSendersCopy flexBool `json:"remediateSendersCopy"`
	// AnalyzedEmails are the copies: message and recipient.
	AnalyzedEmails []GraphAnalyzedEmail `json:"analyzedEmails"`
}

// GraphAnalyzedEmail names one copy of a Graph remediate.
type GraphAnalyzedEmail struct {
	// ODataType is accepted and ignored ("#microsoft.graph.security.analyzedEmail").
	ODataType string `json:"@odata.type,omitempty"`
	// ID is the index's id of the copy (beta); it needs a hunting index.
	ID string `json:"id,omitempty"`
	// NetworkMessageID names the message. eradicate has no network
	// message id of its own: it is the message's Message-ID, with or
	// without angle brackets.
	NetworkMessageID string `json:"networkMessageId,omitempty"`
	// RecipientEmailAddress is the owner of the mailbox holding the copy.
	RecipientEmailAddress string `json:"recipientEmailAddress,omitempty"`
}

// flexBool is a JSON boolean that also reads "true" and "false" as strings.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	switch s {
	case "true":
		*b = true
	case "false", "null":
		*b = false
	default:
		return fmt.Errorf("a boolean is true or false, not %s", data)
	}
	return nil
}

var graphActions = map[string]remediation.Action{
	"moveToJunk":         remediation.MoveToJunk,
	"moveToInbox":        remediation.MoveToInbox,
	"hardDelete":         remediation.HardDelete,
	"softDelete":         remediation.SoftDelete,
	"moveToDeletedItems": remediation.MoveToDeleted,
	"moveToQuarantine":   remediation.Quarantine,
}

var graphSeverities = map[string]remediation.Severity{
	"":       "",
	"low":    remediation.SeverityLow,
	"medium": remediation.SeverityMedium,
	"high":   remediation.SeverityHigh,
}

// maxAnalyzedEmails bounds the copies one Graph remediate names.
const maxAnalyzedEmails = 10000

// graphRemediate is Graph's remediate: the copies become one action whose
// selection is the messages' Message-IDs in the recipients' mailboxes.
// An analyst's hard delete is proposed for approval (the answer's Location
// names the pending action); an admin's runs.
func (h *Handler) graphRemediate(c *call) error {
	var g GraphRemediate
	if err := c.decode(&g); err != nil {
		return err
	}
	action, ok := graphActions[g.Action]
	if !ok {
		return badRequest(fmt.Sprintf("unknown action %q: moveToJunk, moveToInbox, hardDelete, softDelete, moveToDeletedItems or moveToQuarantine", g.Action))
	}
	sev, ok := graphSeverities[g.Severity]
	if !ok {
		return badRequest(fmt.Sprintf("unknown severity %q: low, medium or high", g.Severity))
	}
	if g.ApproverUpn != "" {
		return badRequest("approverUpn is not accepted: an approver approves with a call of their own (POST /eradicate/v1/actions/{id}/approve)")
	}
	sel, err := graphSelection(g.AnalyzedEmails)
	if err != nil {
		return err
	}
	req := remediation.Request{
		Action: action, Name: g.DisplayName, Description: g.Description, Severity: sev,
		Source: remediation.SourceAPI, Actor: c.id.Name, Selection: sel,
	}
	var ids []string
	if action == remediation.HardDelete && !c.id.Has(RoleAdmin) {
		ctx, cancel := c.ctx()
		rec, err := h.engine.Propose(ctx, req)
		cancel()
		if err != nil {
			return err
		}
		ids = append(ids, rec.ID)
	} else {
		id, err := h.startExecute(c, req)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if g.RemediateSendersCopy {
		crit := *sel.Criteria
		crit.Recipients = nil
		sender := remediation.Request{
			Action: remediation.DeleteSenderCopy, Name: g.DisplayName + " (sender's copy)", Description: g.Description,
			Severity: sev, Source: remediation.SourceAPI, Actor: c.id.Name,
			Selection: remediation.Selection{Criteria: &crit},
		}
		id, err := h.startExecute(c, sender)
		if err != nil {
			return fmt.Errorf("the sender's copy (the action %s on the recipients' copies was started): %w", ids[0], err)
		}
		ids = append(ids, id)
	}
	return c.accepted(ids...)
}

// graphSelection turns Graph's copies into a selection. The copies must be
// every pair of a set of messages and a set of recipients (one message to
// several recipients, as a campaign is): a selection of Message-IDs in the
// recipients' mailboxes then selects exactly them. Other sets are refused
// (send one call per message).
func graphSelection(emails []GraphAnalyzedEmail) (remediation.Selection, error) {
	if len(emails) == 0 {
		return remediation.Selection{}, badRequest("analyzedEmails is empty: name at least one networkMessageId and recipientEmailAddress")
	}
	if len(emails) > maxAnalyzedEmails {
		return remediation.Selection{}, badRequest(fmt.Sprintf("analyzedEmails names %d copies; at most %d per call", len(emails), maxAnalyzedEmails))
	}
	byMsg := map[string]map[string]bool{}
	var msgs, rcpts []string
	seenRcpt := map[string]bool{}
	for i, e := range emails {
		if e.NetworkMessageID == "" || e.RecipientEmailAddress == "" {
			if e.ID != "" {
				return remediation.Selection{}, errorf(http.StatusNotImplemented, "NotImplemented",
					fmt.Sprintf("analyzedEmails[%d] names an id only: ids need the hunting index; send networkMessageId and recipientEmailAddress", i))
			}
			return remediation.Selection{}, badRequest(fmt.Sprintf("analyzedEmails[%d] needs networkMessageId and recipientEmailAddress", i))
		}
		m := mailbox.NormalizeMessageID(e.NetworkMessageID)
		r := strings.ToLower(strings.TrimSpace(e.RecipientEmailAddress))
		if m == "" || !strings.Contains(r, "@") {
			return remediation.Selection{}, badRequest(fmt.Sprintf("analyzedEmails[%d]: invalid networkMessageId or recipientEmailAddress", i))
		}
		if byMsg[m] == nil {
			byMsg[m] = map[string]bool{}
			msgs = append(msgs, strings.Trim(strings.TrimSpace(e.NetworkMessageID), "<>"))
		}
		byMsg[m][r] = true
		if !seenRcpt[r] {
			seenRcpt[r] = true
			rcpts = append(rcpts, r)
		}
	}
	for m, rs := range byMsg {
		if len(rs) != len(rcpts) {
			return remediation.Selection{}, badRequest(fmt.Sprintf(
				"analyzedEmails must name every message for every recipient named (message %s is named for %d of %d recipients): send one call per message", m, len(rs), len(rcpts)))
		}
	}
	slices.Sort(rcpts)
	return remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: msgs}, Mailboxes: rcpts}, nil
}

func (h *Handler) graphList(c *call) error {
	if h.opts.Index == nil {
		return errNoIndex
	}
	q := c.r.URL.Query()
	var iq IndexQuery
	for k := range q {
		switch k {
		case "$filter":
			iq.Filter = q.Get(k)
		case "$top":
			n, err := strconv.Atoi(q.Get(k))
			if err != nil || n < 1 {
				return badRequest("$top must be a positive number")
			}
			iq.Top = n
		default:
			return badRequest(fmt.Sprintf("unsupported query parameter %q ($filter, $top)", k))
		}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	list, err := h.opts.Index.AnalyzedEmails(ctx, iq)
	if err != nil {
		return err
	}
	if list == nil {
		list = []AnalyzedEmail{}
	}
	return c.json(http.StatusOK, map[string]any{"value": list})
}

func (h *Handler) graphGet(c *call) error {
	if h.opts.Index == nil {
		return errNoIndex
	}
	id := c.r.PathValue("id")
	if id == "" || len(id) > 256 {
		return badRequest("invalid id")
	}
	ctx, cancel := c.ctx()
	defer cancel()
	e, err := h.opts.Index.AnalyzedEmail(ctx, id)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, e)
}

var errNoIndex = errorf(http.StatusNotImplemented, "NotImplemented",
	"this server has no hunting index: analyzedEmails cannot be listed or read; remediate by networkMessageId (the Message-ID) and recipientEmailAddress")
