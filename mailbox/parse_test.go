package mailbox_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return raw
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestParseAlternativeLatin1(t *testing.T) {
	raw := readTestdata(t, "alternative-latin1.eml")
	p, err := mailbox.Parse(raw)
	require.NoError(t, err)

	assert.Equal(t, "20250603091500.4242@sender.example.net", p.MessageID)
	assert.Equal(t, "Café réunion à midi", p.Subject)
	assert.Equal(t, "grafin@example.net", p.From)
	assert.Equal(t, "Café Gräfin", p.FromName)
	assert.Equal(t, "bounce+alerts@mailer.example.net", p.EnvelopeFrom)
	assert.Equal(t, []string{"replies@example.net"}, p.ReplyTo)
	assert.Equal(t, []string{"alice@example.org", "bob@example.org"}, p.To)
	assert.Equal(t, []string{"carol@example.org"}, p.Cc)
	assert.Empty(t, p.Bcc)
	assert.True(t, p.Date.Equal(time.Date(2025, 6, 3, 7, 15, 0, 0, time.UTC)), "date %v", p.Date)
	require.Len(t, p.Received, 2)
	assert.True(t, strings.HasPrefix(p.Received[0], "from mx2.example.org"), "newest first: %q", p.Received[0])
	assert.True(t, strings.HasPrefix(p.Received[1], "from sender.example.net"), p.Received[1])
	assert.Equal(t, mailbox.HeaderField{Key: "Subject", Value: "Café réunion à midi"}, p.Headers[7])
	assert.Equal(t, len(raw), p.Size)

	assert.Contains(t, p.Text, "Le café est servi.")
	assert.NotContains(t, p.Text, "\r")
	assert.Contains(t, p.HTML, "<p>Bonjour à tous,</p>")
	assert.Equal(t, []string{
		"https://events.example.net/cafe?id=7&lang=fr", // text: trailing "." dropped; HTML: &amp; decoded, same URL
		"http://maps.example.net/place/42",
		"www.example.net/agenda",
		"http://wiki.example.net/Caf%C3%A9_(bar)",
		"https://forms.example.net/rsvp", // form action; the img src and mailto are not links
	}, p.URLs)
	assert.Empty(t, p.Attachments)
	assert.Empty(t, p.Calendars)

	s := p.Summary()
	assert.Equal(t, []string{"alice@example.org", "bob@example.org", "carol@example.org"}, s.Recipients)
}

func TestParseAttachmentRFC2231(t *testing.T) {
	raw := readTestdata(t, "attachment-rfc2231.eml")
	require.Contains(t, string(raw), "\r\n", "this message has CRLF line ends")
	p, err := mailbox.Parse(raw)
	require.NoError(t, err)

	assert.Equal(t, "Résumé attached", p.Subject)
	assert.Equal(t, "Please find my résumé attached.", p.Text)
	require.Len(t, p.Attachments, 2)

	pdf := p.Attachments[0]
	assert.Equal(t, "Résumé Dana.pdf", pdf.Filename, "RFC 2231 filename* in ISO-8859-1 with continuations wins over the RFC 2047 name")
	assert.Equal(t, "application/pdf", pdf.MediaType)
	assert.False(t, pdf.Inline)
	assert.True(t, strings.HasPrefix(string(pdf.Content), "%PDF-1.4\n"), "base64 decoded: %q", pdf.Content[:10])
	assert.Equal(t, int64(len(pdf.Content)), pdf.Size)
	assert.Equal(t, sha256Hex(pdf.Content), pdf.SHA256)

	logo := p.Attachments[1]
	assert.Equal(t, "", logo.Filename)
	assert.Equal(t, "image/png", logo.MediaType)
	assert.True(t, logo.Inline)
	assert.Equal(t, []byte("\x89PNG\r\n\x1a\n"), logo.Content[:8])

	assert.Equal(t, []string{"https://docs.example.com/r(1)"}, p.URLs, "the link action of the PDF")
}

func TestParseInvite(t *testing.T) {
	p, err := mailbox.Parse(readTestdata(t, "invite-request.eml"))
	require.NoError(t, err)

	require.Len(t, p.Calendars, 2)
	inline, file := p.Calendars[0], p.Calendars[1]
	assert.Equal(t, "REQUEST", inline.Method, "from the Content-Type method parameter, upper-cased")
	assert.Equal(t, "", inline.Filename)
	assert.False(t, inline.Attachment)
	assert.Contains(t, string(inline.Raw), "UID:7f3c0a5e-1b2d-4c3e-9f00-000000000001@example.com")

	assert.Equal(t, "", file.Method, "no method parameter on the .ics attachment")
	assert.Equal(t, "invite.ics", file.Filename)
	assert.True(t, file.Attachment)
	assert.Contains(t, string(file.Raw), "METHOD:REQUEST\r\n")

	// The inline text/calendar part has no file name: not an attachment.
	// The application/ics file is one.
	require.Len(t, p.Attachments, 1)
	assert.Equal(t, "invite.ics", p.Attachments[0].Filename)
	assert.Equal(t, "application/ics", p.Attachments[0].MediaType)
	assert.Equal(t, file.Raw, p.Attachments[0].Content)

	assert.Equal(t, "You have been invited to Quarterly review.", p.Text)
	assert.Equal(t, "<p>You have been invited to <b>Quarterly review</b>.</p>", p.HTML)
	assert.Equal(t, []string{"https://meet.example.com/j/12345", "https://wiki.example.com/q3-agenda"}, p.URLs,
		"URLs of the description, unfolded and unescaped")
}

func TestParseForwardedMessage(t *testing.T) {
	p, err := mailbox.Parse(readTestdata(t, "forwarded-phish.eml"))
	require.NoError(t, err)

	assert.Equal(t, "Fw: Password expiry", p.Subject, "the outer message's header")
	assert.Equal(t, "Suspicious, see attached.", p.Text, "the attached message's text is not the outer text")
	assert.Empty(t, p.HTML)
	require.Len(t, p.Attachments, 2)
	assert.Equal(t, "message/rfc822", p.Attachments[0].MediaType)
	assert.Equal(t, "Password expiry.eml", p.Attachments[0].Filename)
	assert.True(t, strings.HasPrefix(string(p.Attachments[0].Content), "From: \"IT Helpdesk\""))
	assert.Equal(t, "invoice.html", p.Attachments[1].Filename, "the attachment inside the attached message")
	assert.Equal(t, []string{"https://login.phish.example/reset", "https://collect.phish.example/post"}, p.URLs,
		"links of the attached message and of its HTML attachment")
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		errText string
		check   func(t *testing.T, p *mailbox.Parsed)
	}{
		{
			name:    "truncated multipart",
			file:    "malformed-truncated.eml",
			errText: "closing boundary missing",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "cut off", p.Subject)
				assert.Equal(t, []string{"https://trunc.example.com/a"}, p.URLs)
				require.Len(t, p.Attachments, 1)
				assert.Equal(t, "data.zip", p.Attachments[0].Filename)
				assert.Equal(t, []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00!"), p.Attachments[0].Content)
			},
		},
		{
			name:    "unknown charset",
			file:    "malformed-charset.eml",
			errText: `unknown charset "x-no-such-charset"`,
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "caf\xe9 at http://cafe.example.com/\n", p.Text, "kept as written")
				assert.Equal(t, []string{"http://cafe.example.com/"}, p.URLs)
				assert.Equal(t, "café", p.Subject, "a word in an unknown charset is read as ISO-8859-1")
				assert.True(t, p.Date.IsZero(), "unreadable date")
			},
		},
		{
			name:    "bad base64",
			file:    "malformed-base64.eml",
			errText: "base64",
			check: func(t *testing.T, p *mailbox.Parsed) {
				require.Len(t, p.Attachments, 1)
				assert.Equal(t, "hello world", string(p.Attachments[0].Content))
			},
		},
		{
			name:    "header line without a name",
			file:    "malformed-headers.eml",
			errText: "header line without a field name",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "oster@example.com", p.From)
				assert.Equal(t, "Øster", p.FromName)
				assert.Equal(t, "Résumé 8-bit header", p.Subject, "8-bit ISO-8859-1 header bytes")
				assert.Empty(t, p.To, "a group with no members")
				assert.Equal(t, []string{"https://nobreak.example.com/x"}, p.URLs)
				assert.True(t, strings.HasPrefix(p.Text, "Bad header line without colon\n"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := readTestdata(t, tt.file)
			p, err := mailbox.Parse(raw)
			require.NotNil(t, p)
			require.ErrorIs(t, err, mailbox.ErrMalformed)
			assert.Contains(t, err.Error(), tt.errText)
			assert.Equal(t, len(raw), p.Size)
			tt.check(t, p)
		})
	}
}

func TestParseEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr string // "" for no error
		check   func(t *testing.T, p *mailbox.Parsed)
	}{
		{
			name:    "empty",
			raw:     "",
			wantErr: "empty message",
			check:   func(t *testing.T, p *mailbox.Parsed) { assert.Equal(t, 0, p.Size) },
		},
		{
			name:    "header only",
			raw:     "Message-ID: <only@example.com>\nSubject: hi",
			wantErr: "no empty line",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "only@example.com", p.MessageID)
				assert.Equal(t, "hi", p.Subject)
			},
		},
		{
			name: "mbox From line and folded subject",
			raw:  "From someone@example.com Mon Jan  1 00:00:00 2024\nSubject: one\n two\nReturn-Path: <>\n\nbody\n",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "one two", p.Subject)
				assert.Equal(t, "", p.EnvelopeFrom, "null reverse-path")
				assert.Equal(t, "body\n", p.Text)
			},
		},
		{
			name: "malformed address list falls back",
			raw:  "From: Bad, Name <Bad@Example.com>\nTo: x@example.com; Y@example.com\n\n",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "bad@example.com", p.From)
				assert.Equal(t, []string{"x@example.com", "y@example.com"}, p.To)
			},
		},
		{
			name:    "depth limit",
			raw:     deepMultipart(mailbox.MaxDepth + 5),
			wantErr: "nested deeper than 32 levels",
			check:   func(t *testing.T, p *mailbox.Parsed) { assert.Empty(t, p.URLs) },
		},
		{
			name:    "part limit",
			raw:     manyParts(mailbox.MaxParts + 10),
			wantErr: "more than 1000 MIME parts",
			check:   func(t *testing.T, p *mailbox.Parsed) { assert.Len(t, p.Attachments, mailbox.MaxParts-1) },
		},
		{
			name: "uuencoded attachment",
			raw:  "Content-Type: application/octet-stream; name=\"cat.txt\"\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 cat.txt\n#8V%T\n`\nend\n",
			check: func(t *testing.T, p *mailbox.Parsed) {
				require.Len(t, p.Attachments, 1)
				assert.Equal(t, "cat", string(p.Attachments[0].Content))
			},
		},
		{
			name: "quoted-printable soft breaks and bad escapes",
			raw:  "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nh=C3=A9llo wor=\nld =ZZ ==3D\n",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "héllo world =ZZ =3D\n", p.Text)
			},
		},
		{
			name:    "declared boundary missing, delimiter found in the body",
			raw:     "Content-Type: multipart/mixed; boundary=declared\n\n--actual\nContent-Type: text/plain\n\nhttp://guess.example.com/\n--actual--\n",
			wantErr: `used "actual"`,
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "http://guess.example.com/", p.Text)
			},
		},
		{
			name: "digest parts default to message/rfc822",
			raw:  "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in digest\n\nhttp://digest.example.com/\n--d--\n",
			check: func(t *testing.T, p *mailbox.Parsed) {
				require.Len(t, p.Attachments, 1)
				assert.Equal(t, "message/rfc822", p.Attachments[0].MediaType)
				assert.Equal(t, []string{"http://digest.example.com/"}, p.URLs)
			},
		},
		{
			name: "inline text with a file name is body and attachment",
			raw:  "Content-Type: text/html\nContent-Disposition: inline; filename=page.html\n\n<p>hi</p>",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "<p>hi</p>", p.HTML)
				require.Len(t, p.Attachments, 1)
				assert.Equal(t, "page.html", p.Attachments[0].Filename)
				assert.True(t, p.Attachments[0].Inline)
			},
		},
		{
			name: "text attachment is not body",
			raw:  "Content-Type: text/plain\nContent-Disposition: attachment\n\nnotes http://n.example/",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Empty(t, p.Text)
				require.Len(t, p.Attachments, 1)
				assert.Equal(t, []string{"http://n.example/"}, p.URLs)
			},
		},
		{
			name: "windows-1252 HTML with entities",
			raw:  "Content-Type: text/html; charset=windows-1252\n\n<a href=\"https://x.example.com/?a=1&amp;b=2\">\x93go\x94</a>",
			check: func(t *testing.T, p *mailbox.Parsed) {
				assert.Equal(t, "<a href=\"https://x.example.com/?a=1&amp;b=2\">\u201cgo\u201d</a>", p.HTML)
				assert.Equal(t, []string{"https://x.example.com/?a=1&b=2"}, p.URLs)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := mailbox.Parse([]byte(tt.raw))
			require.NotNil(t, p)
			assert.Equal(t, len(tt.raw), p.Size)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, mailbox.ErrMalformed)
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			tt.check(t, p)
		})
	}
}

func deepMultipart(depth int) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b0\"\n\n")
	for i := 1; i <= depth; i++ {
		b.WriteString("--b" + itoa(i-1) + "\nContent-Type: multipart/mixed; boundary=\"b" + itoa(i) + "\"\n\n")
	}
	b.WriteString("--b" + itoa(depth) + "\nContent-Type: text/plain\n\nhttp://deep.example.com/\n")
	return b.String()
}

func manyParts(n int) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=x\n\n")
	for i := 0; i < n; i++ {
		b.WriteString("--x\nContent-Type: application/octet-stream\n\npart " + itoa(i) + "\n")
	}
	b.WriteString("--x--\n")
	return b.String()
}

func TestParseHeader(t *testing.T) {
	raw := readTestdata(t, "alternative-latin1.eml")
	h, err := mailbox.ParseHeader(raw)
	require.NoError(t, err)
	p, err := mailbox.Parse(raw)
	require.NoError(t, err)

	assert.Equal(t, p.Summary(), h.Summary())
	assert.Equal(t, p.Headers, h.Headers)
	assert.Equal(t, p.Received, h.Received)
	assert.Equal(t, p.FromName, h.FromName)
	assert.Empty(t, h.Text)
	assert.Empty(t, h.URLs)
	assert.Equal(t, len(raw), h.Size)

	// A header without a body is not a problem for ParseHeader.
	h, err = mailbox.ParseHeader([]byte("Subject: x\r\nFrom: a@example.com"))
	require.NoError(t, err)
	assert.Equal(t, "x", h.Subject)

	h, err = mailbox.ParseHeader(nil)
	require.ErrorIs(t, err, mailbox.ErrMalformed)
	require.NotNil(t, h)
}

func TestParseDates(t *testing.T) {
	tests := []struct {
		name string
		date string
		want time.Time
	}{
		{"RFC 5322", "Tue, 3 Jun 2025 09:15:00 +0200", time.Date(2025, 6, 3, 7, 15, 0, 0, time.UTC)},
		{"no day name, comment", "3 Jun 2025 09:15:00 +0000 (UTC)", time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC)},
		{"two-digit year", "Tue, 03 Jun 25 09:15:00 +0000", time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC)},
		{"asctime", "Tue Jun  3 09:15:00 2025", time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC)},
		{"ISO 8601", "2025-06-03T09:15:00Z", time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC)},
		{"extra spaces and comma", "Tue,  3  Jun 2025 09:15:00 +0000", time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC)},
		{"day name without comma", "Tue 3 Jun 2025 09:15:00 +0000", time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC)},
		{"garbage", "the day after tomorrow", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := mailbox.ParseHeader([]byte("Date: " + tt.date + "\n\n"))
			assert.True(t, p.Date.Equal(tt.want), "got %v, want %v", p.Date, tt.want)
		})
	}
}

func TestParseMislabelledQuotedPrintableLinks(t *testing.T) {
	// Declared 7bit, written quoted-printable: the link is behind
	// href=3D and a soft line break.
	html := "<p>Your mailbox is full.</p><a href=3D\"https://evil.example/very/long/pa=\r\nth?u=3D1\">Open</a>\r\n"
	for _, tt := range []struct{ name, header string }{
		{"html 7bit", "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"},
		{"html without encoding", "Content-Type: text/html\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := mailbox.Parse([]byte("From: a@b.example\r\n" + tt.header + "\r\n" + html))
			require.NoError(t, err)
			assert.Contains(t, p.URLs, "https://evil.example/very/long/path?u=1")
			// The body is kept as declared.
			assert.Contains(t, p.HTML, "href=3D")
		})
	}
	// Plain text with a soft break inside the link.
	p, err := mailbox.Parse([]byte("Content-Type: text/plain\r\n\r\nGo to https://evil.example/lo=\r\ngin?a=3Db today\r\n"))
	require.NoError(t, err)
	assert.Contains(t, p.URLs, "https://evil.example/login?a=b")
	assert.Contains(t, p.Text, "lo=\ngin")

	// An equals sign in an ordinary 7bit body is left alone.
	p, err = mailbox.Parse([]byte("Content-Type: text/plain\r\n\r\nSee https://ok.example/?a=3D and x=\r\ny\r\n"))
	require.NoError(t, err)
	assert.Contains(t, p.URLs, "https://ok.example/?a=3D")
}

func TestParseEncryptedPDFLinks(t *testing.T) {
	// The PDF below is encrypted (RC4, 40-bit, revision 2) with the user
	// password "123", which the message gives in its text, as phishing
	// lures do. Its single link action points to https://evil.example/x.
	pdf := buildEncryptedPDF(t, "123", "https://evil.example/x")
	msg := "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nOpen the file. Senha de acesso: 123\n" +
		"--m\nContent-Type: application/pdf; name=lure.pdf\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString(pdf) + "\n--m--\n"
	p, err := mailbox.Parse([]byte(msg))
	require.NoError(t, err)
	assert.Equal(t, []string{"https://evil.example/x"}, p.URLs)

	// The password further than four words from its cue, or on the next
	// line, is found too.
	for _, cue := range []string{"SENHA DE ACESSO AO PDF: 123", "Password to open the attached file:\n\n123\n"} {
		p, err = mailbox.Parse([]byte(strings.Replace(msg, "Senha de acesso: 123", cue, 1)))
		require.NoError(t, err)
		assert.Equal(t, []string{"https://evil.example/x"}, p.URLs, cue)
	}

	// In an HTML body, the password in its own cell after the cue.
	html := strings.Replace(msg, "Content-Type: text/plain\n\nOpen the file. Senha de acesso: 123\n",
		"Content-Type: text/html\n\n<table><tr><td><b>SENHA&nbsp;DO PDF:</b></td><td>123</td></tr></table>\n", 1)
	require.NotEqual(t, msg, html)
	p, err = mailbox.Parse([]byte(html))
	require.NoError(t, err)
	assert.Equal(t, []string{"https://evil.example/x"}, p.URLs)

	// Without the password in the text the link stays hidden.
	msg = strings.Replace(msg, "Senha de acesso: 123", "no password here", 1)
	p, err = mailbox.Parse([]byte(msg))
	require.NoError(t, err)
	assert.Empty(t, p.URLs)
}

// buildEncryptedPDF returns a minimal PDF with one link action to uri,
// encrypted by the standard security handler, revision 2 (RC4, 40-bit
// key, PDF 32000-1 section 7.6.3), with the given user password.
func buildEncryptedPDF(t *testing.T, password, uri string) []byte {
	t.Helper()
	padding := []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")
	pad := func(pw string) []byte { return append([]byte(pw), padding...)[:32] }
	id := []byte("0123456789abcdef")
	rc4 := func(key, data []byte) []byte {
		var s [256]byte
		for i := range s {
			s[i] = byte(i)
		}
		j := 0
		for i := range s {
			j = (j + int(s[i]) + int(key[i%len(key)])) & 0xff
			s[i], s[j] = s[j], s[i]
		}
		out := make([]byte, len(data))
		i, j := 0, 0
		for n, c := range data {
			i = (i + 1) & 0xff
			j = (j + int(s[i])) & 0xff
			s[i], s[j] = s[j], s[i]
			out[n] = c ^ s[(int(s[i])+int(s[j]))&0xff]
		}
		return out
	}
	md5sum := func(parts ...[]byte) []byte {
		var all []byte
		for _, p := range parts {
			all = append(all, p...)
		}
		return md5Sum(all)
	}
	// Algorithm 3: O from the owner password "owner".
	o := rc4(md5sum(pad("owner"))[:5], pad(password))
	// Algorithm 2: the file key; P = -4.
	key := md5sum(pad(password), o, []byte{0xfc, 0xff, 0xff, 0xff}, id)[:5]
	// Algorithm 4: U.
	u := rc4(key, padding)
	// Algorithm 1: the string of object 1, generation 0.
	objKey := md5sum(key, []byte{1, 0, 0, 0, 0})[:10]
	encURI := rc4(objKey, []byte(uri))

	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	b.WriteString("1 0 obj\n<</Type/Annot/Subtype/Link/A<</S/URI/URI <" + hex.EncodeToString(encURI) + ">>>>>\nendobj\n")
	b.WriteString("2 0 obj\n<</Filter/Standard/V 1/R 2/O <" + hex.EncodeToString(o) + ">/U <" + hex.EncodeToString(u) + ">/P -4>>\nendobj\n")
	b.WriteString("trailer\n<</Encrypt 2 0 R/ID[<" + hex.EncodeToString(id) + "><" + hex.EncodeToString(id) + ">]>>\n%%EOF\n")
	return []byte(b.String())
}

func md5Sum(b []byte) []byte {
	s := md5.Sum(b)
	return s[:]
}
