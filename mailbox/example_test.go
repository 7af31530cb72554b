package mailbox_test

import (
	"fmt"

	"github.com/eradicate-dev/eradicate/mailbox"
)

func ExampleParse() {
	raw := []byte("Return-Path: <bounce@mailer.example.net>\r\n" +
		"From: =?UTF-8?Q?S=C3=A9curit=C3=A9?= <Alerts@Bank.Example>\r\n" +
		"To: alice@example.org\r\n" +
		"Subject: =?UTF-8?Q?V=C3=A9rifiez_votre_compte?=\r\n" +
		"Message-ID: <a1b2@bank.example>\r\n" +
		"Date: Tue, 3 Jun 2025 09:15:00 +0200\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"m\"\r\n" +
		"\r\n" +
		"--m\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n" +
		"\r\n" +
		"<a href=\"https://bank.example.login.example/verify?u=alice&amp;t=1\">Verify</a>\r\n" +
		"--m\r\n" +
		"Content-Type: application/octet-stream; name=\"statement.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		"JVBERi0xLjQKJSVFT0YK\r\n" +
		"--m--\r\n")

	p, err := mailbox.Parse(raw)
	if err != nil {
		fmt.Println("malformed:", err) // p still holds what could be read
	}
	fmt.Println("subject:", p.Subject)
	fmt.Println("from:", p.FromName, p.From, "envelope:", p.EnvelopeFrom)
	fmt.Println("message id:", p.MessageID)
	fmt.Println("urls:", p.URLs)
	for _, a := range p.Attachments {
		fmt.Println("attachment:", a.Filename, a.MediaType, a.Size, a.SHA256[:16])
	}
	// Output:
	// subject: Vérifiez votre compte
	// from: Sécurité alerts@bank.example envelope: bounce@mailer.example.net
	// message id: a1b2@bank.example
	// urls: [https://bank.example.login.example/verify?u=alice&t=1]
	// attachment: statement.pdf application/octet-stream 15 14bcd090baf31edb
}

func ExampleParse_malformed() {
	// A multipart message cut off in the middle of its second part.
	raw := []byte("Subject: cut\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhttp://a.example/\n--b\nContent-Type: text/pl")
	p, err := mailbox.Parse(raw)
	fmt.Println(err)
	fmt.Println(p.Subject, p.URLs)
	// Output:
	// mailbox: malformed message: closing boundary missing (truncated message?)
	// cut [http://a.example/]
}

func ExampleNormalizeURL() {
	for _, u := range []string{
		"HTTPS://Login.Example.COM:443/Reset?id=7#top",
		"www.example.com",
		"https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fpay.evil.example%2F%2E%2Fnow&data=05",
	} {
		fmt.Println(mailbox.NormalizeURL(u))
	}
	// Output:
	// https://login.example.com/Reset?id=7
	// http://www.example.com/
	// https://pay.evil.example/now
}

func ExampleCriteria_Match() {
	raw := []byte("From: ceo@corp.example\nSubject: Wire transfer\nMessage-ID: <w1@corp.example>\n\nPay at https://pay.evil.example/now\n")
	p, _ := mailbox.Parse(raw)
	m := p.Summary()
	c := mailbox.Criteria{SenderDomains: []string{"corp.example"}, URLs: []string{"https://PAY.evil.example/now"}}
	if err := c.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	ok, err := c.Match(&m, func() (*mailbox.Parsed, error) { return p, nil })
	fmt.Println(ok, err)
	// Output:
	// true <nil>
}
