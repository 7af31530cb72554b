package mock

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.Store = (*Tenant)(nil)

// Names of the role folders every mailbox of a [Tenant] has. INBOX is
// matched case-insensitively, other names exactly, as in IMAP.
const (
	FolderInbox       = "INBOX"             // mailbox.RoleInbox
	FolderJunk        = "Junk"              // mailbox.RoleJunk
	FolderDeleted     = "Deleted Items"     // mailbox.RoleDeleted
	FolderSent        = "Sent Items"        // mailbox.RoleSent
	FolderRecoverable = "Recoverable Items" // mailbox.RoleRecoverable, admin-only
	FolderQuarantine  = "Quarantine"        // mailbox.RoleQuarantine, admin-only
	FolderEvidence    = "Purge Evidence"    // mailbox.RoleEvidence, admin-only
)

// ErrExists means a user or folder that is being created already exists.
var ErrExists = errors.New("mock: already exists")

// roleFolder returns the name of the folder a mailbox has for r.
func roleFolder(r mailbox.Role) string {
	switch r {
	case mailbox.RoleInbox:
		return FolderInbox
	case mailbox.RoleJunk:
		return FolderJunk
	case mailbox.RoleDeleted:
		return FolderDeleted
	case mailbox.RoleSent:
		return FolderSent
	case mailbox.RoleRecoverable:
		return FolderRecoverable
	case mailbox.RoleQuarantine:
		return FolderQuarantine
	case mailbox.RoleEvidence:
		return FolderEvidence
	}
	return ""
}

// mailState is the in-memory mail part of a Tenant. It is guarded by
// Tenant.mu.
type mailState struct {
	users map[string]*userBox // by lower-cased owner address
	// sorted is the sorted list of owners; nil when it must be rebuilt.
	sorted []string
	// validity is the last UIDVALIDITY handed out; each folder gets the
	// next one, so no two folders of a tenant ever share one.
	validity uint32
	// onDeliver are called, in order and without the lock, for each copy
	// Deliver stores for a recipient.
	onDeliver []func(ctx context.Context, addr mailbox.Address, p *mailbox.Parsed)
}

// userBox is one mailbox.
type userBox struct {
	owner   string
	folders map[string]*folder // by name; INBOX as "INBOX"
	roles   map[mailbox.Role]*folder
	// order lists the folders: role folders in mailbox.Roles() order, then
	// ordinary folders by name.
	order []*folder
}

// folder is one folder of a mailbox. name and role never change.
type folder struct {
	name     string
	role     mailbox.Role
	validity uint32
	nextUID  uint32
	msgs     map[uint32]*message
	// flags holds the flags of the copies that have any.
	flags map[uint32][]string
}

// message is one stored message. All copies of one delivery share it, so
// a copy costs one map entry.
type message struct {
	raw []byte
	// sum is the summary every copy reports; Address, Role and Flags are
	// filled per copy.
	sum mailbox.Message
	// content holds only what content criteria need: URLs and attachments
	// without their bytes.
	content *mailbox.Parsed
}

func (t *Tenant) initMailLocked() {
	t.mail.users = make(map[string]*userBox)
}

// normMailbox returns the lower-cased, trimmed form of an owner address.
func normMailbox(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// newFolderLocked makes a folder with a fresh UIDVALIDITY.
func (t *Tenant) newFolderLocked(name string, role mailbox.Role) *folder {
	t.mail.validity++
	return &folder{
		name:     name,
		role:     role,
		validity: t.mail.validity,
		nextUID:  1,
		msgs:     make(map[uint32]*message),
	}
}

// AddUser creates the mailbox of addr (lower-cased) with one folder per
// role of mailbox.Roles(), named by the Folder constants; the admin-only
// folders (quarantine, evidence, recoverable items) are per mailbox too. It
// returns an error wrapping [ErrExists] when the user exists, so it is not
// idempotent: callers that do not care test with errors.Is. An address
// without a local part and a domain is refused. AddUser is not a backend
// call: it is not counted and no fault strikes it.
func (t *Tenant) AddUser(addr string) error {
	owner := normMailbox(addr)
	at := strings.LastIndexByte(owner, '@')
	if at <= 0 || at == len(owner)-1 || strings.ContainsAny(owner, " \t\r\n<>") {
		return fmt.Errorf("mock: invalid user address %q", addr)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.mail.users[owner]; ok {
		return fmt.Errorf("mock: user %s: %w", owner, ErrExists)
	}
	roles := mailbox.Roles()
	u := &userBox{
		owner:   owner,
		folders: make(map[string]*folder, len(roles)),
		roles:   make(map[mailbox.Role]*folder, len(roles)),
		order:   make([]*folder, 0, len(roles)),
	}
	for _, r := range roles {
		f := t.newFolderLocked(roleFolder(r), r)
		u.folders[f.name] = f
		u.roles[r] = f
		u.order = append(u.order, f)
	}
	t.mail.users[owner] = u
	t.mail.sorted = nil
	return nil
}

// CreateFolder creates an ordinary folder (role none) in the mailbox of
// owner. An unknown owner gives mailbox.ErrNoMailbox; a name that exists
// (INBOX in any case included) gives [ErrExists]; an empty name is
// refused. It is not a backend call.
func (t *Tenant) CreateFolder(owner, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("mock: invalid folder name %q", name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(owner)
	if err != nil {
		return err
	}
	if u.folderLocked(name) != nil {
		return fmt.Errorf("mock: folder %q of %s: %w", name, u.owner, ErrExists)
	}
	f := t.newFolderLocked(name, mailbox.RoleNone)
	u.folders[name] = f
	u.order = append(u.order, f)
	slices.SortStableFunc(u.order[len(mailbox.Roles()):], func(a, b *folder) int { return cmp.Compare(a.name, b.name) })
	return nil
}

// ResetUIDValidity gives a folder a new UIDVALIDITY and renumbers its
// messages from UID 1 in their old order, as a server does when it
// rebuilds its index. Addresses taken before then are stale: using them
// gives mailbox.ErrUIDValidity. Unknown owners give mailbox.ErrNoMailbox,
// unknown folders mailbox.ErrNoFolder. It is a test hook, not a backend
// call.
func (t *Tenant) ResetUIDValidity(owner, folderName string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(owner)
	if err != nil {
		return err
	}
	f := u.folderLocked(folderName)
	if f == nil {
		return fmt.Errorf("mock: folder %q of %s: %w", folderName, u.owner, mailbox.ErrNoFolder)
	}
	uids := make([]uint32, 0, len(f.msgs))
	for uid := range f.msgs {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	msgs := make(map[uint32]*message, len(uids))
	var flags map[uint32][]string
	for i, uid := range uids {
		n := uint32(i + 1)
		msgs[n] = f.msgs[uid]
		if fl, ok := f.flags[uid]; ok {
			if flags == nil {
				flags = make(map[uint32][]string)
			}
			flags[n] = fl
		}
	}
	t.mail.validity++
	f.validity = t.mail.validity
	f.msgs = msgs
	f.flags = flags
	f.nextUID = uint32(len(uids) + 1)
	return nil
}

// FolderRole returns the role of a folder of owner's mailbox: RoleNone for
// an ordinary folder, mailbox.ErrNoMailbox or mailbox.ErrNoFolder when
// either is unknown. OnDeliver hooks use it to tell, say, a quarantined
// copy from one in the inbox. It is not a backend call.
func (t *Tenant) FolderRole(owner, folderName string) (mailbox.Role, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(owner)
	if err != nil {
		return mailbox.RoleNone, err
	}
	f := u.folderLocked(folderName)
	if f == nil {
		return mailbox.RoleNone, fmt.Errorf("mock: folder %q of %s: %w", folderName, u.owner, mailbox.ErrNoFolder)
	}
	return f.role, nil
}

// OnDeliver registers fn to be called for each copy [Tenant.Deliver]
// stores for a recipient (not for the sender's copy in Sent, and not for
// Append): after the copy is stored, without any lock held, in the order
// of registration, with the ctx given to Deliver. p is the parsed message,
// shared by every call of one delivery; fn must not modify it. fn may call
// the tenant's methods. Hooks cannot be removed.
func (t *Tenant) OnDeliver(fn func(ctx context.Context, addr mailbox.Address, p *mailbox.Parsed)) {
	if fn == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mail.onDeliver = append(t.mail.onDeliver, fn)
}

// DeliverOptions are the optional settings of [Tenant.Deliver]. A nil
// pointer is the same as a zero value.
type DeliverOptions struct {
	// Recipients are the envelope recipients (SMTP RCPT TO). Empty means
	// the To, Cc and Bcc addresses of the message that are users of the
	// tenant.
	Recipients []string
	// EnvelopeFrom is the SMTP MAIL FROM, Defender's P1 sender. Empty
	// means the message's Return-Path, if any. It wins over a
	// Return-Path in the message, as the delivery agent's envelope does.
	// The raw message is not changed: the address is kept with the
	// copies and reported as mailbox.Message.EnvelopeFrom, and as
	// Parsed.EnvelopeFrom to OnDeliver hooks.
	EnvelopeFrom string
	// Role is the folder the recipients' copies go to; RoleNone means
	// RoleInbox. RoleJunk and RoleQuarantine model filtering on delivery.
	Role mailbox.Role
	// Date is the internal date of the copies; zero means now. It is
	// also the message date when the Date header is missing or
	// unreadable.
	Date time.Time
	// SenderCopy also stores a copy in the Sent folder of the sender when
	// the envelope sender (or, without one, the header From) is a user
	// of the tenant, as a mail client does when it sends. Default: no
	// sender copy.
	SenderCopy bool
}

// Deliver delivers raw as an MTA would: each recipient that is a user of
// the tenant gets its own copy (all copies share one buffer and one parse,
// so delivering to many recipients at once is the bulk loader). It returns
// the addresses of the stored copies, the recipients' in recipient order,
// then the sender's copy when [DeliverOptions.SenderCopy] made one; the
// addresses are returned even when err is non-nil.
//
// Recipients named in [DeliverOptions.Recipients] that are not users are
// skipped and reported in an error wrapping mailbox.ErrNoMailbox, after
// the others got their copies. Without explicit recipients, header
// recipients outside the tenant are skipped silently (they are external);
// when none is a user the error wraps mailbox.ErrNoMailbox. A message that
// cannot be fully parsed is still delivered with what could be read.
//
// After storing, Deliver calls the [Tenant.OnDeliver] hooks for each
// recipient copy. A done ctx before anything is stored returns an error
// wrapping ctx.Err(). Deliver is the tenant's mail transport, not a
// mailbox.Store call: it is not counted by [Tenant.Calls] and injected
// faults do not strike it.
func (t *Tenant) Deliver(ctx context.Context, raw []byte, opts *DeliverOptions) ([]mailbox.Address, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mock: deliver: %w", err)
	}
	var o DeliverOptions
	if opts != nil {
		o = *opts
	}
	role := o.Role
	if role == mailbox.RoleNone {
		role = mailbox.RoleInbox
	}
	if roleFolder(role) == "" {
		return nil, fmt.Errorf("mock: deliver to unknown role %q: %w", role, mailbox.ErrNoFolder)
	}
	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	m, p := t.newMessage(raw, o.EnvelopeFrom, date)

	var errs []error
	t.mu.Lock()
	var owners []*userBox
	if len(o.Recipients) > 0 {
		seen := make(map[string]bool, len(o.Recipients))
		for _, r := range o.Recipients {
			n := normMailbox(strings.Trim(strings.TrimSpace(r), "<>"))
			if seen[n] {
				continue
			}
			seen[n] = true
			if u := t.mail.users[n]; u != nil {
				owners = append(owners, u)
			} else {
				errs = append(errs, fmt.Errorf("mock: deliver: recipient %q: %w", r, mailbox.ErrNoMailbox))
			}
		}
	} else {
		for _, r := range p.Recipients() {
			if u := t.mail.users[normMailbox(r)]; u != nil {
				owners = append(owners, u)
			}
		}
		if len(owners) == 0 {
			errs = append(errs, fmt.Errorf("mock: deliver: no recipient of the message is a user: %w", mailbox.ErrNoMailbox))
		}
	}
	addrs := make([]mailbox.Address, 0, len(owners)+1)
	for _, u := range owners {
		addrs = append(addrs, storeLocked(u, u.roles[role], m, nil))
	}
	var sent []mailbox.Address
	if o.SenderCopy {
		sender := m.sum.EnvelopeFrom
		if sender == "" {
			sender = m.sum.From
		}
		if u := t.mail.users[normMailbox(sender)]; u != nil && sender != "" {
			sent = append(sent, storeLocked(u, u.roles[mailbox.RoleSent], m, nil))
		}
	}
	hooks := slices.Clip(t.mail.onDeliver)
	t.mu.Unlock()
	t.log.Debug("mock: deliver", "message_id", m.sum.MessageID, "copies", len(addrs)+len(sent), "unknown_recipients", len(errs))

	for _, a := range addrs {
		for _, fn := range hooks {
			fn(ctx, a, p)
		}
	}
	return append(addrs, sent...), errors.Join(errs...)
}

// newMessage parses raw once and builds the message its copies share.
// envFrom overrides the Return-Path as P1 sender; date stands in for a
// missing Date header. The returned Parsed is the full parse, for hooks.
func (t *Tenant) newMessage(raw []byte, envFrom string, date time.Time) (*message, *mailbox.Parsed) {
	raw = bytes.Clone(raw)
	p, err := mailbox.Parse(raw)
	if p == nil {
		p = &mailbox.Parsed{Size: len(raw)}
	}
	if err != nil {
		t.log.Debug("mock: message parsed with errors", "size", len(raw), "err", err)
	}
	if envFrom = strings.ToLower(strings.Trim(strings.TrimSpace(envFrom), "<>")); envFrom != "" {
		p.EnvelopeFrom = envFrom
	}
	sum := p.Summary()
	if sum.Date.IsZero() {
		sum.Date = date
	}
	sum.Size = int64(len(raw))
	m := &message{raw: raw, sum: sum}
	if len(p.URLs)+len(p.Attachments) > 0 {
		// Clone the strings: they may point into the decoded bodies,
		// which the message must not keep alive.
		c := &mailbox.Parsed{URLs: make([]string, len(p.URLs)), Attachments: make([]mailbox.Attachment, len(p.Attachments)), Truncated: p.Truncated}
		for i, u := range p.URLs {
			c.URLs[i] = strings.Clone(u)
		}
		for i, a := range p.Attachments {
			c.Attachments[i] = mailbox.Attachment{
				Filename:  strings.Clone(a.Filename),
				MediaType: strings.Clone(a.MediaType),
				Size:      a.Size,
				SHA256:    strings.Clone(a.SHA256),
				Inline:    a.Inline,
			}
		}
		m.content = c
	} else {
		m.content = &mailbox.Parsed{Truncated: p.Truncated}
	}
	return m, p
}

// storeLocked stores m as a new copy in f of u and returns its address.
func storeLocked(u *userBox, f *folder, m *message, flags []string) mailbox.Address {
	uid := f.nextUID
	f.nextUID++
	f.msgs[uid] = m
	if len(flags) > 0 {
		if f.flags == nil {
			f.flags = make(map[uint32][]string)
		}
		f.flags[uid] = flags
	}
	return mailbox.Address{Mailbox: u.owner, Folder: f.name, UIDValidity: f.validity, UID: uid}
}

// userLocked returns the mailbox of owner or an error wrapping
// mailbox.ErrNoMailbox.
func (t *Tenant) userLocked(owner string) (*userBox, error) {
	u := t.mail.users[owner]
	if u == nil {
		u = t.mail.users[normMailbox(owner)]
	}
	if u == nil {
		return nil, fmt.Errorf("mock: mailbox %q: %w", owner, mailbox.ErrNoMailbox)
	}
	return u, nil
}

// folderLocked returns the folder called name, or nil.
func (u *userBox) folderLocked(name string) *folder {
	if f := u.folders[name]; f != nil {
		return f
	}
	if strings.EqualFold(name, FolderInbox) {
		return u.roles[mailbox.RoleInbox]
	}
	return nil
}

// resolveLocked returns the folder of loc or an error wrapping
// mailbox.ErrNoFolder.
func (u *userBox) resolveLocked(loc mailbox.Location) (*folder, error) {
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	var f *folder
	if loc.Folder != "" {
		f = u.folderLocked(loc.Folder)
	} else {
		f = u.roles[loc.Role]
	}
	if f == nil {
		return nil, fmt.Errorf("mock: %s of %s: %w", loc, u.owner, mailbox.ErrNoFolder)
	}
	return f, nil
}

// copyLocked returns the folder and message at a, or an error wrapping
// mailbox.ErrNotFound or mailbox.ErrUIDValidity.
func (u *userBox) copyLocked(a mailbox.Address) (*folder, *message, error) {
	f := u.folderLocked(a.Folder)
	if f == nil {
		return nil, nil, fmt.Errorf("mock: %s: %w: %w", a, mailbox.ErrNotFound, mailbox.ErrNoFolder)
	}
	if f.validity != a.UIDValidity {
		return nil, nil, fmt.Errorf("mock: %s: folder has UIDVALIDITY %d: %w", a, f.validity, mailbox.ErrUIDValidity)
	}
	m := f.msgs[a.UID]
	if m == nil {
		return nil, nil, fmt.Errorf("mock: %s: %w", a, mailbox.ErrNotFound)
	}
	return f, m, nil
}

// batchMailbox returns the one mailbox every address names.
func batchMailbox(op Op, addrs []mailbox.Address) (string, error) {
	owner := addrs[0].Mailbox
	for _, a := range addrs[1:] {
		if a.Mailbox != owner && !strings.EqualFold(a.Mailbox, owner) {
			return "", fmt.Errorf("mock: %s: addresses span mailboxes %q and %q", op, owner, a.Mailbox)
		}
	}
	return owner, nil
}

// Mailboxes lists the owners of every mailbox, sorted. It implements
// mailbox.Store.
func (t *Tenant) Mailboxes(ctx context.Context) ([]string, error) {
	if err := t.fault(ctx, OpMailboxes); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mail.sorted == nil {
		s := make([]string, 0, len(t.mail.users))
		for owner := range t.mail.users {
			s = append(s, owner)
		}
		slices.Sort(s)
		t.mail.sorted = s
	}
	return slices.Clone(t.mail.sorted), nil
}

// snapEntry is one copy in a folder snapshot.
type snapEntry struct {
	uid   uint32
	m     *message
	flags []string
}

// Search streams the copies of owner's mailbox that match c, folder by
// folder (role folders in mailbox.Roles() order, then ordinary folders by
// name), in ascending UID order within a folder. It implements
// mailbox.Store: c is validated first, hits are verified with
// Criteria.Match, folders outside c's scope are skipped. Each folder is
// read from a snapshot taken when the search reaches it, and no lock is
// held while yielding, so the caller may move or expunge the copies it is
// given. The Recipients and Flags of each Message are the caller's to
// keep.
//
// The call is counted, and faults strike, when iteration starts. A
// [FaultPartial] fault yields the first K hits and then the fault's error;
// a [FaultAfter] fault yields every hit and then the error, as when a
// connection drops before the server ends the search.
func (t *Tenant) Search(ctx context.Context, owner string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	return func(yield func(mailbox.Message, error) bool) {
		fault, err := t.enter(ctx, OpSearch)
		if err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		if fault == nil {
			t.search(ctx, owner, &c, yield)
			return
		}
		limit := -1
		if fault.Mode == FaultPartial {
			limit = max(fault.K, 0)
		}
		hits, done := 0, false
		t.search(ctx, owner, &c, func(m mailbox.Message, err error) bool {
			if err != nil {
				done = true
				yield(m, err)
				return false
			}
			if limit >= 0 && hits >= limit {
				return false
			}
			hits++
			if !yield(m, nil) {
				done = true
				return false
			}
			return true
		})
		if !done {
			yield(mailbox.Message{}, fault.err(OpSearch))
		}
	}
}

// search is Search after the call started.
func (t *Tenant) search(ctx context.Context, owner string, c *mailbox.Criteria, yield func(mailbox.Message, error) bool) {
	if err := c.Validate(); err != nil {
		yield(mailbox.Message{}, fmt.Errorf("mock: search: %w", err))
		return
	}
	t.mu.Lock()
	u, err := t.userLocked(owner)
	var folders []*folder
	if err == nil {
		folders = slices.Clone(u.order)
	}
	t.mu.Unlock()
	if err != nil {
		yield(mailbox.Message{}, err)
		return
	}
	var snap []snapEntry
	for _, f := range folders {
		if !c.MatchFolder(f.name, f.role) {
			continue
		}
		var validity uint32
		snap, validity = t.snapshot(f, snap[:0])
		for _, e := range snap {
			if err := ctx.Err(); err != nil {
				yield(mailbox.Message{}, fmt.Errorf("mock: search: %w", err))
				return
			}
			msg := e.m.sum
			msg.Address = mailbox.Address{Mailbox: u.owner, Folder: f.name, UIDValidity: validity, UID: e.uid}
			msg.Role = f.role
			ok, err := c.Match(&msg, e.m.contentFunc)
			if err != nil {
				yield(mailbox.Message{}, fmt.Errorf("mock: search %s: %w", msg.Address, err))
				return
			}
			if !ok {
				continue
			}
			msg.Recipients = slices.Clone(msg.Recipients)
			msg.Flags = slices.Clone(e.flags)
			if !yield(msg, nil) {
				return
			}
		}
	}
}

// Copies lists every copy in owner's mailbox, in the order Search uses,
// with the same fields. It is a test hook for checking a mailbox's whole
// state (Search refuses criteria that match everything): not a backend
// call, not counted, never faulted. An unknown owner gives
// mailbox.ErrNoMailbox.
func (t *Tenant) Copies(owner string) ([]mailbox.Message, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(owner)
	if err != nil {
		return nil, err
	}
	var out []mailbox.Message
	for _, f := range u.order {
		start := len(out)
		for uid, m := range f.msgs {
			msg := m.sum
			msg.Address = mailbox.Address{Mailbox: u.owner, Folder: f.name, UIDValidity: f.validity, UID: uid}
			msg.Role = f.role
			msg.Recipients = slices.Clone(msg.Recipients)
			msg.Flags = slices.Clone(f.flags[uid])
			out = append(out, msg)
		}
		slices.SortFunc(out[start:], func(a, b mailbox.Message) int { return cmp.Compare(a.Address.UID, b.Address.UID) })
	}
	return out, nil
}

// snapshot appends the copies of f to buf in ascending UID order and
// returns them with the folder's UIDVALIDITY.
func (t *Tenant) snapshot(f *folder, buf []snapEntry) ([]snapEntry, uint32) {
	t.mu.Lock()
	validity := f.validity
	buf = slices.Grow(buf, len(f.msgs))
	for uid, m := range f.msgs {
		buf = append(buf, snapEntry{uid: uid, m: m, flags: f.flags[uid]})
	}
	t.mu.Unlock()
	slices.SortFunc(buf, func(a, b snapEntry) int { return cmp.Compare(a.uid, b.uid) })
	return buf, validity
}

// contentFunc returns what content criteria need.
func (m *message) contentFunc() (*mailbox.Parsed, error) {
	return m.content, nil
}

// Fetch returns a copy of the raw message at addr. It implements
// mailbox.Store: an unknown mailbox gives mailbox.ErrNoMailbox, a missing
// copy or folder mailbox.ErrNotFound, a stale UIDVALIDITY
// mailbox.ErrUIDValidity.
func (t *Tenant) Fetch(ctx context.Context, addr mailbox.Address) ([]byte, error) {
	if err := t.fault(ctx, OpFetch); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.userLocked(addr.Mailbox)
	if err != nil {
		return nil, err
	}
	_, m, err := u.copyLocked(addr)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(m.raw), nil
}

// Move moves copies of one mailbox to the location to. It implements
// mailbox.Store: one Moved per address, in order; a copy already at to has
// To == From; a gone copy (or folder) gets mailbox.ErrNotFound, a stale
// one mailbox.ErrUIDValidity, and the others still move. A moved copy gets
// the next UID of the destination and keeps its flags and internal date.
// The returned error is non-nil, and nothing moved, for an invalid
// location, addresses of more than one mailbox, an unknown mailbox
// (mailbox.ErrNoMailbox) or destination (mailbox.ErrNoFolder), or a done
// ctx; a ctx that ends during the batch gives the remaining addresses an
// error wrapping ctx.Err(). Addresses repeated in one call move once; the
// repeats get mailbox.ErrNotFound, except that a copy already at the
// destination is reported there each time. The whole batch is applied atomically
// with respect to other calls. An empty batch returns an empty result.
func (t *Tenant) Move(ctx context.Context, addrs []mailbox.Address, to mailbox.Location) ([]mailbox.Moved, error) {
	fault, err := t.enter(ctx, OpMove)
	if err != nil {
		return nil, err
	}
	if err := to.Validate(); err != nil {
		return nil, fmt.Errorf("mock: move: %w", err)
	}
	if len(addrs) == 0 {
		return []mailbox.Moved{}, nil
	}
	owner, err := batchMailbox(OpMove, addrs)
	if err != nil {
		return nil, err
	}
	limit := len(addrs)
	if fault != nil && fault.Mode == FaultPartial {
		limit = min(max(fault.K, 0), len(addrs))
	}

	t.mu.Lock()
	u, err := t.userLocked(owner)
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	dst, err := u.resolveLocked(to)
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	out := make([]mailbox.Moved, len(addrs))
	for i, a := range addrs {
		out[i].From = a
		if i >= limit {
			out[i].Err = fault.err(OpMove)
			continue
		}
		if err := ctx.Err(); err != nil {
			out[i].Err = fmt.Errorf("mock: move %s: %w", a, err)
			continue
		}
		src, m, err := u.copyLocked(a)
		switch {
		case err != nil:
			out[i].Err = err
		case src == dst:
			out[i].To = a
		default:
			uid := a.UID
			fl := src.flags[uid]
			delete(src.msgs, uid)
			if fl != nil {
				delete(src.flags, uid)
			}
			out[i].To = storeLocked(u, dst, m, fl)
		}
	}
	t.mu.Unlock()
	t.log.Debug("mock: move", "mailbox", owner, "copies", len(addrs), "to", to.String())
	if fault != nil && fault.Mode == FaultAfter {
		return nil, fault.err(OpMove)
	}
	return out, nil
}

// Expunge removes copies of one mailbox permanently. It implements
// mailbox.Store: one error per address, in order, nil when removed,
// wrapping mailbox.ErrNotFound when already gone (a repeated address
// included) or mailbox.ErrUIDValidity when stale. The returned error is
// non-nil, and nothing removed, for addresses of more than one mailbox, an
// unknown mailbox or a done ctx. An empty batch returns an empty result.
func (t *Tenant) Expunge(ctx context.Context, addrs []mailbox.Address) ([]error, error) {
	fault, err := t.enter(ctx, OpExpunge)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return []error{}, nil
	}
	owner, err := batchMailbox(OpExpunge, addrs)
	if err != nil {
		return nil, err
	}
	limit := len(addrs)
	if fault != nil && fault.Mode == FaultPartial {
		limit = min(max(fault.K, 0), len(addrs))
	}

	t.mu.Lock()
	u, err := t.userLocked(owner)
	if err != nil {
		t.mu.Unlock()
		return nil, err
	}
	out := make([]error, len(addrs))
	for i, a := range addrs {
		if i >= limit {
			out[i] = fault.err(OpExpunge)
			continue
		}
		if err := ctx.Err(); err != nil {
			out[i] = fmt.Errorf("mock: expunge %s: %w", a, err)
			continue
		}
		f, _, err := u.copyLocked(a)
		if err != nil {
			out[i] = err
			continue
		}
		delete(f.msgs, a.UID)
		delete(f.flags, a.UID)
	}
	t.mu.Unlock()
	t.log.Debug("mock: expunge", "mailbox", owner, "copies", len(addrs))
	if fault != nil && fault.Mode == FaultAfter {
		return nil, fault.err(OpExpunge)
	}
	return out, nil
}

// Append stores raw as a new copy at to in owner's mailbox and returns its
// address. It implements mailbox.Store: an unknown owner gives
// mailbox.ErrNoMailbox, an unknown folder or role mailbox.ErrNoFolder. The
// message's P1 sender is its Return-Path. Append does not run the
// OnDeliver hooks: it is an IMAP APPEND, not a delivery.
func (t *Tenant) Append(ctx context.Context, owner string, to mailbox.Location, raw []byte, opts *mailbox.AppendOptions) (mailbox.Address, error) {
	fault, err := t.enter(ctx, OpAppend)
	if err != nil {
		return mailbox.Address{}, err
	}
	if fault != nil && fault.Mode != FaultAfter {
		return mailbox.Address{}, fault.err(OpAppend)
	}
	if err := to.Validate(); err != nil {
		return mailbox.Address{}, fmt.Errorf("mock: append: %w", err)
	}
	var o mailbox.AppendOptions
	if opts != nil {
		o = *opts
	}
	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	t.mu.Lock()
	u, err := t.userLocked(owner)
	if err == nil {
		_, err = u.resolveLocked(to)
	}
	t.mu.Unlock()
	if err != nil {
		return mailbox.Address{}, err
	}
	m, _ := t.newMessage(raw, "", date)

	t.mu.Lock()
	f, err := u.resolveLocked(to)
	if err != nil {
		t.mu.Unlock()
		return mailbox.Address{}, err
	}
	addr := storeLocked(u, f, m, slices.Clone(o.Flags))
	t.mu.Unlock()
	if fault != nil {
		return mailbox.Address{}, fault.err(OpAppend)
	}
	return addr, nil
}
