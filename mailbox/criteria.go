package mailbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/eradicate-dev/eradicate/internal/msgid"
)

// Criteria selects copies of messages. Within a list field any element may
// match (OR); every field that is set must match (AND); And and Or combine
// nested criteria.
//
// A criteria must contain at least one selector that narrows by message
// content: a message id, sender, sender domain, recipient, subject, URL or
// attachment hash. Folder, role and time range only narrow further; alone
// they would match every message in their scope and are refused
// ([ErrMatchesEverything]). Matching of addresses, domains and message ids
// is exact and case-insensitive; Subject is a case-insensitive substring.
type Criteria struct {
	// MessageIDs match the Message-ID header, with or without angle
	// brackets.
	MessageIDs []string `json:"message_ids,omitempty"`
	// Senders match the envelope sender (P1) or the header From (P2)
	// address exactly.
	Senders []string `json:"senders,omitempty"`
	// SenderDomains match the domain of the envelope sender or header From,
	// or any subdomain of it. A top-level domain or another public suffix
	// of the public suffix list ("co.uk", "com.au", "github.io") is
	// refused: it would match every sender registered under it.
	SenderDomains []string `json:"sender_domains,omitempty"`
	// Recipients match an address in To, Cc or Bcc, or the mailbox owner.
	Recipients []string `json:"recipients,omitempty"`
	// Subject is a case-insensitive substring of the decoded subject.
	Subject string `json:"subject,omitempty"`
	// URLs match a URL of the message ([Parsed.URLs]) that has the same
	// identity: equal after [NormalizeURL], which unwraps Safe Links and
	// other rewriters on both sides and canonicalises, as clusters name
	// URLs. Evaluating them needs the message content.
	URLs []string `json:"urls,omitempty"`
	// AttachmentSHA256 match the hex SHA-256 of an attachment. Evaluating
	// them needs the message content.
	AttachmentSHA256 []string `json:"attachment_sha256,omitempty"`

	// Since and Before bound the message date: Since <= date < Before. A
	// zero time is no bound.
	Since time.Time `json:"since,omitzero"`
	// Before is the exclusive upper bound of the message date; zero means
	// no bound. With Since set it must be after Since.
	Before time.Time `json:"before,omitzero"`
	// Folders and Roles restrict the folders searched; both may be set, and
	// a folder matching either is searched. Folders match folder names
	// exactly (INBOX in any case).
	Folders []string `json:"folders,omitempty"`
	// Roles match the folders of these roles; RoleNone matches no folder.
	Roles []Role `json:"roles,omitempty"`

	// And criteria must all match.
	And []Criteria `json:"and,omitempty"`
	// Or criteria: at least one must match when any is given. They
	// narrow the selection only when every one of them narrows it.
	Or []Criteria `json:"or,omitempty"`
}

// Clone returns a deep copy of c: no slice of the copy shares memory with
// c, so changing one never changes the other.
func (c Criteria) Clone() Criteria {
	c.MessageIDs = slices.Clone(c.MessageIDs)
	c.Senders = slices.Clone(c.Senders)
	c.SenderDomains = slices.Clone(c.SenderDomains)
	c.Recipients = slices.Clone(c.Recipients)
	c.URLs = slices.Clone(c.URLs)
	c.AttachmentSHA256 = slices.Clone(c.AttachmentSHA256)
	c.Folders = slices.Clone(c.Folders)
	c.Roles = slices.Clone(c.Roles)
	if c.And != nil {
		and := make([]Criteria, len(c.And))
		for i := range c.And {
			and[i] = c.And[i].Clone()
		}
		c.And = and
	}
	if c.Or != nil {
		or := make([]Criteria, len(c.Or))
		for i := range c.Or {
			or[i] = c.Or[i].Clone()
		}
		c.Or = or
	}
	return c
}

// Validate reports whether c is a usable selection: an error wrapping
// [ErrEmptyCriteria] when nothing is set, [ErrMatchesEverything] when no
// content selector narrows it, or a description of a malformed value.
func (c *Criteria) Validate() error {
	if c.isEmpty() {
		return ErrEmptyCriteria
	}
	if err := c.checkValues(); err != nil {
		return err
	}
	if !c.narrows(true) {
		return fmt.Errorf("%w: add a message id, sender, recipient, subject, URL or attachment hash", ErrMatchesEverything)
	}
	return nil
}

// ValidateSelection is [Criteria.Validate] for criteria that select copies
// to act on. It also refuses, with an error wrapping
// [ErrMatchesEverything], criteria whose only content selector is a
// recipient: a recipient matches every message of the recipient's own
// mailbox (Sent Items included), which suits reading a mailbox whole but
// would act on all of it.
func (c *Criteria) ValidateSelection() error {
	if err := c.Validate(); err != nil {
		return err
	}
	if !c.narrows(false) {
		return fmt.Errorf("%w: a recipient selects every message of the recipient's own mailbox; add a message id, sender, sender domain, subject, URL or attachment hash", ErrMatchesEverything)
	}
	return nil
}

func (c *Criteria) isEmpty() bool {
	if len(c.MessageIDs)+len(c.Senders)+len(c.SenderDomains)+len(c.Recipients)+len(c.URLs)+
		len(c.AttachmentSHA256)+len(c.Folders)+len(c.Roles) > 0 || c.Subject != "" ||
		!c.Since.IsZero() || !c.Before.IsZero() {
		return false
	}
	for i := range c.And {
		if !c.And[i].isEmpty() {
			return false
		}
	}
	for i := range c.Or {
		if !c.Or[i].isEmpty() {
			return false
		}
	}
	return true
}

func (c *Criteria) checkValues() error {
	var errs []error
	blank := func(field string, vs []string) {
		for _, v := range vs {
			if strings.TrimSpace(strings.Trim(v, "<>@*")) == "" {
				errs = append(errs, fmt.Errorf("mailbox: %s %q is blank or a wildcard", field, v))
			}
		}
	}
	blank("message id", c.MessageIDs)
	blank("sender", c.Senders)
	blank("sender domain", c.SenderDomains)
	blank("recipient", c.Recipients)
	blank("URL", c.URLs)
	blank("attachment hash", c.AttachmentSHA256)
	for _, d := range c.SenderDomains {
		// The checks see the domain as matching reads it (domainIn):
		// "*.com", "@.com" and "com.*" all mean "com".
		n := strings.Trim(strings.TrimSpace(d), "@*.")
		switch {
		case n == "":
			if strings.TrimSpace(strings.Trim(d, "<>@*")) != "" { // else reported as blank above
				errs = append(errs, fmt.Errorf("mailbox: sender domain %q is blank or a wildcard", d))
			}
		case strings.ContainsAny(n, "*@ \t"):
			errs = append(errs, fmt.Errorf("mailbox: sender domain %q has a wildcard, an @ or a space inside", d))
		case !strings.Contains(n, "."):
			errs = append(errs, fmt.Errorf("mailbox: sender domain %q is a top-level domain: %w", d, ErrMatchesEverything))
		case isPublicSuffix(strings.ToLower(n)):
			errs = append(errs, fmt.Errorf("mailbox: sender domain %q is a public suffix, under which anyone registers domains: %w", d, ErrMatchesEverything))
		}
	}
	for _, h := range c.AttachmentSHA256 {
		switch {
		case len(h) != 64 || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "":
			errs = append(errs, fmt.Errorf("mailbox: attachment hash %q is not a hex SHA-256", h))
		case strings.EqualFold(h, emptySHA256):
			errs = append(errs, fmt.Errorf("mailbox: attachment hash %q is the SHA-256 of an empty file, which any empty part has: %w", h, ErrMatchesEverything))
		}
	}
	if c.Subject != "" && strings.TrimSpace(c.Subject) == "" {
		errs = append(errs, fmt.Errorf("mailbox: subject %q is blank: %w", c.Subject, ErrMatchesEverything))
	}
	if !c.Since.IsZero() && !c.Before.IsZero() && !c.Since.Before(c.Before) {
		errs = append(errs, fmt.Errorf("mailbox: time range since %s before %s is empty", c.Since.Format(time.RFC3339), c.Before.Format(time.RFC3339)))
	}
	for i := range c.And {
		if err := c.And[i].checkValues(); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range c.Or {
		if err := c.Or[i].checkValues(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// narrows reports whether every message c matches must satisfy at least
// one content selector; recipients count as one when withRecipients.
func (c *Criteria) narrows(withRecipients bool) bool {
	n := len(c.MessageIDs) + len(c.Senders) + len(c.SenderDomains) + len(c.URLs) + len(c.AttachmentSHA256)
	if withRecipients {
		n += len(c.Recipients)
	}
	if n > 0 || c.Subject != "" {
		return true
	}
	for i := range c.And {
		if c.And[i].narrows(withRecipients) {
			return true
		}
	}
	if len(c.Or) == 0 {
		return false
	}
	for i := range c.Or {
		if !c.Or[i].narrows(withRecipients) {
			return false
		}
	}
	return true
}

// NeedsContent reports whether evaluating c needs the parsed message
// content (URLs or attachment hashes), not only the [Message] summary.
func (c *Criteria) NeedsContent() bool {
	if len(c.URLs)+len(c.AttachmentSHA256) > 0 {
		return true
	}
	for i := range c.And {
		if c.And[i].NeedsContent() {
			return true
		}
	}
	for i := range c.Or {
		if c.Or[i].NeedsContent() {
			return true
		}
	}
	return false
}

// MatchFolder reports whether a folder with the given name and role is in
// the scope of c. It is false only when every path through c restricts
// folders and none admits this one, so stores can skip folders cheaply.
func (c *Criteria) MatchFolder(name string, role Role) bool {
	if len(c.Folders)+len(c.Roles) > 0 && !c.folderListed(name, role) {
		return false
	}
	for i := range c.And {
		if !c.And[i].MatchFolder(name, role) {
			return false
		}
	}
	if len(c.Or) > 0 {
		for i := range c.Or {
			if c.Or[i].MatchFolder(name, role) {
				return true
			}
		}
		return false
	}
	return true
}

func (c *Criteria) folderListed(name string, role Role) bool {
	for _, f := range c.Folders {
		if f == name || (strings.EqualFold(f, "INBOX") && strings.EqualFold(name, "INBOX")) {
			return true
		}
	}
	for _, r := range c.Roles {
		if r == role && r != RoleNone {
			return true
		}
	}
	return false
}

// Match reports whether the copy m matches c. content is called at most
// once, and only when a URL or attachment criterion must be evaluated; it
// returns the parsed message. An error from content is returned.
func (c *Criteria) Match(m *Message, content func() (*Parsed, error)) (bool, error) {
	var p *Parsed
	var perr error
	loaded := false
	get := func() (*Parsed, error) {
		if !loaded {
			loaded = true
			if content == nil {
				perr = errors.New("mailbox: criteria need the message content")
			} else {
				p, perr = content()
			}
		}
		return p, perr
	}
	return c.match(m, get)
}

func (c *Criteria) match(m *Message, get func() (*Parsed, error)) (bool, error) {
	if !c.MatchFolder(m.Address.Folder, m.Role) {
		return false, nil
	}
	if len(c.MessageIDs) > 0 && !anyEqual(c.MessageIDs, m.MessageID, NormalizeMessageID) {
		return false, nil
	}
	if len(c.Senders) > 0 && !anyEqual(c.Senders, m.From, normAddr) && !anyEqual(c.Senders, m.EnvelopeFrom, normAddr) {
		return false, nil
	}
	if len(c.SenderDomains) > 0 && !domainIn(c.SenderDomains, m.From) && !domainIn(c.SenderDomains, m.EnvelopeFrom) {
		return false, nil
	}
	if len(c.Recipients) > 0 {
		ok := anyEqual(c.Recipients, m.Address.Mailbox, normAddr)
		for _, r := range m.Recipients {
			ok = ok || anyEqual(c.Recipients, r, normAddr)
		}
		if !ok {
			return false, nil
		}
	}
	if c.Subject != "" && !strings.Contains(strings.ToLower(m.Subject), strings.ToLower(c.Subject)) {
		return false, nil
	}
	if !c.Since.IsZero() && m.Date.Before(c.Since) {
		return false, nil
	}
	if !c.Before.IsZero() && !m.Date.Before(c.Before) {
		return false, nil
	}
	if len(c.URLs) > 0 || len(c.AttachmentSHA256) > 0 {
		p, err := get()
		if err != nil {
			return false, err
		}
		if len(c.URLs) > 0 && !urlIn(c.URLs, p.URLs) {
			return false, nil
		}
		if len(c.AttachmentSHA256) > 0 && !hashIn(c.AttachmentSHA256, p.Attachments) {
			return false, nil
		}
	}
	for i := range c.And {
		ok, err := c.And[i].match(m, get)
		if err != nil || !ok {
			return false, err
		}
	}
	if len(c.Or) > 0 {
		for i := range c.Or {
			ok, err := c.Or[i].match(m, get)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	}
	return true, nil
}

// NormalizeMessageID returns the form in which eradicate compares
// Message-IDs everywhere (criteria, clusters, journals, calendar
// provenance): id without surrounding white space and angle brackets,
// lower-cased. RFC 5322 makes the local part case-sensitive, but mail
// systems rewrite its case and a Message-ID is matched to find every copy
// of one message, so the comparison ignores case. Two ids name the same
// message when their normalized forms are equal and not empty. This is
// the only exported Message-ID rule; calendar.EqualMessageID applies it.
func NormalizeMessageID(id string) string { return msgid.Normalize(id) }

func normAddr(a string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
}

func anyEqual(want []string, got string, norm func(string) string) bool {
	if got == "" {
		return false
	}
	g := norm(got)
	for _, w := range want {
		if norm(w) == g {
			return true
		}
	}
	return false
}

// AddressDomain returns the lower-cased domain of an e-mail address, or ""
// when it has none.
func AddressDomain(addr string) string {
	addr = normAddr(addr)
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(addr[i+1:], ".")
}

// isPublicSuffix reports whether the lower-case domain d is a public
// suffix of the public suffix list, ICANN or private section ("co.uk",
// "com.au", "github.io"): a sender domain that matches every domain
// registered under it.
func isPublicSuffix(d string) bool {
	ps, _ := publicsuffix.PublicSuffix(d)
	return ps == d
}

// emptySHA256 is the SHA-256 of zero bytes.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func domainIn(domains []string, addr string) bool {
	d := AddressDomain(addr)
	if d == "" {
		return false
	}
	for _, w := range domains {
		w = strings.ToLower(strings.Trim(strings.TrimSpace(w), "@*."))
		if d == w || strings.HasSuffix(d, "."+w) {
			return true
		}
	}
	return false
}

// urlIn reports whether a URL of got has the identity ([NormalizeURL]) of
// one of want: rewritten links of either side are unwrapped.
func urlIn(want, got []string) bool {
	ws := make([]string, len(want))
	for i, w := range want {
		ws[i] = NormalizeURL(w)
	}
	for _, g := range got {
		if slices.Contains(ws, NormalizeURL(g)) {
			return true
		}
	}
	return false
}

func hashIn(want []string, atts []Attachment) bool {
	for _, a := range atts {
		for _, w := range want {
			if strings.EqualFold(w, a.SHA256) {
				return true
			}
		}
	}
	return false
}
