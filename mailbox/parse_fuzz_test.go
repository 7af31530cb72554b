package mailbox_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// hostileMessages are hand-made inputs that stress the limits and the
// error paths of Parse.
func hostileMessages() map[string]string {
	nested := func(depth int) string {
		var b strings.Builder
		b.WriteString("From: a@example.com\nSubject: nest\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n")
		for i := 1; i <= depth; i++ {
			b.WriteString("--b" + itoa(i-1) + "\nContent-Type: multipart/mixed; boundary=\"b" + itoa(i) + "\"\n\n")
		}
		b.WriteString("--b" + itoa(depth) + "\nContent-Type: text/plain\n\nhttp://deep.example.com/\n")
		return b.String()
	}
	var many strings.Builder
	many.WriteString("Content-Type: multipart/mixed; boundary=x\n\n")
	for i := 0; i < 1200; i++ {
		many.WriteString("--x\nContent-Type: application/octet-stream\n\nAAAA" + itoa(i) + "\n")
	}
	many.WriteString("--x--\n")
	var rfc822 strings.Builder
	rfc822.WriteString("Subject: outer\n")
	for i := 0; i < 40; i++ {
		rfc822.WriteString("Content-Type: message/rfc822\n\nSubject: level " + itoa(i) + "\n")
	}
	rfc822.WriteString("\nhttp://inner.example.com/\n")
	return map[string]string{
		"empty":              "",
		"only-newlines":      "\n\n\n",
		"header-no-body":     "From: a@example.com\nSubject: x",
		"continuation-first": " folded\nFrom: a@example.com\n\nbody",
		"binary-junk":        "\x00\xff\xfe\x01:\x80\n\n\x00\x01\x02http://\x00",
		"8bit-header":        "From: \xc3\xa9l\xe8ve <e@example.com>\nSubject: \xff\xfe\xfd\n\nbody",
		"bad-encoded-word":   "Subject: =?utf-8?B?####?= =?nope?Q?x?= =?utf-8?Q?=ZZ?=\n\nx",
		"bad-boundary":       "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
		"boundary-unclosed":  "Content-Type: multipart/alternative; boundary=q\n\n--q\nContent-Type: text/html\n\n<a href='http://x.example.com/'>",
		"boundary-guess":     "Content-Type: multipart/mixed; boundary=declared\n\n--actual\nContent-Type: text/plain\n\nhttp://guess.example.com/\n--actual--\n",
		"bad-base64":         "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n====A===B=C\n!!!!\nQUJD",
		"bad-qp":             "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=\n=Z=4=\r\n=41==",
		"uuencode":           "Content-Type: application/zip; name=a.zip\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a.zip\n#86)C\n`\nend\n",
		"uuencode-broken":    "Content-Type: application/zip\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n\xff\xff\n",
		"unknown-charset":    "Content-Type: text/html; charset=klingon\n\n<a href=\"http://k.example.com\">",
		"utf16":              "Content-Type: text/plain; charset=utf-16le\n\nh\x00t\x00t\x00p\x00:\x00/\x00/\x00",
		"rfc2231-junk":       "Content-Type: application/pdf; name*0*=x'y'%ZZ; name*99999=1; name*=''%41\nContent-Disposition: attachment; filename*1=\"b\"; filename*0=\"a\"\n\nx",
		"deep-multipart":     nested(40),
		"many-parts":         many.String(),
		"deep-rfc822":        rfc822.String(),
		"digest":             "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in digest\n\nhttp://digest.example.com/\n--d--\n",
		"calendar":           "Content-Type: text/calendar; method=request; charset=utf-8\n\nBEGIN:VCALENDAR\nDESCRIPTION:see https://c\n .example.com/x\\nnext\nEND:VCALENDAR\n",
		"pdf-encrypted-junk": "Content-Type: application/pdf; name=x.pdf\n\n%PDF-1.7\n4 0 obj<</Filter/Standard/R 6/U<00>/UE(\\\\)/O(1)>>endobj\n1 0 obj<</URI<414>>>endobj trailer<</Encrypt 4 0 R/ID[<00>]>> 2 0 obj<</Type/ObjStm/Filter/FlateDecode/Length 3>>stream\nxyz\nendstream",
		"zip-junk":           "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\n\nPK\x03\x04\x00\x00garbage",
		"urls-hostile":       "\n\nhttp:// https://( www. www.www.www. ftp://)]}.,;: http://a.example.com/(((((()))))) " + strings.Repeat("www.x ", 100) + strings.Repeat("://", 100),
		"long-header":        "Subject: " + strings.Repeat("=?utf-8?q?a?= ", 2000) + "\n\nx",
		"mbox-from":          "From sender@example.com Mon Jan  1 00:00:00 2024\nFrom: a@example.com\nTo: B@Example.com\n\nbody",
		"header-delimiter":   "Content-Type: multipart/mixed; boundary=\"--x\"\n----x\nContent-Type: text/plain\n\nhttp://nosep.example.com/\n----x--\n",
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// checkInvariants checks what Parse promises for any input.
func checkInvariants(t *testing.T, raw []byte) {
	t.Helper()
	p, err := mailbox.Parse(raw)
	if p == nil {
		t.Fatal("Parse returned a nil *Parsed")
	}
	if err != nil && !errors.Is(err, mailbox.ErrMalformed) {
		t.Fatalf("error %v does not wrap ErrMalformed", err)
	}
	if p.Size != len(raw) {
		t.Fatalf("Size %d, want %d", p.Size, len(raw))
	}
	for i, a := range p.Attachments {
		sum := sha256.Sum256(a.Content)
		if a.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("attachment %d: SHA256 %s is not the hash of its content", i, a.SHA256)
		}
		if a.Size != int64(len(a.Content)) {
			t.Fatalf("attachment %d: Size %d, content %d bytes", i, a.Size, len(a.Content))
		}
	}
	if len(p.URLs) > mailbox.MaxURLs {
		t.Fatalf("%d URLs, more than MaxURLs", len(p.URLs))
	}
	seen := make(map[string]bool, len(p.URLs))
	for _, u := range p.URLs {
		if seen[u] {
			t.Fatalf("URL %q listed twice", u)
		}
		seen[u] = true
		if u == "" {
			t.Fatal("empty URL")
		}
	}
	h, herr := mailbox.ParseHeader(raw)
	if h == nil {
		t.Fatal("ParseHeader returned a nil *Parsed")
	}
	if herr != nil && !errors.Is(herr, mailbox.ErrMalformed) {
		t.Fatalf("ParseHeader error %v does not wrap ErrMalformed", herr)
	}
	if h.MessageID != p.MessageID || h.Subject != p.Subject || h.From != p.From ||
		h.EnvelopeFrom != p.EnvelopeFrom || !h.Date.Equal(p.Date) || len(h.Headers) != len(p.Headers) {
		t.Fatalf("ParseHeader and Parse disagree on the header:\n%+v\n%+v", h.Summary(), p.Summary())
	}
}

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	for _, m := range hostileMessages() {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkInvariants(t, raw)
	})
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"HTTP://Example.COM:80", "https://a.example.com:443/x#frag", "www.Example.com/p?q=1",
		" ftp://h:21 ", "http://[::1]:80/", "http://u:p@H/", "mailto:x@y", "%zz", "http://a b/",
	} {
		f.Add(s)
	}
	f.Add("https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2FEvil.example%2Fa&data=1")
	f.Add("http://\u00ad2130706433/")
	f.Fuzz(func(t *testing.T, s string) {
		n := mailbox.NormalizeURL(s)
		if n2 := mailbox.NormalizeURL(n); n2 != n {
			t.Fatalf("NormalizeURL is not idempotent: %q -> %q -> %q", s, n, n2)
		}
		// A link as Parse extracts it has the name clusters give it.
		if s == strings.TrimSpace(s) && hasWebPrefix(s) {
			if u, err := cluster.NewURL(s); err == nil && u.Canonical != n {
				t.Fatalf("NormalizeURL(%q) = %q, cluster names it %q", s, n, u.Canonical)
			}
		}
	})
}

// hasWebPrefix reports whether s starts as the links Parse extracts do.
func hasWebPrefix(s string) bool {
	for _, p := range []string{"http:", "https:", "ftp:", "www."} {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

// TestHostileMessages runs the invariants on the hand-made hostile inputs
// without the fuzzing engine.
func TestHostileMessages(t *testing.T) {
	for name, m := range hostileMessages() {
		t.Run(name, func(t *testing.T) {
			checkInvariants(t, []byte(m))
		})
	}
}

// TestParseHostileSizes runs the invariants on large inputs built to make
// a careless parser take quadratic time (folded headers, nested comments,
// many candidate URLs or PDF keywords). Each must finish quickly; a
// regression shows as a test that does not end.
func TestParseHostileSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	pdfMsg := func(pdf []byte, text string) string {
		return "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\n" + text +
			"\n--m\nContent-Type: application/pdf; name=x.pdf\n\n" + string(pdf) + "\n--m--\n"
	}
	encrypted := buildEncryptedPDF(t, "secret", "https://evil.example/")
	tests := map[string]string{
		"folded header":     "Subject: x\n" + strings.Repeat(" folded\n", 200000) + "\nbody",
		"date comments":     "Date: " + strings.Repeat("(", 200000) + "\n\n",
		"closing brackets":  "\n\nhttp://a.example/" + strings.Repeat(")", 1<<20),
		"www then scheme":   "\n\n" + strings.Repeat("www.a ", 200000) + "http://z.example/",
		"dots":              "\n\n" + strings.Repeat(".", 1<<20) + "://",
		"password keywords": pdfMsg(encrypted, strings.Repeat("pw x ", 200000)),
		"pdf streams":       pdfMsg([]byte("%PDF-1.5\n"+strings.Repeat("1 0 obj<</Type/ObjStm/Filter/FlateDecode>>stream\nxx\nendstream\n", 20000)), ""),
		"pdf bare streams":  pdfMsg([]byte("%PDF-1.5\n/ObjStm"+strings.Repeat("stream\n", 200000)), ""),
		"encrypted uris":    pdfMsg(append(encrypted, strings.Repeat("9 0 obj<</URI(abc)>>", 10000)...), "password: secret"),
		"pdf objs":          pdfMsg(append(encrypted, strings.Repeat("obj", 300000)...), "password: secret"),
		"many boundaries":   "Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\n", 200000),
		"many header lines": strings.Repeat("X-A: b\n", 200000) + "\n",
		"html tags":         "Content-Type: text/html\n\n" + strings.Repeat("<a href=\"http://a.example/\">", 20000),
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			checkInvariants(t, []byte(m))
		})
	}
}
