// Package huntapi serves the email events index (package hunt) through the
// HTTP API's hunting resources: Index adapts a hunt.Reader to api.Index, so
// that Graph's GET /security/collaboration/analyzedEmails ($filter, $top)
// and GET .../analyzedEmails/{id} read it.
//
// Each entry is one copy present in a mailbox, newest delivery first. Its
// networkMessageId is the message's Message-ID, the name Graph's remediate
// takes (package api), so that a listed entry can be remediated as it is;
// its id names the copy (the index's network id of the message and a digest
// of the copy's mailbox, delivery folder and time) and stays the same when
// the copy moves.
package huntapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// Defaults and bounds of $top.
const (
	DefaultTop = 100  // entries listed when $top is not given
	MaxTop     = 1000 // the largest $top accepted
)

// Index is an api.Index over a hunt.Reader.
type Index struct {
	r hunt.Reader
}

// New returns the api.Index that reads r.
func New(r hunt.Reader) *Index { return &Index{r: r} }

var _ api.Index = (*Index)(nil)

// invalid wraps remediation.ErrInvalidRequest, which the API answers 400
// with the message.
func invalid(err error) error {
	return fmt.Errorf("%w: %w", remediation.ErrInvalidRequest, err)
}

// AnalyzedEmails implements api.Index: the copies the $filter selects,
// newest delivery first, at most Top (DefaultTop when 0; more than MaxTop
// is refused). A filter must name at least one of networkMessageId,
// internetMessageId, recipientEmailAddress, a sender or subject; a time
// range alone would list every copy.
func (x *Index) AnalyzedEmails(ctx context.Context, q api.IndexQuery) ([]api.AnalyzedEmail, error) {
	top := q.Top
	switch {
	case top == 0:
		top = DefaultTop
	case top < 0 || top > MaxTop:
		return nil, invalid(fmt.Errorf("$top must be between 1 and %d", MaxTop))
	}
	terms, err := ParseFilter(q.Filter)
	if err != nil {
		return nil, invalid(err)
	}
	hq, keep, err := query(terms)
	if err != nil {
		return nil, invalid(err)
	}
	var copies []hunt.Copy
	for c, err := range x.r.Copies(ctx, hq) {
		if err != nil {
			if errors.Is(err, hunt.ErrInvalidQuery) || errors.Is(err, mailbox.ErrMatchesEverything) || errors.Is(err, mailbox.ErrEmptyCriteria) {
				return nil, invalid(err)
			}
			return nil, err
		}
		if !keep(&c) {
			continue
		}
		copies = append(copies, c)
		if len(copies) >= 4*top {
			copies = newest(copies, top)
		}
	}
	copies = newest(copies, top)
	out := make([]api.AnalyzedEmail, 0, len(copies))
	for i := range copies {
		out = append(out, entry(&copies[i]))
	}
	return out, nil
}

// newest sorts cs newest delivery first (ties by mailbox and folder) and
// keeps n.
func newest(cs []hunt.Copy, n int) []hunt.Copy {
	slices.SortStableFunc(cs, func(a, b hunt.Copy) int {
		if c := b.Delivered.Compare(a.Delivered); c != 0 {
			return c
		}
		if c := strings.Compare(a.Mailbox, b.Mailbox); c != 0 {
			return c
		}
		return strings.Compare(a.DeliveredFolder, b.DeliveredFolder)
	})
	return cs[:min(n, len(cs))]
}

// AnalyzedEmail implements api.Index: the copy id names, with the
// message's URLs and attachments.
func (x *Index) AnalyzedEmail(ctx context.Context, id string) (api.AnalyzedEmail, error) {
	nid, digest, ok := strings.Cut(id, ".")
	if !ok || nid == "" || len(digest) != 16 {
		return api.AnalyzedEmail{}, fmt.Errorf("%w: analyzedEmail %q", remediation.ErrNotFound, id)
	}
	ent, err := x.r.Entity(ctx, nid)
	if errors.Is(err, hunt.ErrNotFound) {
		return api.AnalyzedEmail{}, fmt.Errorf("%w: analyzedEmail %q", remediation.ErrNotFound, id)
	}
	if err != nil {
		return api.AnalyzedEmail{}, err
	}
	for i := range ent.Copies {
		c := &ent.Copies[i]
		if !c.Removed.IsZero() || copyDigest(c) != digest {
			continue
		}
		c.Message = ent.Message
		e := entry(c)
		for _, u := range ent.Message.URLs {
			e.URLs = append(e.URLs, api.AnalyzedEmailURL{URL: u})
		}
		for _, a := range ent.Message.Attachments {
			e.Attachments = append(e.Attachments, api.AnalyzedEmailAttachment{
				FileName: a.Name, FileType: a.Type, FileSize: a.Size, SHA256: a.SHA256, TLSH: a.TLSH})
		}
		return e, nil
	}
	return api.AnalyzedEmail{}, fmt.Errorf("%w: analyzedEmail %q", remediation.ErrNotFound, id)
}

// CopyID returns the id of c in the API: its message's network id and a
// digest of where and when it was delivered.
func CopyID(c *hunt.Copy) string { return c.Message.NetworkID + "." + copyDigest(c) }

func copyDigest(c *hunt.Copy) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d", c.Mailbox, c.DeliveredFolder, c.Delivered.UnixNano())
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// entry is c in Graph's analyzedEmail shape.
func entry(c *hunt.Copy) api.AnalyzedEmail {
	m := &c.Message
	e := api.AnalyzedEmail{
		ID:                    CopyID(c),
		NetworkMessageID:      m.MessageID,
		RecipientEmailAddress: c.Mailbox,
		Subject:               m.Subject,
		LoggedDateTime:        c.Delivered.UTC(),
		Size:                  m.Size,
		SenderDetail:          &api.AnalyzedEmailSender{FromAddress: m.From, DisplayName: m.FromName, MailFromAddress: m.EnvelopeFrom},
		OriginalDelivery:      &api.AnalyzedEmailDelivery{Folder: c.DeliveredFolder},
		LatestDelivery:        &api.AnalyzedEmailDelivery{Location: location(c.Role), Folder: c.Address.Folder},
	}
	if m.MessageID != "" {
		e.InternetMessageID = "<" + m.MessageID + ">"
	}
	if c.DeliveredFolder == c.Address.Folder {
		// The index knows the role of where the copy is, not of where it
		// was delivered; the same folder has the same role.
		e.OriginalDelivery.Location = e.LatestDelivery.Location
	}
	return e
}

// location is Graph's deliveryLocation of a folder role; "" when it has
// none (a folder of the user's own).
func location(r mailbox.Role) string {
	switch r {
	case mailbox.RoleInbox:
		return "inbox_folder"
	case mailbox.RoleJunk:
		return "junkFolder"
	case mailbox.RoleDeleted, mailbox.RoleRecoverable:
		return "deletedFolder"
	case mailbox.RoleQuarantine:
		return "quarantine"
	}
	return "others"
}

// query turns $filter terms into an index query and a check of what the
// index cannot select exactly (which sender, exact subject, delivery
// time).
func query(terms []Term) (hunt.Query, func(*hunt.Copy) bool, error) {
	var (
		crit    mailbox.Criteria
		q       hunt.Query
		checks  []func(*hunt.Copy) bool
		narrows bool
	)
	set := map[string]bool{}
	once := func(t Term) error {
		key := t.Property + " " + string(t.Op)
		if set[key] {
			return fmt.Errorf("%s %s is given twice", t.Property, t.Op)
		}
		set[key] = true
		return nil
	}
	for _, t := range terms {
		if err := once(t); err != nil {
			return q, nil, err
		}
		v := strings.TrimSpace(t.Value)
		switch t.Property {
		case "networkMessageId", "internetMessageId":
			id := mailbox.NormalizeMessageID(v)
			if id == "" {
				return q, nil, fmt.Errorf("%s is empty", t.Property)
			}
			crit.MessageIDs = append(crit.MessageIDs, id)
			checks = append(checks, func(c *hunt.Copy) bool { return c.Message.MessageID == id })
			narrows = true
		case "recipientEmailAddress":
			addr := strings.ToLower(v)
			if !strings.Contains(addr, "@") {
				return q, nil, fmt.Errorf("recipientEmailAddress %q is not an address", t.Value)
			}
			q.Mailboxes = []string{addr}
			narrows = true
		case "senderDetail/fromAddress", "senderDetail/mailFromAddress":
			addr := strings.ToLower(v)
			if !strings.Contains(addr, "@") {
				return q, nil, fmt.Errorf("%s %q is not an address", t.Property, t.Value)
			}
			crit.Senders = append(crit.Senders, addr)
			if t.Property == "senderDetail/fromAddress" {
				checks = append(checks, func(c *hunt.Copy) bool { return c.Message.From == addr })
			} else {
				checks = append(checks, func(c *hunt.Copy) bool { return c.Message.EnvelopeFrom == addr })
			}
			narrows = true
		case "subject":
			if t.Value == "" {
				return q, nil, errors.New("subject needs a value")
			}
			if crit.Subject != "" {
				return q, nil, errors.New("subject is filtered on twice")
			}
			crit.Subject = t.Value
			want := strings.ToLower(t.Value)
			switch t.Op {
			case Eq:
				checks = append(checks, func(c *hunt.Copy) bool { return strings.ToLower(c.Message.Subject) == want })
			case StartsWith:
				checks = append(checks, func(c *hunt.Copy) bool { return strings.HasPrefix(strings.ToLower(c.Message.Subject), want) })
			}
			narrows = true
		case "loggedDateTime":
			at := t.Time
			switch t.Op {
			case Ge:
				checks = append(checks, func(c *hunt.Copy) bool { return !c.Delivered.Before(at) })
			case Gt:
				checks = append(checks, func(c *hunt.Copy) bool { return c.Delivered.After(at) })
			case Le:
				checks = append(checks, func(c *hunt.Copy) bool { return !c.Delivered.After(at) })
			case Lt:
				checks = append(checks, func(c *hunt.Copy) bool { return c.Delivered.Before(at) })
			}
		}
	}
	if !narrows {
		return q, nil, errors.New("$filter must name at least one of networkMessageId, internetMessageId, recipientEmailAddress, senderDetail/fromAddress, senderDetail/mailFromAddress or subject: a time range alone would list every message")
	}
	if len(crit.MessageIDs) > 1 {
		// networkMessageId and internetMessageId: the checks keep the
		// copies of both, none when they differ.
		crit.MessageIDs = crit.MessageIDs[:1]
	}
	if len(crit.Senders) > 1 {
		// fromAddress and mailFromAddress: the index selects by either
		// sender; the checks keep the copies both match.
		crit.Senders = crit.Senders[:1]
	}
	if crit.MessageIDs != nil || crit.Senders != nil || crit.Subject != "" {
		if err := crit.Validate(); err != nil {
			return q, nil, err
		}
		q.Criteria = &crit
	}
	return q, func(c *hunt.Copy) bool {
		for _, f := range checks {
			if !f(c) {
				return false
			}
		}
		return true
	}, nil
}
