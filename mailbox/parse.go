package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	// Registers every charset go-message knows for message.CharsetReader;
	// this package calls charset.Reader directly as well.
	_ "github.com/emersion/go-message/charset"

	"github.com/eradicate-dev/eradicate/mailbox/internal/linkscan"
)

// ErrMalformed is wrapped by the error [Parse] and [ParseHeader] return
// when a message is not well formed. The *Parsed returned with it holds
// everything that could be read.
var ErrMalformed = errors.New("mailbox: malformed message")

// Limits that keep hostile input from exhausting memory or stack. A part
// beyond them is not read and the message is reported malformed.
const (
	// MaxDepth is the deepest nesting of multiparts and attached messages
	// Parse descends into.
	MaxDepth = 32
	// MaxParts is the most MIME parts Parse reads in one message.
	MaxParts = 1000
)

// maxProblems caps the problems listed in one error.
const maxProblems = 20

// Parse reads a raw RFC 5322 message into a [Parsed]. It never panics and
// always returns a non-nil *Parsed with Size set.
//
// The message model:
//   - Headers: every field in order, RFC 2047-decoded; From, To, Cc, Bcc
//     and Reply-To addresses lower-cased; Return-Path gives EnvelopeFrom;
//     Received values newest (topmost) first; the first Message-ID, Date
//     and Subject count.
//   - Text and HTML: the text/plain and text/html parts without an
//     attachment disposition (an inline part with a file name is shown in
//     the body, and is listed as an attachment too), converted to UTF-8
//     from their charset, CRLF line ends turned into LF, joined by "\n".
//   - Attachments: every leaf part that has a file name, an attachment
//     disposition, or a media type other than text/* — inline images
//     included, with Inline set. A message/rfc822 part (an attached
//     message) is an attachment too, and Parse also reads inside it: its
//     attachments, calendar parts and URLs are collected with the outer
//     message's (a phish forwarded as an attachment keeps its indicators),
//     its text is not added to Text and HTML. Content is the part after
//     its Content-Transfer-Encoding is undone; no charset conversion.
//   - Calendars: text/calendar and application/ics parts and files named
//     *.ics, Method from the Content-Type METHOD parameter. A text/calendar
//     part is an attachment only when it has a file name or an attachment
//     disposition.
//   - URLs: where Defender's URL location would say body or attachment:
//     the http, https and ftp URLs and www. names written in the text
//     parts, the links of the HTML parts (a and area href, form action,
//     button and input formaction, frame and iframe src, meta refresh,
//     and the URLs written in their text and scripts; not image sources,
//     style sheets or icons), the URLs of calendar parts, then the links
//     inside attached files — HTML and text files, PDF link actions (also
//     in PDFs encrypted with an empty password or with a password the
//     message gives), Office documents' hyperlinks — distinct, as
//     written, at most [MaxURLs], in order of first appearance in the MIME
//     tree, except that links inside non-text files (PDF, Office, HTML
//     sent as octet-stream) come after all others.
//     [NormalizeURL] gives the form to compare them in. The work of
//     reading attached files has one budget per message
//     ([MaxInflatePerMessage] bytes decompressed, [MaxTokensPerMessage]
//     tokens of markup and password tries); files beyond it are not
//     read, and Truncated says so.
//
// When the message is malformed — bad boundaries, bad base64, an unknown
// charset or encoding, a truncated message, a header line without a name,
// more than [MaxDepth] levels or [MaxParts] parts — Parse returns an error
// wrapping [ErrMalformed] that lists the problems, together with what
// could be read. A part in an unknown charset is kept as written.
func Parse(raw []byte) (*Parsed, error) {
	pr := &parser{p: &Parsed{Size: len(raw)}}
	if len(raw) == 0 {
		pr.problem("", "empty message")
		return pr.p, pr.err()
	}
	h, body := readHeader(raw, func(s string) { pr.problem("", s) })
	fillHeader(pr.p, h)
	pr.walk(h, body, "", 0, false)
	var passwords []string
	passwordsRead := false
	for _, f := range pr.files {
		pr.urls.AddAttachment(f.name, f.mediaType, f.content, func() []string {
			if !passwordsRead {
				passwordsRead = true
				passwords = linkscan.PasswordCandidates(pr.text.String(), pr.html.String())
			}
			return passwords
		})
	}
	pr.p.URLs = pr.urls.URLs()
	if pr.urls.Full() {
		pr.problem("", fmt.Sprintf("more than %d URLs; the rest are ignored", MaxURLs))
	}
	pr.p.Truncated = pr.truncated || pr.tooMany || pr.urls.Full() || pr.urls.Truncated()
	if pr.text.Len() > 0 {
		pr.p.Text = pr.text.String()
	}
	if pr.html.Len() > 0 {
		pr.p.HTML = pr.html.String()
	}
	return pr.p, pr.err()
}

// ParseHeader reads only the header block of raw: the header fields of
// [Parsed] and Size, no bodies, URLs, attachments or calendars. It never
// panics and always returns a non-nil *Parsed; the error wraps
// [ErrMalformed] when the header is malformed.
func ParseHeader(raw []byte) (*Parsed, error) {
	pr := &parser{p: &Parsed{Size: len(raw)}}
	if len(raw) == 0 {
		pr.problem("", "empty message")
		return pr.p, pr.err()
	}
	h, _ := readHeader(raw, func(s string) {
		if !strings.HasPrefix(s, "no empty line") {
			pr.problem("", s)
		}
	})
	fillHeader(pr.p, h)
	return pr.p, pr.err()
}

// parser holds the state of one Parse call.
type parser struct {
	p          *Parsed
	text, html strings.Builder
	urls       linkscan.Set
	parts      int
	files      []file // attachments whose links are read after the walk
	problems   []problem
	more       int
	tooMany    bool
	truncated  bool // a part was not read for MaxDepth
}

// file is an attachment waiting for its links to be read.
type file struct {
	name, mediaType string
	content         []byte
}

// problem records what is wrong with the part at path ("" for the
// message). The same problem in several parts is reported once, with the
// parts listed.
func (pr *parser) problem(path, s string) {
	for i := range pr.problems {
		if pr.problems[i].what == s {
			pr.problems[i].paths = append(pr.problems[i].paths, path)
			return
		}
	}
	if len(pr.problems) >= maxProblems {
		pr.more++
		return
	}
	pr.problems = append(pr.problems, problem{what: s, paths: []string{path}})
}

// problem is one kind of defect and the parts that have it.
type problem struct {
	what  string
	paths []string // "" for the message itself
}

// maxPathsListed caps the parts named for one problem.
const maxPathsListed = 3

// err returns the recorded problems as one error wrapping ErrMalformed.
func (pr *parser) err() error {
	if len(pr.problems) == 0 {
		return nil
	}
	var b strings.Builder
	for i, p := range pr.problems {
		if i > 0 {
			b.WriteString("; ")
		}
		var named []string
		for _, path := range p.paths {
			if path != "" && len(named) < maxPathsListed {
				named = append(named, path)
			}
		}
		if len(named) > 0 {
			if len(named) == 1 {
				b.WriteString("part ")
			} else {
				b.WriteString("parts ")
			}
			b.WriteString(strings.Join(named, ", "))
			if n := len(p.paths) - len(named); n > 0 && len(named) == maxPathsListed {
				fmt.Fprintf(&b, " and %d more", n)
			}
			b.WriteString(": ")
		}
		b.WriteString(p.what)
	}
	if pr.more > 0 {
		fmt.Fprintf(&b, "; and %d more problems", pr.more)
	}
	return fmt.Errorf("%w: %s", ErrMalformed, b.String())
}

// walk reads one entity: its header h and raw body. path names the part
// for problem reports (IMAP section numbering, "" for the message), depth
// counts the multiparts and messages above it, and nested is true inside
// an attached message.
func (pr *parser) walk(h header, body []byte, path string, depth int, nested bool) {
	pr.parts++
	if pr.parts > MaxParts {
		if !pr.tooMany {
			pr.tooMany = true
			pr.problem("", fmt.Sprintf("more than %d MIME parts; the rest are ignored", MaxParts))
		}
		return
	}
	ctv := h.get("Content-Type")
	mt, params := parseMediaValue(ctv)
	if !strings.Contains(mt, "/") {
		if strings.TrimSpace(ctv) != "" {
			pr.problem(path, "invalid Content-Type "+strconv.Quote(clip(ctv))+"; read as text/plain")
		}
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		pr.walkMultipart(mt, params, body, path, depth, nested)
		return
	}
	disp, dparams := parseMediaValue(h.get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	filename = strings.TrimSpace(filename)
	content, problem := decodeTransfer(h.get("Content-Transfer-Encoding"), body)
	if problem != "" {
		pr.problem(path, problem)
	}

	if mt == "message/rfc822" || mt == "message/global" {
		pr.addAttachment(filename, mt, disp, content)
		if depth+1 > MaxDepth {
			pr.problem(path, fmt.Sprintf("nested deeper than %d levels; not read", MaxDepth))
			pr.truncated = true
			return
		}
		ih, ibody := readHeader(content, func(s string) { pr.problem(path, "attached message: "+s) })
		pr.walk(ih, ibody, subPath(path, 0), depth+1, true)
		return
	}

	isText := strings.HasPrefix(mt, "text/")
	isCalendar := mt == "text/calendar" || mt == "application/ics" || hasSuffixFoldString(filename, ".ics")
	attachment := disp == "attachment" || filename != "" || !isText
	if attachment {
		pr.addAttachment(filename, mt, disp, content)
	}
	if isCalendar {
		raw := content
		if isText {
			raw = pr.toUTF8(path, params["charset"], content)
		}
		pr.p.Calendars = append(pr.p.Calendars, CalendarPart{
			Method:     strings.ToUpper(strings.TrimSpace(params["method"])),
			Filename:   filename,
			Attachment: disp == "attachment",
			Raw:        raw,
		})
		pr.urls.AddText(unfoldICal(raw))
		return
	}
	if attachment && mt != "text/plain" && mt != "text/html" {
		// Read after the walk, once the text that may hold a password
		// for the file is known.
		pr.files = append(pr.files, file{filename, mt, content})
		return
	}
	// A body declared 7bit (or not at all) that is really
	// quoted-printable hides its links behind "href=3D" and soft line
	// breaks: its links are read from the decoded copy too. The body
	// itself is kept as declared.
	var qp []byte
	if (mt == "text/plain" || mt == "text/html") && identityTransfer(h.get("Content-Transfer-Encoding")) && looksQuotedPrintable(content) {
		qp, _ = charsetDecode(params["charset"], decodeQP(content))
	}
	switch mt {
	case "text/plain":
		t := pr.toUTF8(path, params["charset"], content)
		pr.urls.AddText(t)
		if qp != nil {
			pr.urls.AddText(qp)
		}
		if disp != "attachment" && !nested {
			appendText(&pr.text, t)
		}
	case "text/html":
		t := pr.toUTF8(path, params["charset"], content)
		pr.urls.AddHTML(t)
		if qp != nil {
			pr.urls.AddHTML(qp)
		}
		if disp != "attachment" && !nested {
			appendText(&pr.html, t)
		}
	default:
		// Other text (text/enriched, text/x-amp-html...) is not body
		// text, but its URLs count.
		pr.urls.AddText(pr.toUTF8(path, params["charset"], content))
	}
}

// walkMultipart splits a multipart body into its parts and walks each.
func (pr *parser) walkMultipart(mt string, params map[string]string, body []byte, path string, depth int, nested bool) {
	if depth+1 > MaxDepth {
		pr.problem(path, fmt.Sprintf("nested deeper than %d levels; not read", MaxDepth))
		pr.truncated = true
		return
	}
	boundary := params["boundary"]
	if boundary == "" {
		pr.problem(path, mt+" without a boundary; read as text")
		pr.urls.AddText(body)
		return
	}
	parts, problem := splitMultipart(body, boundary)
	if parts == nil {
		// Some senders declare one boundary and use another; a body that
		// starts with a delimiter line tells which.
		if alt := guessBoundary(body); alt != "" && alt != boundary {
			if p2, problem2 := splitMultipart(body, alt); p2 != nil {
				parts = p2
				problem = "boundary " + strconv.Quote(clip(boundary)) + " not in the body; used " + strconv.Quote(clip(alt)) + " found there"
				if problem2 != "" {
					problem += "; " + problem2
				}
			}
		}
	}
	if problem != "" {
		pr.problem(path, problem)
	}
	if parts == nil {
		// No boundary at all: the body is read for URLs only.
		pr.urls.AddText(body)
		return
	}
	for i, part := range parts {
		if pr.parts >= MaxParts {
			pr.parts++ // reports the limit once
			if !pr.tooMany {
				pr.tooMany = true
				pr.problem("", fmt.Sprintf("more than %d MIME parts; the rest are ignored", MaxParts))
			}
			return
		}
		sub := subPath(path, i)
		ph, pbody := readHeader(part, func(s string) {
			if !strings.HasPrefix(s, "no empty line") {
				pr.problem(sub, s)
			}
		})
		if mt == "multipart/digest" && !ph.has("Content-Type") {
			ph = append(ph, rawField{key: "Content-Type", value: "message/rfc822"})
		}
		pr.walk(ph, pbody, sub, depth+1, nested)
	}
}

// guessBoundary returns the boundary of the first line of body that looks
// like a multipart delimiter ("--" and at least one more character, no
// white space) within the first few lines, or "".
func guessBoundary(body []byte) string {
	for n := 0; n < 20 && len(body) > 0; n++ {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		body = rest
		line = bytes.TrimRight(line, " \t\r")
		if len(line) == 0 {
			continue
		}
		if len(line) > 2 && len(line) <= 72 && line[0] == '-' && line[1] == '-' && !bytes.ContainsAny(line, " \t") {
			return strings.TrimSuffix(string(line[2:]), "--")
		}
	}
	return ""
}

// unfoldICal undoes iCalendar line folding (RFC 5545 section 3.1) and the
// TEXT escapes of section 3.3.11, so that URLs in descriptions read whole.
func unfoldICal(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\r' && i+2 < len(b) && b[i+1] == '\n' && (b[i+2] == ' ' || b[i+2] == '\t'):
			i += 2
		case c == '\n' && i+1 < len(b) && (b[i+1] == ' ' || b[i+1] == '\t'):
			i++
		case c == '\\' && i+1 < len(b):
			i++
			switch b[i] {
			case 'n', 'N':
				out = append(out, '\n')
			default:
				out = append(out, b[i])
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

// subPath returns the IMAP-style section number of part i of path.
func subPath(path string, i int) string {
	if path == "" {
		return strconv.Itoa(i + 1)
	}
	return path + "." + strconv.Itoa(i+1)
}

// splitMultipart returns the parts of a multipart body (RFC 2046 section
// 5.1.1): the bytes between delimiter lines, without the line break that
// precedes each delimiter. A delimiter line is "--" boundary, optionally
// "--" for the last one, then optional white space. When the closing
// delimiter is missing the last part runs to the end and problem says so;
// when no delimiter is found parts is nil.
func splitMultipart(body []byte, boundary string) (parts [][]byte, problem string) {
	delim := []byte("--" + boundary)
	start := -1 // start of the current part's content
	pos := 0
	closed := false
	for pos < len(body) {
		k := bytes.Index(body[pos:], delim)
		if k < 0 {
			break
		}
		k += pos
		lineEnd := k + len(delim)
		if k > 0 && body[k-1] != '\n' {
			pos = lineEnd
			continue
		}
		rest := body[lineEnd:]
		isClose := bytes.HasPrefix(rest, []byte("--"))
		if isClose {
			rest = rest[2:]
		}
		// Only white space may follow on the line.
		j := 0
		for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t' || rest[j] == '\r') {
			j++
		}
		if j < len(rest) && rest[j] != '\n' {
			pos = lineEnd
			continue
		}
		next := lineEnd + (len(body[lineEnd:]) - len(rest)) + j
		if next < len(body) {
			next++ // the '\n'
		}
		if start >= 0 {
			end := k
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			parts = append(parts, body[start:end])
		}
		if isClose {
			closed = true
			break
		}
		start = next
		pos = next
		if len(parts) > MaxParts {
			return parts, ""
		}
	}
	switch {
	case start < 0:
		return nil, "no boundary " + strconv.Quote(clip(boundary)) + " in the body"
	case !closed:
		parts = append(parts, body[start:])
		return parts, "closing boundary missing (truncated message?)"
	}
	return parts, ""
}

// addAttachment records one attached file.
func (pr *parser) addAttachment(filename, mt, disp string, content []byte) {
	sum := sha256.Sum256(content)
	pr.p.Attachments = append(pr.p.Attachments, Attachment{
		Filename:  filename,
		MediaType: mt,
		Size:      int64(len(content)),
		SHA256:    hex.EncodeToString(sum[:]),
		Inline:    disp == "inline",
		Content:   content,
	})
}

// toUTF8 converts text in the named charset to UTF-8; text in an unknown
// charset is kept as written and reported.
func (pr *parser) toUTF8(path, cs string, b []byte) []byte {
	out, ok := charsetDecode(cs, b)
	if !ok {
		pr.problem(path, "unknown charset "+strconv.Quote(clip(cs))+"; text kept as written")
	}
	return out
}

// appendText adds t to b, CRLF turned into LF, separated by a newline from
// what b holds.
func appendText(b *strings.Builder, t []byte) {
	if len(t) == 0 {
		return
	}
	b.Grow(len(t) + 1)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	for len(t) > 0 {
		i := bytes.Index(t, []byte("\r\n"))
		if i < 0 {
			b.Write(t)
			return
		}
		b.Write(t[:i])
		b.WriteByte('\n')
		t = t[i+2:]
	}
}

// hasSuffixFoldString reports whether s ends with suffix, ignoring case.
func hasSuffixFoldString(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// clip shortens s for an error message.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
