package cluster

import (
	"testing"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// FuzzBodyFingerprint feeds attacker-made HTML and text to the body
// fingerprint, the Received parser and Extract (links, sender, a file
// whose type is sniffed) and adds the result to an index: no panic, and
// the same input always gives the same fingerprint.
func FuzzBodyFingerprint(f *testing.F) {
	f.Add("<html><body><p>Hello &amp; welcome</p><script>x</script></body></html>", "from a ([192.0.2.1]) by b")
	f.Add("<!-- unterminated", "from")
	f.Add("<style>p{}</STYLE><a href=x>link</a>", "from x (y 198.51.100.1) by z;")
	f.Add("<", "[")
	f.Fuzz(func(t *testing.T, html, received string) {
		a := BodyFingerprint(html, html)
		if b := BodyFingerprint(html, html); a != b {
			t.Fatalf("not deterministic: %x != %x", a, b)
		}
		_ = BodyFingerprint(html, "")
		_ = SenderIP([]string{received, html})
		_ = NormalizeSubject(html)
		ind := Extract(&mailbox.Parsed{
			HTML: html, Text: received, URLs: []string{html, received}, Received: []string{received},
			From: received, Subject: html,
			Attachments: []mailbox.Attachment{{Content: []byte(html), SHA256: "00"}},
		})
		x := New(&Options{SharedDomainSenders: 1})
		x.Add(ind)
		for _, c := range x.Clusters(KindCampaign) {
			_ = c.String()
		}
	})
}
