package hunttest

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Base is the delivery time of the first copy of [Deliveries]; the
// others follow at 1 h intervals.
var base = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

// The values the fixture draws from, chosen so that criteria meet the
// edge cases of matching: case, angle brackets, subdomains, wrapped and
// differently written URLs, upper-case hashes, a missing Message-ID and
// date.
var (
	mailboxes = []string{"alice@corp.example", "bob@corp.example", "carol@corp.example", "dave@corp.example", "erin@corp.example", "frank@corp.example"}
	senders   = []string{"attacker@evil.example", "Billing@Mail.Evil.Example", "news@good.example", "it@corp.example", "x@evil.example.net"}
	envelopes = []string{"", "bounce@mailer.good.example", "attacker@evil.example", "srs=x@relay.example"}
	subjects  = []string{"Invoice 42", "Your INVOICE is ready", "Über die Rechnung", "hello", "", "Re: lunch"}
	urlPool   = []string{
		"https://evil.example/login",
		"HTTPS://Evil.Example:443/login#top",
		"https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2Fpay&data=x",
		"https://evil.example/pay",
		"http://good.example/news",
		"mailto:help@good.example",
		"https://cdn.good.example/logo.png",
	}
	hashPool = []string{
		strings.Repeat("a1", 32),
		strings.Repeat("B2", 32),
		strings.Repeat("c3", 32),
	}
	folders = []struct {
		name string
		role mailbox.Role
	}{{"INBOX", mailbox.RoleInbox}, {"Junk", mailbox.RoleJunk}, {"Archive", mailbox.RoleNone}, {"Deleted Items", mailbox.RoleDeleted}}
)

// fixture is a set of deliveries: messages with several copies each, in
// several folders of several mailboxes.
type fixture struct {
	deliveries []hunt.Delivery
	messages   map[string]*hunt.Message // by network id
}

// newFixture returns the fixture of n messages drawn with seed.
func newFixture(n int, seed uint64) *fixture {
	r := rand.New(rand.NewPCG(seed, 0x68756e74))
	f := &fixture{messages: map[string]*hunt.Message{}}
	uid := map[string]uint32{}
	at := base
	for i := range n {
		m := &hunt.Message{
			NetworkID: fmt.Sprintf("00000000-0000-8000-8000-%012d", i+1),
			From:      pick(r, senders),
			Subject:   pick(r, subjects),
			Date:      base.Add(time.Duration(i) * time.Hour).Add(-time.Duration(r.IntN(3)) * 24 * time.Hour),
			Size:      int64(1000 + r.IntN(50000)),
		}
		if i%11 != 5 {
			m.MessageID = fmt.Sprintf("msg-%d@Evil.Example", i%max(n-3, 1)) // a few ids repeat: different messages, same Message-ID
		}
		if i%13 == 7 {
			m.Date = time.Time{}
		}
		m.EnvelopeFrom = pick(r, envelopes)
		for range r.IntN(3) {
			m.URLs = append(m.URLs, pick(r, urlPool))
		}
		for range r.IntN(2) {
			h := pick(r, hashPool)
			m.Attachments = append(m.Attachments, hunt.Attachment{Name: "file.bin", Type: "application/octet-stream", Size: 100, SHA256: h})
		}
		copies := 1 + r.IntN(3)
		owners := r.Perm(len(mailboxes))[:copies]
		for _, o := range owners {
			m.Recipients = append(m.Recipients, mailboxes[o])
		}
		if r.IntN(4) == 0 {
			m.Recipients = append(m.Recipients, "list@partner.example")
		}
		f.messages[m.NetworkID] = m
		for _, o := range owners {
			fo := folders[r.IntN(len(folders))]
			key := mailboxes[o] + "/" + fo.name
			uid[key]++
			f.deliveries = append(f.deliveries, hunt.Delivery{
				Address: mailbox.Address{Mailbox: mailboxes[o], Folder: fo.name, UIDValidity: 7, UID: uid[key]},
				Role:    fo.role,
				At:      at,
				Message: *m,
			})
			at = at.Add(time.Hour)
		}
	}
	return f
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// match returns, in ingest order, the addresses of the present copies c
// selects according to [mailbox.Criteria.Match], the reference the store's
// answers are compared with.
func (f *fixture) match(c *mailbox.Criteria, where map[mailbox.Address]located) []mailbox.Address {
	var out []mailbox.Address
	for _, d := range f.deliveries {
		loc, ok := where[d.Address]
		if !ok {
			loc = located{d.Address, d.Role}
		}
		if loc.addr.IsZero() {
			continue
		}
		sum := mailbox.Message{
			Address: loc.addr, Role: loc.role,
			MessageID: d.Message.MessageID, EnvelopeFrom: d.Message.EnvelopeFrom, From: d.Message.From,
			Recipients: d.Message.Recipients, Subject: d.Message.Subject, Date: d.Message.Date, Size: d.Message.Size,
		}
		p := &mailbox.Parsed{URLs: d.Message.URLs}
		for _, a := range d.Message.Attachments {
			p.Attachments = append(p.Attachments, mailbox.Attachment{SHA256: a.SHA256})
		}
		ok, err := c.Match(&sum, func() (*mailbox.Parsed, error) { return p, nil })
		if err != nil {
			panic(err) // the content function never fails
		}
		if ok {
			out = append(out, loc.addr)
		}
	}
	return out
}

// located is where a copy is after relocations; a zero addr is removed.
type located struct {
	addr mailbox.Address
	role mailbox.Role
}

// randomCriteria draws a valid criteria from the fixture's values.
func randomCriteria(r *rand.Rand, depth int) mailbox.Criteria {
	for {
		c := randomNode(r, depth)
		if c.Validate() == nil {
			return c
		}
	}
}

func randomNode(r *rand.Rand, depth int) mailbox.Criteria {
	var c mailbox.Criteria
	some := func(list []string, f func(string) string) []string {
		var out []string
		for range 1 + r.IntN(2) {
			out = append(out, f(pick(r, list)))
		}
		return out
	}
	id := func(s string) string { return s }
	for range 1 + r.IntN(3) {
		switch r.IntN(11) {
		case 0:
			c.MessageIDs = some([]string{"<MSG-3@evil.example>", "msg-7@evil.example", "msg-12@Evil.Example", "none@x.example"}, id)
		case 1:
			c.Senders = some(append(senders, envelopes[1:]...), strings.ToUpper)
		case 2:
			c.SenderDomains = some([]string{"evil.example", "mail.evil.example", "good.example", "@corp.example", "*.relay.example", "example.net"}, id)
		case 3:
			c.Recipients = some(append(mailboxes, "list@partner.example", "<Bob@Corp.Example>"), id)
		case 4:
			c.Subject = pick(r, []string{"invoice", "ÜBER", "re:", "ready", "zzz"})
		case 5:
			c.URLs = some(append(urlPool, "https://EVIL.example/login", "evil.example/login"), id)
		case 6:
			c.AttachmentSHA256 = some(hashPool, strings.ToUpper)
		case 7:
			c.Since = base.Add(time.Duration(r.IntN(80)-20) * time.Hour)
		case 8:
			c.Before = base.Add(time.Duration(r.IntN(80)) * time.Hour)
			if !c.Since.IsZero() && !c.Since.Before(c.Before) {
				c.Before = time.Time{}
			}
		case 9:
			for range 1 + r.IntN(2) {
				fo := folders[r.IntN(len(folders))]
				if r.IntN(2) == 0 {
					c.Folders = append(c.Folders, pick(r, []string{fo.name, strings.ToLower(fo.name)}))
				} else {
					c.Roles = append(c.Roles, fo.role)
				}
			}
		case 10:
			if depth > 0 {
				for range 1 + r.IntN(2) {
					if r.IntN(2) == 0 {
						c.And = append(c.And, randomNode(r, depth-1))
					} else {
						c.Or = append(c.Or, randomNode(r, depth-1))
					}
				}
			}
		}
	}
	return c
}

func normMailbox(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func normAddr(a string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>")) }

func lower(s string) string { return strings.ToLower(s) }

func upper(s string) string { return strings.ToUpper(s) }

func compare(a, b string) int { return strings.Compare(a, b) }

// host returns the lower-cased host of a URL, "" when it has none.
func host(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Hostname())
}
