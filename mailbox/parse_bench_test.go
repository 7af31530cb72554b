package mailbox_test

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eradicate-dev/eradicate/internal/testenv/corpus"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// benchHeader is a realistic header block: a few Received fields,
// authentication results, encoded words.
func benchHeader(subject, contentType string) string {
	return "Return-Path: <bounce-1234@mailer.example.net>\r\n" +
		"Received: from mx1.example.org (mx1.example.org [192.0.2.1])\r\n\tby mail.example.org (Postfix) with ESMTPS id 4Z7\r\n\tfor <alice@example.org>; Tue, 3 Jun 2025 09:15:02 +0200 (CEST)\r\n" +
		"Received: from out.mailer.example.net (out.mailer.example.net [198.51.100.7])\r\n\tby mx1.example.org with ESMTPS id abc; Tue, 3 Jun 2025 09:15:01 +0200\r\n" +
		"Authentication-Results: mx1.example.org; dkim=pass header.d=mailer.example.net; spf=pass smtp.mailfrom=mailer.example.net\r\n" +
		"DKIM-Signature: v=1; a=rsa-sha256; d=mailer.example.net; s=s1; h=from:to:subject:date;\r\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==\r\n" +
		"From: =?UTF-8?Q?Newsletter_=C3=89quipe?= <news@mailer.example.net>\r\n" +
		"To: Alice <alice@example.org>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Tue, 3 Jun 2025 09:15:00 +0200\r\n" +
		"Message-ID: <20250603091500.abcdef@mailer.example.net>\r\n" +
		"List-Unsubscribe: <https://mailer.example.net/u/abcdef>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: " + contentType + "\r\n\r\n"
}

// benchNewsletter is a 20 KB HTML newsletter with a text alternative and
// about a hundred links.
func benchNewsletter() []byte {
	var html, text strings.Builder
	html.WriteString("<!DOCTYPE html><html><head><style>td{font-family:Arial}</style></head><body><table>")
	for i := 0; html.Len() < 20<<10; i++ {
		fmt.Fprintf(&html, "<tr><td><img src=\"https://cdn.example.net/img/%d.png\" alt=\"\"><h2>Article %d</h2>"+
			"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit &amp; more text about item %d.</p>"+
			"<a href=\"https://track.example.net/c?u=https%%3A%%2F%%2Fshop.example.com%%2Fitem%%2F%d&amp;s=%d\">Read more</a></td></tr>\r\n", i, i, i, i, i)
		fmt.Fprintf(&text, "Article %d\r\nLorem ipsum dolor sit amet, item %d.\r\nRead more: https://shop.example.com/item/%d\r\n\r\n", i, i, i)
	}
	html.WriteString("</table></body></html>\r\n")
	return []byte(benchHeader("=?UTF-8?B?TGEgbGV0dHJlIGRlIGp1aW4=?=", `multipart/alternative; boundary="alt"`) +
		"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text.String() +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.String() + "--alt--\r\n")
}

// benchAttachment is a short message with a 200 KB PDF-like attachment in
// base64.
func benchAttachment() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	pdf := make([]byte, 200<<10)
	for i := range pdf {
		pdf[i] = byte(rng.Uint32())
	}
	copy(pdf, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Type/Catalog>>\nendobj\n")
	enc := base64.StdEncoding.EncodeToString(pdf)
	var body strings.Builder
	for i := 0; i < len(enc); i += 76 {
		body.WriteString(enc[i:min(i+76, len(enc))])
		body.WriteString("\r\n")
	}
	return []byte(benchHeader("Invoice 2025-0042", `multipart/mixed; boundary="mix"`) +
		"--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the invoice attached.\r\n" +
		"--mix\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		body.String() + "--mix--\r\n")
}

// benchPlain is a plain text mail of about 2 KB.
func benchPlain() []byte {
	var text strings.Builder
	for text.Len() < 2<<10 {
		text.WriteString("Hi Alice, the meeting notes are on the wiki at https://wiki.example.org/notes. Thanks!\r\n")
	}
	return []byte(benchHeader("Re: notes", "text/plain; charset=utf-8") + text.String())
}

func benchmarkMessages(b *testing.B, msgs [][]byte) {
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		for _, m := range msgs {
			if p, _ := mailbox.Parse(m); p == nil {
				b.Fatal("nil")
			}
		}
	}
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msgs/s")
	// On a shared machine wall-clock MB/s understates the parser; the CPU
	// time the process spent (garbage collection included) does not.
	if cpu > 0 {
		b.ReportMetric(float64(b.N)*float64(total)/cpu.Seconds()/1e6, "MB/cpu-s")
	}
}

func BenchmarkParse(b *testing.B) {
	newsletter, attachment, plain := benchNewsletter(), benchAttachment(), benchPlain()
	b.Run("newsletter-20KB", func(b *testing.B) { benchmarkMessages(b, [][]byte{newsletter}) })
	b.Run("attachment-200KB", func(b *testing.B) { benchmarkMessages(b, [][]byte{attachment}) })
	b.Run("plain-2KB", func(b *testing.B) { benchmarkMessages(b, [][]byte{plain}) })
	b.Run("mix", func(b *testing.B) { benchmarkMessages(b, [][]byte{newsletter, attachment, plain}) })
	b.Run("corpus", func(b *testing.B) {
		dir := corpus.Dir(b)
		var msgs [][]byte
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".eml") {
				return err
			}
			raw, err := os.ReadFile(path)
			msgs = append(msgs, raw)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		benchmarkMessages(b, msgs)
	})
}

func BenchmarkParseHeader(b *testing.B) {
	raw := benchNewsletter()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		mailbox.ParseHeader(raw)
	}
}
