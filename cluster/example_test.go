package cluster_test

import (
	"fmt"
	"strings"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// invoice returns an HTML "invoice" attachment; variant changes a few
// amounts, as a campaign does from one message to the next.
func invoice(variant int) string {
	var b strings.Builder
	b.WriteString("<html><body><h1>Invoice</h1><table>\n")
	for i := 0; i < 60; i++ {
		amount := (i*7919 + 13) % 1000
		if i%20 == 0 {
			amount += variant
		}
		fmt.Fprintf(&b, "<tr><td>item %d: consulting services, reference %d</td><td>%d.%02d EUR</td></tr>\n", i, i*31, amount, i%100)
	}
	b.WriteString("</table><p>Payment is due within 7 days.</p></body></html>\n")
	return b.String()
}

// message returns a raw message with an HTML body and, when attachment is
// not empty, an HTML file attached.
func message(id, from, to, subject, html, attachment string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", from, to, subject, id)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n")
	b.WriteString(html + "\r\n")
	if attachment != "" {
		b.WriteString("--b\r\nContent-Type: text/html; name=\"invoice.html\"\r\nContent-Disposition: attachment; filename=\"invoice.html\"\r\n\r\n")
		b.WriteString(attachment + "\r\n")
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

// Cluster a small campaign: two messages share a link (each wrapped by a
// different gateway), a third carries an attachment similar to the
// second's, and a newsletter shares nothing with them. Every member says
// how it is linked to the seed.
func ExampleCluster() {
	msgs := []struct {
		raw  []byte
		copy mailbox.Address
	}{
		{message("a@mx.invoices-portal.example", "billing@invoices-portal.example", "alice@corp.example", "Invoice overdue",
			`<p>Pay <a href="https://nam02.safelinks.protection.outlook.com/?url=http%3A%2F%2Fpay.invoices-portal.example%2Flogin&amp;data=1">here</a></p>`, ""),
			mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 10}},
		{message("b@mx.other-sender.example", "noreply@other-sender.example", "bob@corp.example", "Your invoice",
			`<p>See the attached invoice or <a href="https://urldefense.proofpoint.com/v2/url?u=http-3A__pay.invoices-2Dportal.example_login&amp;d=DwMF">pay now</a></p>`, invoice(0)),
			mailbox.Address{Mailbox: "bob@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 20}},
		{message("c@mx.third.example", "accounts@third.example", "carol@corp.example", "Invoice 2291",
			`<p>Invoice attached.</p>`, invoice(3)),
			mailbox.Address{Mailbox: "carol@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 30}},
		{message("n@shop.example", "news@shop.example", "alice@corp.example", "Deals of the week",
			`<p>New <a href="https://shop.example/deals">deals</a></p>`, ""),
			mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 11}},
	}

	x := cluster.New(nil)
	for _, m := range msgs {
		p, err := mailbox.Parse(m.raw)
		if err != nil {
			fmt.Println("parse:", err)
			return
		}
		x.Add(cluster.Extract(p), m.copy)
	}

	seed, err := cluster.SeedURL("http://pay.invoices-portal.example/login")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := x.ClusterOf(seed, cluster.KindCampaign)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(c)
	crit := c.Criteria()
	fmt.Println("select:", crit.MessageIDs)
	fmt.Println("copies:", len(c.Addresses()))
	// Output:
	// campaign cluster of 3 messages, seed URL http://pay.invoices-portal.example/login, linked by similar files+similar URLs
	//   <a@mx.invoices-portal.example>: carries the seed URL http://pay.invoices-portal.example/login
	//   <b@mx.other-sender.example>: carries the seed URL http://pay.invoices-portal.example/login
	//   <c@mx.third.example>: similar file T161A19DA85DC240… (distance 4) to <b@mx.other-sender.example> <- carries the seed URL http://pay.invoices-portal.example/login
	// select: [a@mx.invoices-portal.example b@mx.other-sender.example c@mx.third.example]
	// copies: 3
}
