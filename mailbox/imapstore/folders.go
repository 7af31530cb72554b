package imapstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// folder is one selectable folder of a mailbox and its role.
type folder struct {
	Name string
	Role mailbox.Role
}

// folders is the folder list of one mailbox with roles resolved.
type folders struct {
	list  []folder // INBOX first, then by name
	roles map[mailbox.Role]string
	delim rune
}

// listFolders lists the selectable folders and resolves their roles: by
// SPECIAL-USE attributes (RFC 6154) when the server has them, then by the
// configured fallback names; the admin-only roles by their configured
// names.
func (s *Store) listFolders(cn *conn) (*folders, error) {
	opts := &imap.ListOptions{}
	caps := cn.c.Caps()
	if caps.Has(imap.CapSpecialUse) && caps.Has(imap.CapListExtended) {
		opts.ReturnSpecialUse = true
	}
	// No message counts (LIST-STATUS, RFC 5819): a search examines every
	// folder rather than skip one on a count that can be stale. With
	// Dovecot's maildir_very_dirty_syncs or
	// mailbox_list_index_very_dirty_syncs, STATUS counts 0 in a folder
	// whose mail another program put in its new/; EXAMINE finds it. On
	// Dovecot, examining the empty folders costs no more than STATUS on
	// every folder did.
	pattern := "*"
	if cn.ns != nil {
		pattern = cn.ns.pattern()
	}
	data, err := cn.c.List("", pattern, opts).Collect()
	if err != nil {
		return nil, fmt.Errorf("imapstore: list folders of %q: %w", cn.owner, err)
	}
	if cn.ns != nil {
		data = slices.DeleteFunc(data, func(d *imap.ListData) bool {
			name, ok := cn.ns.folder(d.Mailbox)
			d.Mailbox = name
			return !ok
		})
	}
	fs := &folders{roles: map[mailbox.Role]string{}}
	special := map[mailbox.Role][]string{}
	for _, d := range data {
		if d.Delim != 0 {
			fs.delim = d.Delim
		}
		if hasAttr(d.Attrs, imap.MailboxAttrNoSelect) || hasAttr(d.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		fs.list = append(fs.list, folder{Name: d.Mailbox})
		for attr, role := range map[imap.MailboxAttr]mailbox.Role{
			imap.MailboxAttrJunk:  mailbox.RoleJunk,
			imap.MailboxAttrTrash: mailbox.RoleDeleted,
			imap.MailboxAttrSent:  mailbox.RoleSent,
		} {
			if hasAttr(d.Attrs, attr) {
				special[role] = append(special[role], d.Mailbox)
			}
		}
	}
	slices.SortFunc(fs.list, func(a, b folder) int {
		ai, bi := strings.EqualFold(a.Name, "INBOX"), strings.EqualFold(b.Name, "INBOX")
		switch {
		case ai && !bi:
			return -1
		case bi && !ai:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})

	admin := map[string]mailbox.Role{
		s.cfg.QuarantineFolder:  mailbox.RoleQuarantine,
		s.cfg.RecoverableFolder: mailbox.RoleRecoverable,
		s.cfg.EvidenceFolder:    mailbox.RoleEvidence,
	}
	for _, f := range fs.list {
		if strings.EqualFold(f.Name, "INBOX") {
			fs.roles[mailbox.RoleInbox] = f.Name
		} else if r, ok := admin[f.Name]; ok {
			fs.roles[r] = f.Name
		}
	}
	for _, r := range []mailbox.Role{mailbox.RoleJunk, mailbox.RoleDeleted, mailbox.RoleSent} {
		if names := special[r]; len(names) > 0 {
			slices.Sort(names)
			for _, n := range names {
				if _, taken := admin[n]; !taken {
					fs.roles[r] = n
					break
				}
			}
			if fs.roles[r] != "" {
				continue
			}
		}
		for _, want := range s.cfg.RoleFallbacks[r] {
			if n := fs.find(want); n != "" {
				if _, taken := admin[n]; !taken && !fs.hasRoleFolder(n) {
					fs.roles[r] = n
					break
				}
			}
		}
	}
	for i := range fs.list {
		fs.list[i].Role = fs.roleOf(fs.list[i].Name)
	}
	return fs, nil
}

// find returns the folder whose name equals want case-insensitively, also
// below INBOX ("INBOX.Junk"), or "".
func (fs *folders) find(want string) string {
	for _, f := range fs.list {
		if strings.EqualFold(f.Name, want) {
			return f.Name
		}
	}
	if fs.delim != 0 {
		for _, f := range fs.list {
			if strings.EqualFold(f.Name, "INBOX"+string(fs.delim)+want) {
				return f.Name
			}
		}
	}
	return ""
}

func (fs *folders) hasRoleFolder(name string) bool {
	for _, n := range fs.roles {
		if n == name {
			return true
		}
	}
	return false
}

// roleOf returns the role of a folder, RoleNone for an ordinary one.
func (fs *folders) roleOf(name string) mailbox.Role {
	for _, r := range mailbox.Roles() {
		if n, ok := fs.roles[r]; ok && n == name {
			return r
		}
	}
	return mailbox.RoleNone
}

// byName returns the folder's name as the server spells it (INBOX in any
// case is INBOX), or "" when the mailbox has no such folder.
func (fs *folders) byName(name string) string {
	for _, f := range fs.list {
		if f.Name == name || (strings.EqualFold(name, "INBOX") && strings.EqualFold(f.Name, "INBOX")) {
			return f.Name
		}
	}
	return ""
}

func hasAttr(attrs []imap.MailboxAttr, want imap.MailboxAttr) bool {
	for _, a := range attrs {
		if strings.EqualFold(string(a), string(want)) {
			return true
		}
	}
	return false
}

// resolve returns the folder of a location, creating an admin-only folder
// when the configuration allows it. A missing folder gives an error
// wrapping [mailbox.ErrNoFolder].
func (s *Store) resolve(cn *conn, fs *folders, loc mailbox.Location) (string, error) {
	if err := loc.Validate(); err != nil {
		return "", fmt.Errorf("imapstore: %w", err)
	}
	if loc.Folder != "" {
		if n := fs.byName(loc.Folder); n != "" {
			return n, nil
		}
		return "", fmt.Errorf("imapstore: folder %q in mailbox %q: %w", loc.Folder, cn.owner, mailbox.ErrNoFolder)
	}
	if n, ok := fs.roles[loc.Role]; ok {
		return n, nil
	}
	name := s.adminFolder(loc.Role)
	if name == "" || !s.cfg.CreateAdminFolders {
		return "", fmt.Errorf("imapstore: no folder for role %q in mailbox %q: %w", loc.Role, cn.owner, mailbox.ErrNoFolder)
	}
	// Admin-only folders are created unsubscribed, so that mail clients
	// that show subscribed folders do not show them; with an admin login,
	// without rights for the owner too.
	err := cn.c.Create(cn.name(name), nil).Wait()
	var ie *imap.Error
	if err != nil && !(errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists) {
		return "", fmt.Errorf("imapstore: create folder %q for role %q in mailbox %q: %w", name, loc.Role, cn.owner, err)
	}
	if cn.ns != nil && err == nil && cn.c.Caps().Has(imap.CapACL) {
		// An admin login creates the folder with the ACL of the owner's
		// INBOX; take the owner's entry away (an empty right set, RFC
		// 4314 section 3.1), so that the folder is hidden from them.
		if err := cn.c.SetACL(cn.name(name), imap.RightsIdentifier(cn.owner), imap.RightModificationReplace, imap.RightSet("")).Wait(); err != nil {
			return "", fmt.Errorf("imapstore: hide the new folder %q from the owner %q: %w", name, cn.owner, err)
		}
	}
	s.log.Info("imapstore: created admin-only folder", "mailbox", cn.owner, "folder", name, "role", string(loc.Role))
	fs.list = append(fs.list, folder{Name: name, Role: loc.Role})
	fs.roles[loc.Role] = name
	return name, nil
}

// adminFolder returns the configured folder of an admin-only role, or "".
func (s *Store) adminFolder(r mailbox.Role) string {
	switch r {
	case mailbox.RoleQuarantine:
		return s.cfg.QuarantineFolder
	case mailbox.RoleRecoverable:
		return s.cfg.RecoverableFolder
	case mailbox.RoleEvidence:
		return s.cfg.EvidenceFolder
	}
	return ""
}
