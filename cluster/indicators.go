package cluster

import (
	"cmp"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/internal/tlsh"
	"github.com/eradicate-dev/eradicate/internal/urlcanon"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Indicators are what clustering reads from one message. [Extract] fills
// them from a parsed message; a caller may also build them directly (for
// example from a message-trace log).
type Indicators struct {
	// MessageID is the Message-ID without angle brackets. Copies of one
	// message (several recipients) share it and form one member.
	MessageID string
	// Subject is the decoded subject as written.
	Subject string
	// From is the header From address (P2), lower-cased; "" when it has
	// none. Clustering reads its domain (FromDomain); the index keeps the
	// address to describe the member ([Member.From]).
	From string
	// Date is the message's Date header; zero when missing or unreadable.
	Date time.Time
	// FromDomain is the registrable domain (eTLD+1) of the header From
	// address (P2); "" when it has none.
	FromDomain string
	// EnvelopeDomain is the registrable domain of the envelope sender
	// (P1); "" when it has none. It stands in for FromDomain when that is
	// empty ([Indicators.SenderDomain]).
	EnvelopeDomain string
	// SenderIP is the address of the first external hop in the Received
	// chain; invalid when none was found.
	SenderIP netip.Addr
	// URLs are the distinct canonical URLs of the message.
	URLs []URL
	// Files are the attachments.
	Files []File
	// Body is the 64-bit SimHash of the visible text and the HTML
	// structure (see [BodyFingerprint]); 0 when the body is too short to
	// fingerprint.
	Body uint64
}

// SenderDomain is the domain clustering attributes the message to: the
// header From domain, or the envelope domain when From has none.
func (ind *Indicators) SenderDomain() string {
	if ind.FromDomain != "" {
		return ind.FromDomain
	}
	return ind.EnvelopeDomain
}

// URL is one link of a message after unwrapping and canonicalisation.
type URL struct {
	// Canonical is the canonical form (Safe Browsing rules) of the link
	// after unwrapping: the URL's identity, equal to
	// mailbox.NormalizeURL of the raw link, so that Criteria.URLs with
	// it match every copy of the link, wrapped or not.
	Canonical string
	// Host is the canonical host.
	Host string
	// Domain is the registrable domain (eTLD+1) of Host, or Host itself
	// for an IP address or a host with no registrable part.
	Domain string
	// HostPath is host and path without the query.
	HostPath string
	// Template is host and path template ("evil.example/track/{num}/open")
	// when the path has a variable segment and a literal part; "" when it
	// is not specific enough to join messages.
	Template string
	// Unwrapped is how many rewriter layers (Safe Links, urldefense...)
	// were removed.
	Unwrapped int
}

// NewURL unwraps and canonicalises a link. It fails for links that are not
// web URLs (mailto:, cid:, ...).
func NewURL(raw string) (URL, error) { return newURL(raw, nil) }

// newURL is NewURL with a cache of registrable domains by host, which a
// message's links mostly share.
func newURL(raw string, domains map[string]string) (URL, error) {
	u, n, err := urlcanon.Clean(raw)
	if err != nil {
		return URL{}, err
	}
	canon := u.String()
	hp := len(u.Scheme) + len("://") // canon is scheme://host/path[?query]
	out := URL{
		Canonical: canon,
		Host:      u.Host,
		HostPath:  canon[hp : hp+len(u.Host)+len(u.Path)],
		Unwrapped: n,
	}
	if d, ok := domains[u.Host]; ok {
		out.Domain = d
	} else {
		out.Domain = u.RegistrableDomain()
		if domains != nil {
			domains[u.Host] = out.Domain
		}
	}
	if tmpl, vars := urlcanon.Template(u.Path); vars > 0 && hasLiteral(tmpl) && !sharedPlatform(out.Domain) {
		out.Template = u.Host + tmpl
	}
	return out, nil
}

// sharedPlatforms are registrable domains where everyone's documents,
// forms and files live under the same routes: a path template there
// ("docs.google.com/forms/d/e/{b64}/viewform") names the service, not a
// campaign, and would join any two of its links. Their URLs still join by
// the exact URL.
var sharedPlatforms = map[string]bool{
	"google.com": true, "googleapis.com": true, "googleusercontent.com": true, "forms.gle": true, "goo.gl": true,
	"sharepoint.com": true, "office.com": true, "live.com": true, "1drv.ms": true, "microsoft.com": true,
	"windows.net": true, "azurewebsites.net": true, "amazonaws.com": true, "cloudfront.net": true,
	"dropbox.com": true, "box.com": true, "wetransfer.com": true, "we.tl": true,
	"github.io": true, "githubusercontent.com": true, "gitlab.io": true, "pages.dev": true, "workers.dev": true,
	"netlify.app": true, "vercel.app": true, "web.app": true, "firebaseapp.com": true, "appspot.com": true,
	"notion.site": true, "typeform.com": true, "jotform.com": true, "wixsite.com": true, "weebly.com": true,
	"bit.ly": true, "t.co": true, "tinyurl.com": true,
}

func sharedPlatform(domain string) bool { return sharedPlatforms[domain] }

// hasLiteral reports whether a path template keeps something besides
// placeholders and slashes ("/u/{num}" does, "/{b64}" does not).
func hasLiteral(tmpl string) bool {
	for len(tmpl) > 0 {
		switch {
		case tmpl[0] == '/':
			tmpl = tmpl[1:]
		case tmpl[0] == '{':
			i := strings.IndexByte(tmpl, '}')
			if i < 0 {
				return true
			}
			tmpl = tmpl[i+1:]
		default:
			return true
		}
	}
	return false
}

// File is one attachment.
type File struct {
	Name string // decoded file name; may be ""
	// MediaType is lower-case, e.g. "application/pdf": as declared, or as
	// the content sniffs when declared application/octet-stream or not
	// at all (similar files are compared within one media type).
	MediaType string
	Size      int64  // decoded size in bytes
	SHA256    string // lower-case hex
	// TLSH is the TLSH digest ("T1" + 70 hex digits); "" when the file is
	// shorter than TLSH's minimum or too uniform to hash.
	TLSH string
	// Inline reports a Content-Disposition of inline. Inline images are
	// left out of similar-file (TLSH) links; their SHA-256 still links.
	Inline bool
}

// Extract reads the indicators of a parsed message. It never fails:
// links that do not canonicalise and files TLSH cannot hash are skipped
// (the file keeps its SHA-256).
func Extract(p *mailbox.Parsed) *Indicators {
	ind := &Indicators{
		MessageID:      mailbox.NormalizeMessageID(p.MessageID),
		Subject:        p.Subject,
		From:           p.From,
		Date:           p.Date,
		FromDomain:     addressDomain(p.From),
		EnvelopeDomain: addressDomain(p.EnvelopeFrom),
		SenderIP:       SenderIP(p.Received),
		Body:           BodyFingerprint(p.Text, p.HTML),
	}
	if len(p.URLs) > 0 {
		seen := make(map[string]bool, len(p.URLs))
		domains := map[string]string{}
		ind.URLs = make([]URL, 0, len(p.URLs))
		for _, raw := range p.URLs {
			u, err := newURL(raw, domains)
			if err != nil || seen[u.Canonical] {
				continue
			}
			seen[u.Canonical] = true
			ind.URLs = append(ind.URLs, u)
		}
	}
	for i := range p.Attachments {
		a := &p.Attachments[i]
		f := File{Name: a.Filename, MediaType: fileType(a.MediaType, a.Content), Size: a.Size, SHA256: strings.ToLower(a.SHA256), Inline: a.Inline}
		if len(a.Content) >= tlshMinLen {
			if d, err := tlsh.Hash(a.Content); err == nil {
				f.TLSH = d.String()
			}
		}
		ind.Files = append(ind.Files, f)
	}
	return ind
}

// fileType returns the media type similar files are compared under: the
// declared one, or when that says nothing (application/octet-stream, or
// none) the type the content sniffs as, so that a PDF sent as
// octet-stream is compared with PDFs.
func fileType(declared string, content []byte) string {
	if declared != "" && declared != "application/octet-stream" {
		return declared
	}
	sniffed, _, _ := strings.Cut(http.DetectContentType(content), ";")
	if strings.HasPrefix(sniffed, "text/") || sniffed == "application/octet-stream" {
		// Text sniffing says only that the bytes are printable.
		return cmp.Or(declared, "application/octet-stream")
	}
	return sniffed
}

// tlshMinLen is the shortest input TLSH hashes.
const tlshMinLen = 50

func addressDomain(addr string) string {
	d := mailbox.AddressDomain(addr)
	if d == "" {
		return ""
	}
	return urlcanon.RegistrableDomain(d)
}

// SenderIP returns the address of the first external hop in a Received
// chain given newest first (as [mailbox.Parsed.Received] holds it): the
// first IP literal of a "from" clause, walking down from the newest
// header, that is not private, loopback, link-local or otherwise
// non-routable. It returns the zero Addr when there is none.
//
// Within a clause the address the receiving server recorded is preferred
// to what the client claimed: the literals of the TCP-info comment ("from
// helo (rdns [192.0.2.1])") come before any other, and HELO values
// ("helo=...", "(HELO ...)") are never read. Hops between the receiving
// organisation's own Exchange Online servers (from a host under
// prod.outlook.com, protection.outlook.com or outlook.office365.com) are
// skipped: their public Microsoft addresses are not the sender's.
func SenderIP(received []string) netip.Addr {
	for _, h := range received {
		from := fromClause(h)
		if from == "" || internalHop(from) {
			continue
		}
		from = stripHELO(from)
		for _, part := range []string{parenthesized(from), from} {
			for _, a := range ipLiterals(part) {
				if isPublic(a) {
					return a
				}
			}
		}
	}
	return netip.Addr{}
}

// internalHop reports whether the from clause names an Exchange Online
// server of the receiving organisation.
func internalHop(from string) bool {
	host, _, _ := strings.Cut(strings.TrimSpace(lowerASCII(from)), " ")
	for _, suffix := range []string{".prod.outlook.com", ".protection.outlook.com", ".outlook.office365.com"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// stripHELO removes what the client said of itself from a from clause:
// "helo=..." words (Exim) and "(HELO ...)" or "(EHLO ...)" comments
// (qmail and others).
func stripHELO(from string) string {
	l := lowerASCII(from)
	var b strings.Builder
	for i := 0; i < len(from); {
		switch {
		case strings.HasPrefix(l[i:], "helo=") || strings.HasPrefix(l[i:], "ehlo="):
			j := i
			for j < len(from) && from[j] != ' ' && from[j] != ')' && from[j] != '\t' {
				j++
			}
			i = j
		case strings.HasPrefix(l[i:], "(helo ") || strings.HasPrefix(l[i:], "(ehlo "):
			j := strings.IndexByte(from[i:], ')')
			if j < 0 {
				return b.String()
			}
			i += j + 1
		default:
			b.WriteByte(from[i])
			i++
		}
	}
	return b.String()
}

// parenthesized returns the text inside the parentheses of s, joined by
// spaces: the comments where servers record the client's address.
func parenthesized(s string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
			b.WriteByte(' ')
		case c == ')':
			if depth > 0 {
				depth--
			}
			b.WriteByte(' ')
		case depth > 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// fromClause returns the part of a Received value between "from" and the
// next "by", where the sending host and its address are written.
func fromClause(h string) string {
	l := lowerASCII(h) // same length as h, unlike strings.ToLower

	i := strings.Index(l, "from ")
	if i < 0 {
		return ""
	}
	l, h = l[i+5:], h[i+5:]
	for _, stop := range []string{" by ", "\tby ", "\nby ", ";"} {
		if j := strings.Index(l, stop); j >= 0 {
			l, h = l[:j], h[:j]
		}
	}
	return h
}

// ipLiterals returns the IP addresses written in s: bracketed literals
// ("[192.0.2.1]", "[IPv6:2001:db8::1]") first, then bare addresses in
// parentheses ("(192.0.2.1)", "(host 192.0.2.1)").
func ipLiterals(s string) []netip.Addr {
	var out []netip.Addr
	rest := s
	for {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], ']')
		if j < 0 {
			break
		}
		lit := rest[i+1 : i+j]
		if len(lit) > 5 && strings.EqualFold(lit[:5], "ipv6:") {
			lit = lit[5:]
		}
		if a, err := netip.ParseAddr(lit); err == nil {
			out = append(out, a.Unmap())
		}
		rest = rest[i+j+1:]
	}
	if len(out) > 0 {
		return out
	}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '(' || r == ')' || r == '\t' || r == '\n' || r == '\r' || r == ','
	}) {
		if tok == "" || (tok[0] < '0' || tok[0] > '9') && !strings.Contains(tok, ":") {
			continue
		}
		if a, err := netip.ParseAddr(tok); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// lowerASCII lower-cases ASCII letters only, keeping every byte offset.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func isPublic(a netip.Addr) bool {
	return a.IsValid() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!a.IsLinkLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() && !cgnat.Contains(a)
}

// NormalizeSubject returns the subject as similarity keys compare it:
// lower-cased, reply and forward prefixes removed, runs of digits written
// as "0" and white space collapsed. "RE: Invoice #4411 due" and
// "Fwd: invoice #98 due" both become "invoice #0 due".
func NormalizeSubject(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for {
		p := replyPrefix(s)
		if p == 0 {
			break
		}
		s = strings.TrimSpace(s[p:])
	}
	var b strings.Builder
	b.Grow(len(s))
	space, digit := false, false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u00a0':
			space = b.Len() > 0
			digit = false
		case r >= '0' && r <= '9':
			if space {
				b.WriteByte(' ')
				space = false
			}
			if !digit {
				b.WriteByte('0')
			}
			digit = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			digit = false
			b.WriteRune(r)
		}
	}
	return b.String()
}

// replyPrefixes are the subject prefixes of replies and forwards that mail
// clients write, in English and the languages of Outlook, Thunderbird and
// Apple Mail (German AW/WG, Nordic SV/VS, French TR, Dutch Antw, Italian
// R/Rif, Portuguese RES/ENC), lower-case.
var replyPrefixes = [...]string{"re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "tr:", "antw:", "rif:", "r:", "res:", "enc:"}

// replyPrefix returns the length of the reply or forward prefix that the
// lower-case subject s starts with, or 0.
func replyPrefix(s string) int {
	for _, p := range replyPrefixes {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// replyOrForward reports whether a subject as written is a reply or a
// forward.
func replyOrForward(subject string) bool {
	s := strings.TrimSpace(subject)
	if len(s) > 8 {
		s = s[:8]
	}
	return replyPrefix(strings.ToLower(s)) > 0
}
