package imapstore

import (
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// otherUsers maps the folder names of one owner, as the owner sees them,
// to the names an admin login reaches them by in the other users'
// namespace (see [MasterUser.Admin]), and back.
type otherUsers struct {
	base   string // namespace prefix + the owner's local part: "user/alice"
	delim  string // the namespace's hierarchy delimiter: "/"
	domain string // "@example.com", or "" for an owner without a domain
}

// newOtherUsers asks the server for its other users' namespace (RFC 2342)
// and returns the mapping of owner's folders.
func newOtherUsers(c *imapclient.Client, owner string) (*otherUsers, error) {
	if !c.Caps().Has(imap.CapNamespace) && !c.Caps().Has(imap.CapIMAP4rev2) {
		return nil, fmt.Errorf("imapstore: the server lacks NAMESPACE, needed by an admin login: %w", mailbox.ErrUnsupported)
	}
	ns, err := c.Namespace().Wait()
	if err != nil {
		return nil, fmt.Errorf("imapstore: NAMESPACE: %w", err)
	}
	if len(ns.Other) == 0 || ns.Other[0].Delim == 0 {
		return nil, fmt.Errorf("imapstore: the server announces no other users' namespace with a delimiter, needed by an admin login: %w", mailbox.ErrUnsupported)
	}
	o := &otherUsers{delim: string(ns.Other[0].Delim)}
	local := owner
	if i := strings.LastIndexByte(owner, '@'); i > 0 {
		local, o.domain = owner[:i], owner[i:]
	}
	prefix := ns.Other[0].Prefix
	if !strings.HasSuffix(prefix, o.delim) {
		prefix += o.delim
	}
	o.base = prefix + local
	return o, nil
}

// server returns the admin's name of the owner's folder.
func (o *otherUsers) server(folder string) string {
	if strings.EqualFold(folder, "INBOX") {
		return o.base + o.domain
	}
	return o.base + o.delim + folder + o.domain
}

// folder returns the owner's name of a folder the admin listed, and false
// for another owner's folder or a calendar or contact collection.
func (o *otherUsers) folder(server string) (string, bool) {
	if o.domain != "" {
		var ok bool
		if server, ok = strings.CutSuffix(server, o.domain); !ok {
			return "", false
		}
	}
	rest, ok := strings.CutPrefix(server, o.base)
	switch {
	case !ok:
		return "", false
	case rest == "":
		return "INBOX", true
	}
	rest, ok = strings.CutPrefix(rest, o.delim)
	if !ok || rest == "" || strings.HasPrefix(rest, "#") {
		return "", false
	}
	return rest, true
}

// pattern is the LIST pattern of every folder of the owner (and of
// owners whose names start with the same letters, which folder drops).
func (o *otherUsers) pattern() string {
	return o.base + "*" + o.domain
}

// name returns the name to send to the server for a folder of the
// connection's owner.
func (cn *conn) name(folder string) string {
	if cn.ns == nil {
		return folder
	}
	return cn.ns.server(folder)
}
