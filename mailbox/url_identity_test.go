package mailbox_test

import (
	"testing"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// safeLinksMessage carries one link, wrapped by Defender Safe Links, in
// its HTML part.
const safeLinksMessage = "From: a@sender.example\r\nTo: b@corp.example\r\nSubject: Invoice\r\n" +
	"Message-ID: <sl1@sender.example>\r\nContent-Type: text/html\r\n\r\n" +
	`<a href="https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2FPay.Evil.example%3A443%2Finv%2F.%2F7%3Fid%3D1&amp;data=05%7C01&amp;reserved=0">pay</a>` + "\r\n"

// A hunt on the URL a cluster names a link by finds the message carrying
// the link wrapped by Safe Links: hunting and clustering share one URL
// identity.
func TestCriteriaURLOfClusterMatchesSafeLinksWrappedCopy(t *testing.T) {
	p, err := mailbox.Parse([]byte(safeLinksMessage))
	if err != nil {
		t.Fatal(err)
	}
	ind := cluster.Extract(p)
	if len(ind.URLs) != 1 || ind.URLs[0].Unwrapped != 1 {
		t.Fatalf("cluster indicators: %+v", ind.URLs)
	}
	name := ind.URLs[0].Canonical
	m := p.Summary()
	for _, want := range []string{name, p.URLs[0], "https://pay.evil.example/inv/7?id=1"} {
		c := mailbox.Criteria{URLs: []string{want}}
		if err := c.ValidateSelection(); err != nil {
			t.Fatal(err)
		}
		ok, err := c.Match(&m, func() (*mailbox.Parsed, error) { return p, nil })
		if err != nil || !ok {
			t.Errorf("Criteria{URLs: [%q]} does not match the message linking %q (cluster names it %q): %v", want, p.URLs[0], name, err)
		}
	}
	c := mailbox.Criteria{URLs: []string{"https://pay.evil.example/inv/8?id=1"}}
	if ok, _ := c.Match(&m, func() (*mailbox.Parsed, error) { return p, nil }); ok {
		t.Error("another URL on the same host matches")
	}
}

// mailbox.NormalizeURL is the identity clusters use: for every link,
// cluster.NewURL gives the same canonical form.
func TestNormalizeURLIsClusterIdentity(t *testing.T) {
	for _, raw := range []string{
		"https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2Fa%3Fb%3Dc&data=x",
		"https://urldefense.com/v3/__https://example.com/a**Ab__;JCU!!token$",
		"HTTP://Evil.Example:80/a/../b#frag", "www.Example.com/x", "http://\u00ad2130706433/",
		"https://www.google.com/url?q=https://evil.example/x&sa=D", "ftp://Files.example:21/f",
	} {
		u, err := cluster.NewURL(raw)
		if err != nil {
			t.Fatalf("NewURL(%q): %v", raw, err)
		}
		if got := mailbox.NormalizeURL(raw); got != u.Canonical {
			t.Errorf("NormalizeURL(%q) = %q, cluster names it %q", raw, got, u.Canonical)
		}
	}
}
