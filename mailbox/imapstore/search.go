package imapstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eradicate-dev/eradicate/internal/urlcanon"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// headerFields are the header fields a search fetches to build a
// [mailbox.Message].
var headerFields = []string{"Return-Path", "Message-ID", "From", "To", "Cc", "Bcc", "Subject", "Date"}

// Search streams the copies in one mailbox that match c. For each folder c
// admits (every selectable folder, admin-only ones included, unless c
// restricts folders or roles) it narrows with UID SEARCH, fetches the
// header fields of the hits, and verifies each with [mailbox.Criteria.Match].
// Server searches are substring matches (Dovecot's HEADER search is one),
// so they only narrow: the verification decides.
//
// URL and attachment criteria are evaluated on the parsed message. The
// candidates' contents are read in batches, one UID FETCH per batch of at
// most 500 messages and about 8 MiB (by the sizes the header fetch gave,
// or estimated from the messages read before; a bigger message alone),
// and each message is parsed and matched as it arrives: one message's
// content is in memory at a time, whatever the folder's size. When the
// criteria have nothing else the headers could decide, the header fetch
// is skipped and each message's header is parsed once, with its content.
//
// Criteria with many values (message ids, senders...) are split across
// several SEARCH commands of at most [Config.SearchBatch] keys and
// [Config.MaxSearchBytes] bytes each, as OR trees. From
// [Config.ClientMatchMessageIDs] Message-IDs on, the Message-IDs are not
// sent: the Message-ID of every message is read, one FETCH per folder,
// and matched in a hash set before the exact verification. Dates are
// day-granular in IMAP (RFC 9051 section 6.4.4): the server search is
// widened by days and the exact bounds are checked on the Date header.
//
// Results come folder by folder (INBOX first, then by name), by UID. The
// matches of the mailbox are collected first; no connection is held while
// the caller handles a result, so the caller may call the store from
// inside the loop.
func (s *Store) Search(ctx context.Context, mbox string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	return func(yield func(mailbox.Message, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(mailbox.Message{}, ctxErr(err))
			return
		}
		if err := c.Validate(); err != nil {
			yield(mailbox.Message{}, fmt.Errorf("imapstore: %w", err))
			return
		}
		owner, err := s.owner(ctx, mbox)
		if err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		pf := &prefilter{cfg: &s.cfg, owner: owner}
		var plans []imap.SearchCriteria
		var all bool
		ids := s.clientMatchedIDs(&c)
		if ids != nil {
			all = true // every folder's Message-IDs are read
		} else {
			plans, all = pf.plan(&c)
		}
		var found []mailbox.Message
		err = s.withConn(ctx, owner, func(cn *conn) error {
			fs, err := s.listFolders(cn)
			if err != nil {
				return err
			}
			var scope []folder
			for _, f := range fs.list {
				if c.MatchFolder(f.Name, f.Role) {
					scope = append(scope, f)
				}
			}
			var hs []hits
			if all {
				// Every message is read: each folder is examined
				// when its turn comes, once.
				for _, f := range scope {
					hs = append(hs, hits{f: f, all: true})
				}
			} else if hs, err = s.searchFolders(cn, scope, plans); err != nil {
				return err
			}
			for _, h := range hs {
				msgs, err := s.verifyFolder(cn, h, &c, plans, ids)
				if err != nil {
					return err
				}
				found = append(found, msgs...)
			}
			return nil
		})
		if err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		for _, m := range found {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// errNeedContent stops a match that needs the message content.
var errNeedContent = errors.New("imapstore: content needed")

// hits are the candidates of one folder: the UIDs the server search
// found, or every message (all; the folder is not examined yet).
type hits struct {
	f           folder
	uidValidity uint32
	set         imap.UIDSet
	all         bool
}

// searchFolders runs the server searches in every folder of scope and
// returns the folders with candidates. With ESEARCH (RFC 4731), whose
// results carry their command's tag, the EXAMINE and UID SEARCH commands
// of all folders are pipelined (RFC 9051 section 5.5) and the results
// read after; without it, they run one after the other.
func (s *Store) searchFolders(cn *conn, scope []folder, plans []imap.SearchCriteria) ([]hits, error) {
	type pending struct {
		f        folder
		sel      *imapclient.SelectCommand
		searches []*imapclient.SearchCommand
	}
	pipeline := cn.c.Caps().Has(imap.CapESearch)
	send := func(f folder) pending {
		p := pending{f: f, sel: cn.c.Select(cn.name(f.Name), &imap.SelectOptions{ReadOnly: true})}
		for i := range plans {
			var opts *imap.SearchOptions
			if pipeline {
				opts = &imap.SearchOptions{ReturnAll: true}
			}
			p.searches = append(p.searches, cn.c.UIDSearch(&plans[i], opts))
		}
		return p
	}
	var out []hits
	var firstErr error
	receive := func(p pending) {
		data, selErr := p.sel.Wait()
		cn.examined = ""
		if selErr == nil {
			cn.examined, cn.examinedValidity = p.f.Name, data.UIDValidity
		}
		var set imap.UIDSet
		var searchErr error
		for _, cmd := range p.searches {
			res, err := cmd.Wait()
			if err == nil {
				var uids []imap.UID
				uids, err = resultUIDs(res)
				set.AddNum(uids...)
			}
			if err != nil && searchErr == nil {
				searchErr = err
			}
		}
		if firstErr != nil {
			return
		}
		if selErr != nil {
			if err := s.selectErr(cn, p.f.Name, selErr); !errors.Is(err, mailbox.ErrNoFolder) {
				firstErr = err
			}
			return // deleted since it was listed
		}
		if searchErr != nil {
			firstErr = fmt.Errorf("imapstore: search %q of %q: %w", p.f.Name, cn.owner, searchErr)
			return
		}
		if data.NumMessages == 0 || len(set) == 0 {
			return
		}
		out = append(out, hits{f: p.f, uidValidity: data.UIDValidity, set: set})
	}
	if pipeline {
		// INBOX, where most hits are, goes last: it stays selected, and
		// verifyFolder need not select it again.
		order := make([]folder, 0, len(scope))
		var inbox []folder
		for _, f := range scope {
			if f.Role == mailbox.RoleInbox {
				inbox = append(inbox, f)
			} else {
				order = append(order, f)
			}
		}
		ps := make([]pending, 0, len(scope))
		for _, f := range append(order, inbox...) {
			ps = append(ps, send(f))
		}
		for _, p := range ps {
			receive(p)
		}
		// Hits in folder order.
		slices.SortStableFunc(out, func(a, b hits) int {
			return cmp.Compare(slices.IndexFunc(scope, func(f folder) bool { return f.Name == a.f.Name }),
				slices.IndexFunc(scope, func(f folder) bool { return f.Name == b.f.Name }))
		})
	} else {
		for _, f := range scope {
			receive(send(f))
		}
	}
	return out, firstErr
}

// verifyFolder returns the copies of a folder's candidates that match c:
// it reads their Message-IDs first when ids is set (the client-side match
// of many Message-IDs), then their header fields, then the contents of
// those a content criterion needs.
func (s *Store) verifyFolder(cn *conn, h hits, c *mailbox.Criteria, plans []imap.SearchCriteria, ids map[string]bool) ([]mailbox.Message, error) {
	f := h.f
	data := &imap.SelectData{UIDValidity: h.uidValidity}
	if cn.examined != f.Name || cn.examinedValidity != h.uidValidity {
		var err error
		data, err = s.selectFolder(cn, f.Name, true, 0)
		if err != nil {
			if errors.Is(err, mailbox.ErrNoFolder) {
				return nil, nil // deleted since it was searched
			}
			return nil, err
		}
	}
	set, all := h.set, h.all
	if all {
		if data.NumMessages == 0 {
			return nil, nil
		}
		set = imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}} // 1:*
	} else if data.UIDValidity != h.uidValidity {
		// The folder was recreated since the search: search again.
		set = nil
		for i := range plans {
			res, err := cn.c.UIDSearch(&plans[i], nil).Wait()
			if err == nil {
				var uids []imap.UID
				uids, err = resultUIDs(res)
				set.AddNum(uids...)
			}
			if err != nil {
				return nil, fmt.Errorf("imapstore: search %q of %q: %w", f.Name, cn.owner, err)
			}
		}
		if len(set) == 0 {
			return nil, nil
		}
	}
	if ids != nil {
		var err error
		if set, err = matchMessageIDs(cn, f, ids); err != nil || len(set) == 0 {
			return nil, err
		}
		all = false
	}
	sc := scan{cn: cn, f: f, uidValidity: data.UIDValidity, c: c}
	if c.NeedsContent() && !headerDecides(c) {
		// Nothing to learn from the header fields alone: read every
		// candidate's content, its header parsed with it.
		cands, err := sc.uids(set, all)
		if err != nil {
			return nil, err
		}
		return sc.contents(cands)
	}

	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: headerFields, Peek: true}
	opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section}}
	var matches []mailbox.Message
	var needContent []candidate
	var matchErr error
	visit := func(buf *imapclient.FetchMessageBuffer) {
		if buf.UID == 0 || matchErr != nil {
			return
		}
		m := buildMessage(cn.owner, f, data.UIDValidity, buf, buf.FindBodySection(section))
		ok, err := c.Match(&m, func() (*mailbox.Parsed, error) { return nil, errNeedContent })
		switch {
		case errors.Is(err, errNeedContent):
			needContent = append(needContent, candidate{uid: buf.UID, size: buf.RFC822Size})
		case err != nil:
			matchErr = err
		case ok:
			matches = append(matches, m)
		}
	}
	for _, part := range fetchSets(set, all) {
		cmd := cn.c.Fetch(part, opts)
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			buf, err := msg.Collect()
			if err != nil {
				_ = cmd.Close()
				return nil, fmt.Errorf("imapstore: fetch headers in %q of %q: %w", f.Name, cn.owner, err)
			}
			visit(buf)
		}
		if err := cmd.Close(); err != nil {
			return nil, fmt.Errorf("imapstore: fetch headers in %q of %q: %w", f.Name, cn.owner, err)
		}
	}
	if matchErr != nil {
		return nil, fmt.Errorf("imapstore: match in %q of %q: %w", f.Name, cn.owner, matchErr)
	}
	more, err := sc.contents(needContent)
	if err != nil {
		return nil, err
	}
	matches = append(matches, more...)
	slices.SortFunc(matches, func(a, b mailbox.Message) int { return cmp.Compare(a.Address.UID, b.Address.UID) })
	return matches, nil
}

// clientMatchedIDs returns the normalized Message-IDs of c as a set when
// they are many enough to be matched on the client
// ([Config.ClientMatchMessageIDs]), else nil. Only c's own MessageIDs
// count: every match has one of them, whatever c's And and Or add.
func (s *Store) clientMatchedIDs(c *mailbox.Criteria) map[string]bool {
	if s.cfg.ClientMatchMessageIDs <= 0 || len(c.MessageIDs) < s.cfg.ClientMatchMessageIDs {
		return nil
	}
	ids := make(map[string]bool, len(c.MessageIDs))
	for _, id := range c.MessageIDs {
		if n := mailbox.NormalizeMessageID(id); n != "" {
			ids[n] = true
		}
	}
	return ids
}

// messageIDSection is the Message-ID header field, all that the
// client-side match of many Message-IDs reads of each message.
var messageIDSection = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}

// matchMessageIDs reads the Message-ID of every message of the selected
// folder, in one FETCH, and returns the UIDs of those in ids. The
// Message-ID is read as [mailbox.ParseHeader] reads it, so that every copy
// the verification would accept is kept; the verification then checks
// the whole criteria.
func matchMessageIDs(cn *conn, f folder, ids map[string]bool) (imap.UIDSet, error) {
	var set imap.UIDSet
	cmd := cn.c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{messageIDSection}})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			_ = cmd.Close()
			return nil, fmt.Errorf("imapstore: fetch Message-IDs in %q of %q: %w", f.Name, cn.owner, err)
		}
		if buf.UID == 0 {
			continue
		}
		if p, _ := mailbox.ParseHeader(buf.FindBodySection(messageIDSection)); p != nil && ids[mailbox.NormalizeMessageID(p.MessageID)] {
			set.AddNum(buf.UID)
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("imapstore: fetch Message-IDs in %q of %q: %w", f.Name, cn.owner, err)
	}
	return set, nil
}

// headerDecides reports whether c has a test the header fields alone can
// fail (ids, senders, recipients, subject, dates), anywhere in its tree:
// then the header fields are read first and contents only where needed.
func headerDecides(c *mailbox.Criteria) bool {
	if len(c.MessageIDs)+len(c.Senders)+len(c.SenderDomains)+len(c.Recipients) > 0 ||
		c.Subject != "" || !c.Since.IsZero() || !c.Before.IsZero() {
		return true
	}
	for i := range c.And {
		if headerDecides(&c.And[i]) {
			return true
		}
	}
	for i := range c.Or {
		if headerDecides(&c.Or[i]) {
			return true
		}
	}
	return false
}

// fetchSets splits a UID set into sets of at most maxUIDsPerCommand UIDs
// (1:* stays whole).
func fetchSets(set imap.UIDSet, all bool) []imap.UIDSet {
	if all {
		return []imap.UIDSet{set}
	}
	uids, _ := set.Nums()
	var out []imap.UIDSet
	for len(uids) > 0 {
		n := min(len(uids), maxUIDsPerCommand)
		out = append(out, imap.UIDSetNum(uids[:n]...))
		uids = uids[n:]
	}
	return out
}

// buildMessage makes the Message of one copy whose header fields were
// fetched.
func buildMessage(owner string, f folder, uidValidity uint32, buf *imapclient.FetchMessageBuffer, header []byte) mailbox.Message {
	var m mailbox.Message
	if p, _ := mailbox.ParseHeader(header); p != nil {
		m = p.Summary()
	}
	fill(&m, owner, f, uidValidity, buf)
	return m
}

// fill sets the fields of m that come from the store and the fetched
// metadata: address, role, size, flags, and the internal date when the
// Date header gave none.
func fill(m *mailbox.Message, owner string, f folder, uidValidity uint32, buf *imapclient.FetchMessageBuffer) {
	m.Address = mailbox.Address{Mailbox: owner, Folder: f.Name, UIDValidity: uidValidity, UID: uint32(buf.UID)}
	m.Role = f.Role
	m.Size = buf.RFC822Size
	if m.Date.IsZero() {
		m.Date = buf.InternalDate
	}
	m.Flags = nil
	for _, fl := range buf.Flags {
		m.Flags = append(m.Flags, string(fl))
	}
}

// prefilter translates criteria into IMAP searches that return a superset
// of the matches.
type prefilter struct {
	cfg   *Config
	owner string
}

// plan returns the searches whose union contains every match of c, each
// within the command limits; all reports that the server cannot narrow
// and every message must be checked.
func (p *prefilter) plan(c *mailbox.Criteria) (plans []imap.SearchCriteria, all bool) {
	sc, ok := p.translate(c)
	if !ok {
		return nil, true
	}
	if keys, size := cost(&sc); keys <= p.cfg.SearchBatch && size <= p.cfg.MaxSearchBytes {
		return []imap.SearchCriteria{sc}, false
	}
	parts := p.split(c)
	if parts == nil {
		// One value too big for a command: let the verification do
		// all the work.
		return nil, true
	}
	for i := range parts {
		sub, subAll := p.plan(&parts[i])
		if subAll {
			return nil, true
		}
		plans = append(plans, sub...)
	}
	return plans, false
}

// split returns two criteria whose union is c, by halving its longest
// list (or the longest list of an And member), or nil when no list has
// two values.
func (p *prefilter) split(c *mailbox.Criteria) []mailbox.Criteria {
	lists := []*[]string{&c.MessageIDs, &c.Senders, &c.SenderDomains, &c.Recipients}
	if p.cfg.ServerURLSearch {
		lists = append(lists, &c.URLs)
	}
	var longest *[]string
	for _, l := range lists {
		if len(*l) >= 2 && (longest == nil || len(*l) > len(*longest)) {
			longest = l
		}
	}
	if longest != nil && len(*longest) >= len(c.Or) {
		full := *longest
		half := len(full) / 2
		a, b := *c, *c
		// Point a and b's copy of the field at the halves.
		for _, pair := range []struct {
			dst *mailbox.Criteria
			val []string
		}{{&a, full[:half]}, {&b, full[half:]}} {
			switch longest {
			case &c.MessageIDs:
				pair.dst.MessageIDs = pair.val
			case &c.Senders:
				pair.dst.Senders = pair.val
			case &c.SenderDomains:
				pair.dst.SenderDomains = pair.val
			case &c.Recipients:
				pair.dst.Recipients = pair.val
			case &c.URLs:
				pair.dst.URLs = pair.val
			}
		}
		return []mailbox.Criteria{a, b}
	}
	if len(c.Or) >= 2 {
		half := len(c.Or) / 2
		a, b := *c, *c
		a.Or, b.Or = c.Or[:half], c.Or[half:]
		return []mailbox.Criteria{a, b}
	}
	for i := range c.And {
		if parts := p.split(&c.And[i]); parts != nil {
			a, b := *c, *c
			a.And = slices.Clone(c.And)
			b.And = slices.Clone(c.And)
			a.And[i], b.And[i] = parts[0], parts[1]
			return []mailbox.Criteria{a, b}
		}
	}
	if len(c.Or) == 1 {
		if parts := p.split(&c.Or[0]); parts != nil {
			a, b := *c, *c
			a.Or = []mailbox.Criteria{parts[0]}
			b.Or = []mailbox.Criteria{parts[1]}
			return []mailbox.Criteria{a, b}
		}
	}
	return nil
}

// translate returns an IMAP search matching at least every message c
// matches, and false when the server cannot narrow c at all.
func (p *prefilter) translate(c *mailbox.Criteria) (imap.SearchCriteria, bool) {
	var out imap.SearchCriteria
	narrowed := false
	and := func(sc imap.SearchCriteria) {
		out.And(&sc)
		narrowed = true
	}
	// anyOf narrows to the messages with one of values (normalised) in
	// one of the header keys, or, with addrs, whose header the server
	// could not read an address from: servers read address headers
	// strictly, the matching leniently (a From without its closing ">"
	// still gives its address), so those are candidates too and
	// verification decides.
	anyOf := func(values []string, norm func(string) string, addrs bool, keys ...string) {
		var alts []imap.SearchCriteria
		for _, v := range values {
			v = norm(v)
			if v == "" {
				return // cannot narrow
			}
			for _, k := range keys {
				alts = append(alts, imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}})
			}
		}
		if len(alts) == 0 {
			return
		}
		if addrs {
			for _, k := range keys {
				alts = append(alts, imap.SearchCriteria{Not: []imap.SearchCriteria{{Header: []imap.SearchCriteriaHeaderField{{Key: k, Value: "@"}}}}})
			}
		}
		and(orTree(alts))
	}
	anyOf(c.MessageIDs, func(id string) string {
		return strings.TrimSpace(strings.Trim(strings.TrimSpace(id), "<>"))
	}, false, "Message-ID")
	anyOf(c.Senders, normAddr, true, "From", "Return-Path")
	anyOf(c.SenderDomains, func(d string) string {
		return strings.ToLower(strings.Trim(strings.TrimSpace(d), "@*."))
	}, true, "From", "Return-Path")
	ownerIsRecipient := false
	for _, r := range c.Recipients {
		if normAddr(r) == normAddr(p.owner) {
			ownerIsRecipient = true
		}
	}
	if !ownerIsRecipient {
		anyOf(c.Recipients, normAddr, true, "To", "Cc", "Bcc")
	}
	// Subject is not searched on the server: servers decode encoded words
	// less leniently than the matching does (a character split across two
	// encoded words, 8-bit text, unknown charsets), and a server search
	// would miss such subjects. Verification compares it.
	if !c.Since.IsZero() {
		// The Date header's day or, when it is missing, the internal
		// date's, one day early for time zones; and every message whose
		// Date the server cannot read (it takes it as 1970), which the
		// matching may read.
		d := day(c.Since).AddDate(0, 0, -1)
		and(orTree([]imap.SearchCriteria{{SentSince: d}, {Since: d},
			{Not: []imap.SearchCriteria{{SentSince: time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)}}}}))
	}
	if !c.Before.IsZero() {
		d := day(c.Before).AddDate(0, 0, 2)
		and(imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{SentBefore: d}, {Before: d}}}})
	}
	if p.cfg.ServerURLSearch && len(c.URLs) > 0 {
		anyOf(c.URLs, urlHost, false, "")
	}
	for i := range c.And {
		if sc, ok := p.translate(&c.And[i]); ok {
			and(sc)
		}
	}
	if len(c.Or) > 0 {
		alts := make([]imap.SearchCriteria, 0, len(c.Or))
		for i := range c.Or {
			sc, ok := p.translate(&c.Or[i])
			if !ok {
				alts = nil
				break
			}
			alts = append(alts, sc)
		}
		if len(alts) > 0 {
			and(orTree(alts))
		}
	}
	// Header keys named "" stand for BODY.
	return bodyKeys(out), narrowed
}

// bodyKeys turns header keys named "" (used for URL hosts) into BODY keys,
// in the whole tree.
func bodyKeys(sc imap.SearchCriteria) imap.SearchCriteria {
	var hs []imap.SearchCriteriaHeaderField
	for _, h := range sc.Header {
		if h.Key == "" {
			sc.Body = append(sc.Body, h.Value)
		} else {
			hs = append(hs, h)
		}
	}
	sc.Header = hs
	for i := range sc.Or {
		sc.Or[i][0] = bodyKeys(sc.Or[i][0])
		sc.Or[i][1] = bodyKeys(sc.Or[i][1])
	}
	for i := range sc.Not {
		sc.Not[i] = bodyKeys(sc.Not[i])
	}
	return sc
}

// urlHost returns the host of a URL for a BODY search, or "" when it has
// none worth searching for. A criterion wrapped by a link rewriter (Safe
// Links...) gives the host of the link it wraps, which criteria match by
// ([mailbox.NormalizeURL]); that host is written as it is inside the
// wrapped links of Safe Links, Proofpoint, Google, Barracuda and Trend
// Micro, so a message carrying the link wrapped stays a candidate.
func urlHost(u string) string {
	inner, _ := urlcanon.Unwrap(strings.TrimSpace(u))
	parsed, err := url.Parse(inner)
	if err != nil || len(parsed.Hostname()) < 4 {
		return ""
	}
	return strings.ToLower(parsed.Hostname())
}

// orTree combines alternatives into a balanced tree of OR keys.
func orTree(alts []imap.SearchCriteria) imap.SearchCriteria {
	if len(alts) == 1 {
		return alts[0]
	}
	half := len(alts) / 2
	return imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{orTree(alts[:half]), orTree(alts[half:])}}}
}

// cost estimates the keys and encoded bytes of a search.
func cost(sc *imap.SearchCriteria) (keys, size int) {
	for _, h := range sc.Header {
		keys++
		size += len(h.Key) + len(h.Value) + 16
	}
	for _, b := range sc.Body {
		keys++
		size += len(b) + 10
	}
	for _, t := range []time.Time{sc.Since, sc.Before, sc.SentSince, sc.SentBefore} {
		if !t.IsZero() {
			keys++
			size += 24
		}
	}
	for i := range sc.Or {
		k0, s0 := cost(&sc.Or[i][0])
		k1, s1 := cost(&sc.Or[i][1])
		keys += k0 + k1
		size += s0 + s1 + 10
	}
	for i := range sc.Not {
		k, sz := cost(&sc.Not[i])
		keys += k
		size += sz + 8
	}
	return keys, size
}

func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func normAddr(a string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
}
