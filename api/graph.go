package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	Size                  int64     `json:"size,omitempty"`              // the raw message size in bytes
	// SenderDetail names the senders.
	SenderDetail *AnalyzedEmailSender `json:"senderDetail,omitempty"`
	// OriginalDelivery is where the copy was delivered.
	OriginalDelivery *AnalyzedEmailDelivery `json:"originalDelivery,omitempty"`
	// LatestDelivery is where the copy is now.
	LatestDelivery *AnalyzedEmailDelivery `json:"latestDelivery,omitempty"`
	// URLs are the message's URLs, in GET .../{id} only.
	URLs []AnalyzedEmailURL `json:"urls,omitempty"`
	// Attachments are the message's attached files, in GET .../{id} only.
	Attachments []AnalyzedEmailAttachment `json:"attachments,omitempty"`
}

// AnalyzedEmailSender is Graph's analyzedEmailSenderDetail.
type AnalyzedEmailSender struct {
	FromAddress     string `json:"fromAddress,omitempty"`     // the header From (P2) address
	DisplayName     string `json:"displayName,omitempty"`     // the header From display name
	MailFromAddress string `json:"mailFromAddress,omitempty"` // the envelope sender (P1)
}

// AnalyzedEmailDelivery is Graph's analyzedEmailDeliveryDetail: a
// deliveryLocation (inbox_folder, junkFolder, deletedFolder, quarantine,
// others; "" when unknown) and, beyond Graph, the folder's name.
type AnalyzedEmailDelivery struct {
	Location string `json:"location,omitempty"` // Graph's deliveryLocation
	Folder   string `json:"folder,omitempty"`   // the folder's name on the store
}

// AnalyzedEmailURL is Graph's analyzedEmailUrl: a URL of the message, in
// the canonical form clusters name URLs by.
type AnalyzedEmailURL struct {
	URL string `json:"url"` // the canonical URL
}

// AnalyzedEmailAttachment is Graph's analyzedEmailAttachment.
type AnalyzedEmailAttachment struct {
	FileName string `json:"fileName,omitempty"` // the decoded file name
	FileType string `json:"fileType,omitempty"` // the media type
	FileSize int64  `json:"fileSize"`           // the decoded size in bytes
	SHA256   string `json:"sha256"`             // lower-case hex
	TLSH     string `json:"tlsh,omitempty"`     // the TLSH digest, beyond Graph
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
	// ApproverUpn (beta) is who approved the remediation elsewhere, as
	// the caller states it. It is kept in the action's description when
	// the caller may run the action itself; it is refused (400) when the
	// call would be a proposal (an analyst's hard delete), because no
	// statement in a body stands in for the approval of a second identity
	// that the server enforces.
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
	// ID is the index's id of the copy (Graph's beta form). Given alone,
	// the copy is looked up in the hunting index ([Options.Index]); 501
	// without one, 400 when the index has no such copy.
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

// graphRemediate is Graph's remediate. The copies named become actions
// whose selections are Message-IDs in the recipients' mailboxes: one
// action when every message is named for the same recipients (a campaign),
// else one per set of recipients sharing the same messages, so that
// exactly the copies named are acted on. The answer's Location names the
// first action; its body lists the others. An analyst's hard delete is
// proposed for approval; an admin's runs.
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
	propose := action == remediation.HardDelete && !c.id.Has(RoleAdmin)
	desc := g.Description
	if upn := strings.TrimSpace(g.ApproverUpn); upn != "" {
		// Graph's beta approverUpn records who approved the remediation
		// elsewhere. Where the caller may run the action itself, the name
		// is kept with it as the caller's statement; it never stands in
		// for an approval the server enforces.
		if propose {
			return badRequest("approverUpn cannot approve: a hard delete by an analyst is a proposal that an approver other than its actor approves with a call of their own (POST /eradicate/v1/actions/{id}/approve)")
		}
		if len(upn) > 256 || strings.ContainsFunc(upn, unicode.IsControl) {
			return badRequest("invalid approverUpn")
		}
		desc = strings.TrimSpace(desc + "\napproverUpn (as stated by the caller): " + upn)
	}
	pairs, err := h.graphPairs(c, g.AnalyzedEmails)
	if err != nil {
		return err
	}
	sels := graphSelections(pairs)
	var ids []string
	for i, sel := range sels {
		req := remediation.Request{
			Action: action, Name: g.DisplayName, Description: desc, Severity: sev,
			Source: remediation.SourceAPI, Actor: c.id.Name, Selection: sel,
		}
		if len(sels) > 1 {
			req.Name = fmt.Sprintf("%s (%d of %d)", g.DisplayName, i+1, len(sels))
		}
		id, err := h.graphStart(c, req, propose)
		if err != nil {
			if len(ids) > 0 {
				return fmt.Errorf("part %d of %d (the actions %s were started): %w", i+1, len(sels), strings.Join(ids, ", "), err)
			}
			return err
		}
		ids = append(ids, id)
	}
	if g.RemediateSendersCopy {
		var msgs []string
		seen := map[string]bool{}
		for _, p := range pairs {
			if !seen[p.norm] {
				seen[p.norm] = true
				msgs = append(msgs, p.msg)
			}
		}
		sender := remediation.Request{
			Action: remediation.DeleteSenderCopy, Name: g.DisplayName + " (sender's copy)", Description: desc,
			Severity: sev, Source: remediation.SourceAPI, Actor: c.id.Name,
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: msgs}},
		}
		id, err := h.startExecute(c, sender)
		if err != nil {
			return fmt.Errorf("the sender's copy (the actions %s on the recipients' copies were started): %w", strings.Join(ids, ", "), err)
		}
		ids = append(ids, id)
	}
	return c.accepted(ids...)
}

// graphStart proposes req or starts it, and returns the action's id.
func (h *Handler) graphStart(c *call, req remediation.Request, propose bool) (string, error) {
	if !propose {
		return h.startExecute(c, req)
	}
	ctx, cancel := c.ctx()
	defer cancel()
	rec, err := h.engine.Propose(ctx, req)
	if err != nil {
		return "", err
	}
	return rec.ID, nil
}

// graphPair is one copy a Graph remediate names: a message (as given, and
// normalised) and a recipient (lower case).
type graphPair struct {
	msg, norm, rcpt string
}

// graphPairs checks the copies of a Graph remediate and returns them,
// without repeats. A copy named by its id alone (Graph's beta form) is
// looked up in the hunting index.
func (h *Handler) graphPairs(c *call, emails []GraphAnalyzedEmail) ([]graphPair, error) {
	if len(emails) == 0 {
		return nil, badRequest("analyzedEmails is empty: name at least one networkMessageId and recipientEmailAddress")
	}
	if len(emails) > maxAnalyzedEmails {
		return nil, badRequest(fmt.Sprintf("analyzedEmails names %d copies; at most %d per call", len(emails), maxAnalyzedEmails))
	}
	var out []graphPair
	seen := map[[2]string]bool{}
	for i, e := range emails {
		if e.NetworkMessageID == "" && e.RecipientEmailAddress == "" && e.ID != "" {
			found, err := h.graphByID(c, i, e.ID)
			if err != nil {
				return nil, err
			}
			e.NetworkMessageID, e.RecipientEmailAddress = found.NetworkMessageID, found.RecipientEmailAddress
		}
		if e.NetworkMessageID == "" || e.RecipientEmailAddress == "" {
			return nil, badRequest(fmt.Sprintf("analyzedEmails[%d] needs networkMessageId and recipientEmailAddress (or, with a hunting index, an id alone)", i))
		}
		m := mailbox.NormalizeMessageID(e.NetworkMessageID)
		r := strings.ToLower(strings.TrimSpace(e.RecipientEmailAddress))
		if m == "" || !strings.Contains(r, "@") {
			return nil, badRequest(fmt.Sprintf("analyzedEmails[%d]: invalid networkMessageId or recipientEmailAddress", i))
		}
		if k := [2]string{m, r}; !seen[k] {
			seen[k] = true
			out = append(out, graphPair{msg: strings.Trim(strings.TrimSpace(e.NetworkMessageID), "<>"), norm: m, rcpt: r})
		}
	}
	return out, nil
}

// graphByID looks up the copy analyzedEmails[i] names by its id.
func (h *Handler) graphByID(c *call, i int, id string) (AnalyzedEmail, error) {
	if h.opts.Index == nil {
		return AnalyzedEmail{}, errorf(http.StatusNotImplemented, "NotImplemented",
			fmt.Sprintf("analyzedEmails[%d] names an id only: ids need a hunting index, which this server has not; send networkMessageId and recipientEmailAddress", i))
	}
	if len(id) > 256 {
		return AnalyzedEmail{}, badRequest(fmt.Sprintf("analyzedEmails[%d]: invalid id", i))
	}
	ctx, cancel := c.ctx()
	defer cancel()
	found, err := h.opts.Index.AnalyzedEmail(ctx, id)
	if errors.Is(err, remediation.ErrNotFound) {
		return AnalyzedEmail{}, badRequest(fmt.Sprintf("analyzedEmails[%d]: the hunting index has no copy %q", i, id))
	}
	return found, err
}

// graphSelections turns copies into selections that select exactly them.
// A selection of Message-IDs in a set of mailboxes selects every message
// in every mailbox, so the recipients are grouped by the set of messages
// named for them: each group is one selection. A campaign (the same
// messages for every recipient) is one selection. The order follows the
// first appearance of each group.
func graphSelections(pairs []graphPair) []remediation.Selection {
	msgsOf := map[string][]string{} // recipient → messages as given, in order
	var rcpts []string
	for _, p := range pairs {
		if _, ok := msgsOf[p.rcpt]; !ok {
			rcpts = append(rcpts, p.rcpt)
		}
		msgsOf[p.rcpt] = append(msgsOf[p.rcpt], p.msg)
	}
	type group struct {
		msgs  []string
		rcpts []string
	}
	byKey := map[string]*group{}
	var order []string
	for _, r := range rcpts {
		msgs := msgsOf[r]
		norm := make([]string, len(msgs))
		for i, m := range msgs {
			norm[i] = mailbox.NormalizeMessageID(m)
		}
		slices.Sort(norm)
		key := strings.Join(norm, "\x00")
		g := byKey[key]
		if g == nil {
			g = &group{msgs: msgs}
			byKey[key] = g
			order = append(order, key)
		}
		g.rcpts = append(g.rcpts, r)
	}
	sels := make([]remediation.Selection, 0, len(order))
	for _, k := range order {
		g := byKey[k]
		slices.Sort(g.rcpts)
		sels = append(sels, remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: g.msgs}, Mailboxes: g.rcpts})
	}
	return sels
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
