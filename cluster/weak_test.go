package cluster

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/tlsh"
	"github.com/eradicate-dev/eradicate/mailbox"
)

func TestWeakLinksJoinNothing(t *testing.T) {
	t.Run("brand's real site in spoofed mail", func(t *testing.T) {
		// Two unrelated lures spoof paypal.com and link to its real site
		// beside their own phishing links.
		x := New(nil)
		x.Add(msg{id: "a", from: "paypal.com", urls: []string{"https://www.paypal.com/us/webapps/help", "http://192.0.2.1/webscr/"}}.ind(t))
		x.Add(msg{id: "b", from: "paypal.com", urls: []string{"https://www.paypal.com/us/webapps/help", "http://login-verify.example/pp"}}.ind(t))
		assert.Empty(t, x.Clusters(KindCampaign))

		// Asking for the link's cluster, or a verdict on it, joins them.
		seed, err := SeedURL("https://www.paypal.com/us/webapps/help")
		require.NoError(t, err)
		c, err := x.ClusterOf(seed, KindURL)
		require.NoError(t, err)
		assert.Equal(t, 2, c.Len())
		x.MarkMalicious(seed.Key)
		require.Len(t, x.Clusters(KindURL), 1)
		assert.Equal(t, 2, x.Clusters(KindURL)[0].Len())
	})
	t.Run("bare service root", func(t *testing.T) {
		x := New(nil)
		x.Add(msg{id: "a", from: "one.example", urls: []string{"https://docs.google.com/"}}.ind(t))
		x.Add(msg{id: "b", from: "two.example", urls: []string{"https://docs.google.com"}}.ind(t))
		assert.Empty(t, x.Clusters(KindCampaign))
	})
	t.Run("weak beside strong", func(t *testing.T) {
		// A message carrying the link as weak evidence stays out, while
		// two that carry it as a lure are joined.
		x := New(nil)
		x.Add(msg{id: "a", from: "lure.example", urls: []string{"https://lure.example/login"}}.ind(t))
		x.Add(msg{id: "b", from: "other.example", urls: []string{"https://lure.example/login"}}.ind(t))
		x.Add(msg{id: "c", from: "other.example", subject: "another lure", urls: []string{"https://lure.example/login"}}.ind(t))
		cs := x.Clusters(KindURL)
		require.Len(t, cs, 1)
		var ids []string
		for _, m := range cs[0].Members {
			ids = append(ids, m.MessageID)
		}
		assert.ElementsMatch(t, []string{"b", "c"}, ids)
	})
	t.Run("weak carrier joined by another link", func(t *testing.T) {
		// a carries the lure link as weak evidence and shares another
		// link with b: the reasons never say a joined through the lure.
		x := New(nil)
		x.Add(msg{id: "a", from: "lure.example", urls: []string{"https://lure.example/login", "http://other.example/t/1"}}.ind(t))
		x.Add(msg{id: "b", from: "two.example", urls: []string{"https://lure.example/login", "http://other.example/t/1"}}.ind(t))
		x.Add(msg{id: "c", from: "two.example", subject: "c", urls: []string{"https://lure.example/login"}}.ind(t))
		c, err := x.ClusterOf(SeedMessage("a"), KindURL)
		require.NoError(t, err)
		require.Equal(t, 3, c.Len())
		assert.Equal(t, "b", c.Members[1].MessageID)
		assert.Equal(t, "http://other.example/t/1", c.Members[1].Link.Key.Value)
		assert.Equal(t, "c", c.Members[2].MessageID)
		assert.Equal(t, 1, c.Members[2].Link.Parent, c.String())
	})
	t.Run("one sender's signature link under many subjects", func(t *testing.T) {
		// A person forwards unrelated lures from a phone; every forward
		// carries the mail client's "Get Outlook for Android" link.
		const sig = "https://aka.ms/AAb9ysg"
		fwd := func(id, subject, lure string) *Indicators {
			ind := msg{id: id, from: "pot.example", subject: subject, urls: []string{sig, lure}}.ind(t)
			ind.From = "analyst@pot.example"
			return ind
		}
		x := New(nil)
		x.Add(fwd("a", "Fwd: Ourocard - Liberacao", "http://ourocard.example/x"))
		x.Add(fwd("b", "Fwd: Notificação ao cliente", "http://receita.example/y"))
		require.Len(t, x.Clusters(KindURL), 1, "two subjects: still evidence")
		x.Add(fwd("c", "Fwd: Suspension Notification", "http://amazon-verify.example/z"))
		assert.Empty(t, x.Clusters(KindCampaign), "a third subject makes the link the sender's boilerplate")

		// A campaign that repeats its link under changing subjects from
		// changing addresses stays one cluster.
		y := New(nil)
		for i, subject := range []string{"Bitcoin transfer 0.7495 BTC", "Mining balance", "Your transaction"} {
			ind := msg{id: fmt.Sprint(i), from: "mail.example", subject: subject, urls: []string{"http://btc-claim.example/w"}}.ind(t)
			ind.From = fmt.Sprintf("sender%d@mail.example", i)
			y.Add(ind)
		}
		require.Len(t, y.Clusters(KindURL), 1)
		assert.Equal(t, 3, y.Clusters(KindURL)[0].Len())

		// Marked malicious, the link joins the forwards again.
		seed, err := SeedURL(sig)
		require.NoError(t, err)
		x.MarkMalicious(seed.Key)
		require.Len(t, x.Clusters(KindURL), 1)
		assert.Equal(t, 3, x.Clusters(KindURL)[0].Len())

		// Disabled, or with a higher threshold, the link joins them.
		for _, n := range []int{-1, 4} {
			z := New(&Options{BoilerplateSubjects: n})
			z.Add(fwd("a", "Fwd: Ourocard - Liberacao", "http://ourocard.example/x"))
			z.Add(fwd("b", "Fwd: Notificação ao cliente", "http://receita.example/y"))
			z.Add(fwd("c", "Fwd: Suspension Notification", "http://amazon-verify.example/z"))
			require.Len(t, z.Clusters(KindURL), 1, n)
			assert.Equal(t, 3, z.Clusters(KindURL)[0].Len(), n)
		}
	})
	t.Run("one bulk sender's kit link under many fresh subjects", func(t *testing.T) {
		// A spammer sends different lures from one address, each with
		// the same links of its kit: not a person's boilerplate, one
		// campaign.
		x := New(nil)
		for i, subject := range []string{"You have won a tool set", "Claim your cordless kit", "Lose weight the smart way", "Final warning: your photos"} {
			ind := msg{id: fmt.Sprint(i), from: "news.example", subject: subject, urls: []string{"https://shop.example/account/verify?t=1"}}.ind(t)
			ind.From = "newsletter@news.example"
			x.Add(ind)
		}
		require.Len(t, x.Clusters(KindCampaign), 1)
		assert.Equal(t, 4, x.Clusters(KindCampaign)[0].Len())

		// The same four as replies are one person's mail: boilerplate.
		y := New(nil)
		for i, subject := range []string{"RE: tool set", "Re: cordless kit", "AW: weight", "ENC: photos"} {
			ind := msg{id: fmt.Sprint(i), from: "news.example", subject: subject, urls: []string{"https://shop.example/account/verify?t=1"}}.ind(t)
			ind.From = "newsletter@news.example"
			y.Add(ind)
		}
		assert.Empty(t, y.Clusters(KindCampaign))
	})
	t.Run("a part of a few bytes", func(t *testing.T) {
		// Two unrelated senders each carry a part that holds only a
		// line break: the same SHA-256 by accident.
		x := New(nil)
		crlf := fileOf(t, "image004.jpg", "image/jpeg", []byte("\r\n"))
		x.Add(msg{id: "a", from: "one.example", files: []File{crlf}}.ind(t))
		x.Add(msg{id: "b", from: "two.example", files: []File{crlf}}.ind(t))
		assert.Empty(t, x.Clusters(KindCampaign))

		// A file of minFileSize bytes joins them.
		small := fileOf(t, "pixel.gif", "image/gif", []byte(strings.Repeat("G", minFileSize)))
		x.Add(msg{id: "c", from: "one.example", files: []File{small}}.ind(t))
		x.Add(msg{id: "d", from: "two.example", files: []File{small}}.ind(t))
		require.Len(t, x.Clusters(KindFile), 1)
		assert.Equal(t, 2, x.Clusters(KindFile)[0].Len())
	})
	t.Run("empty attachment", func(t *testing.T) {
		x := New(nil)
		empty := fileOf(t, "x.txt", "text/plain", nil)
		x.Add(msg{id: "a", from: "one.example", files: []File{empty}}.ind(t))
		x.Add(msg{id: "b", from: "two.example", files: []File{empty}}.ind(t))
		assert.Empty(t, x.Clusters(KindCampaign))
	})
}

// tlshCodesString writes a digest string from a header and 128 codes.
func tlshCodesString(header string, codes *[128]byte) string {
	var body [32]byte
	for i, c := range codes {
		body[i/4] |= c << (2 * (i % 4))
	}
	var b strings.Builder
	b.WriteString("T1" + header)
	for _, v := range body {
		fmt.Fprintf(&b, "%02X", v)
	}
	return b.String()
}

// similarPair returns two digests whose bodies differ by one quartile in
// n buckets, and whether they share one of the 2-byte bands.
func similarPair(r *rand.Rand, n int) (a, b string, sharesBand bool) {
	var ca [128]byte
	for i := range ca {
		ca[i] = byte(r.IntN(4))
	}
	cb := ca
	for _, i := range r.Perm(128)[:n] {
		switch {
		case cb[i] == 0:
			cb[i] = 1
		case cb[i] == 3 || r.IntN(2) == 0:
			cb[i]--
		default:
			cb[i]++
		}
	}
	a, b = tlshCodesString("A1B2C3", &ca), tlshCodesString("A1B2C3", &cb)
	ba, _ := tlshBody(a)
	bb, _ := tlshBody(b)
	for i := 0; i < 32; i += 2 {
		if ba[i] == bb[i] && ba[i+1] == bb[i+1] {
			sharesBand = true
		}
	}
	return a, b, sharesBand
}

// TestSimilarFilesWithoutSharedBand checks that two files within the
// threshold whose digests keep none of the 2-byte bands are found, both
// for a media type whose coarse buckets have a directory and for one
// that arrives after the directories are taken.
func TestSimilarFilesWithoutSharedBand(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for tries := 0; ; tries++ {
		require.Less(t, tries, 1000)
		a, b, shares := similarPair(r, 60)
		if shares {
			continue
		}
		da, _ := tlsh.Parse(a)
		db, _ := tlsh.Parse(b)
		require.LessOrEqual(t, tlsh.Diff(da, db), DefaultFileDistance)
		for _, others := range []int{0, coarseDirs} {
			t.Run(fmt.Sprintf("after %d other media types", others), func(t *testing.T) {
				x := New(nil)
				for i := range others {
					o, _, _ := similarPair(r, 60)
					x.Add(msg{id: fmt.Sprint("other", i), from: "three.example", files: []File{{MediaType: fmt.Sprintf("application/x-%d", i), SHA256: fmt.Sprintf("%064x", i), TLSH: o}}}.ind(t))
				}
				x.Add(msg{id: "a", from: "one.example", files: []File{{MediaType: "application/pdf", SHA256: strings.Repeat("a", 64), TLSH: a}}}.ind(t))
				x.Add(msg{id: "b", from: "two.example", files: []File{{MediaType: "application/pdf", SHA256: strings.Repeat("b", 64), TLSH: b}}}.ind(t))
				assert.Len(t, x.coarseDir, min(others+1, coarseDirs))
				cs := x.Clusters(KindFile)
				require.Len(t, cs, 1, "distance %d", tlsh.Diff(da, db))
				assert.Equal(t, KeySimilarFile, cs[0].Members[1].Link.Key.Kind)
			})
		}
		return
	}
}

// TestSimilarFileLookupRecall measures the share of file pairs the
// candidate lookup finds, by how many bucket codes differ by one
// quartile, among pairs within the default threshold. It is the figure
// behind the package documentation.
func TestSimilarFileLookupRecall(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{30, 50, 70, 90} {
		pairs, found := 0, 0
		for pairs < 500 {
			a, b, _ := similarPair(r, n)
			da, _ := tlsh.Parse(a)
			db, _ := tlsh.Parse(b)
			if tlsh.Diff(da, db) > DefaultFileDistance {
				continue
			}
			pairs++
			x := New(nil)
			x.Add(msg{id: "a", from: "one.example", files: []File{{MediaType: "application/pdf", SHA256: strings.Repeat("a", 64), TLSH: a}}}.ind(t))
			x.Add(msg{id: "b", from: "two.example", files: []File{{MediaType: "application/pdf", SHA256: strings.Repeat("b", 64), TLSH: b}}}.ind(t))
			if len(x.Clusters(KindFile)) == 1 {
				found++
			}
		}
		recall := float64(found) / float64(pairs)
		t.Logf("%d codes one quartile apart: %d of %d pairs found (%.3f)", n, found, pairs, recall)
		switch {
		case n <= 50:
			assert.Equal(t, pairs, found, "%d codes apart", n)
		case n <= 70:
			assert.GreaterOrEqual(t, recall, 0.98, "%d codes apart", n)
		default:
			assert.GreaterOrEqual(t, recall, 0.85, "%d codes apart", n)
		}
	}
}

func TestMemberDescribesMessage(t *testing.T) {
	x := New(nil)
	date := time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC)
	a := msg{id: "a", from: "lure.example", subject: "Your invoice", ip: "198.51.100.7", urls: []string{"http://evil.example/x/1"}}.ind(t)
	a.From, a.Date = "billing@lure.example", date
	x.Add(a, mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 1, UID: 9})
	x.Add(msg{id: "b", from: "other.example", urls: []string{"http://evil.example/x/1"}}.ind(t))
	c, err := x.ClusterOf(SeedMessage("a"), KindCampaign)
	require.NoError(t, err)
	require.Equal(t, 2, c.Len())
	m := c.Members[0]
	assert.Equal(t, "Your invoice", m.Subject)
	assert.Equal(t, "billing@lure.example", m.From)
	assert.Equal(t, "lure.example", m.SenderDomain)
	assert.Equal(t, netip.MustParseAddr("198.51.100.7"), m.SenderIP)
	assert.True(t, date.Equal(m.Date))
	assert.Len(t, m.Copies, 1)
	b := c.Members[1]
	assert.Empty(t, b.From)
	assert.True(t, b.Date.IsZero())
	assert.False(t, b.SenderIP.IsValid())
}

func TestExtractFromDateAndSniffedType(t *testing.T) {
	pdf := "%PDF-1.4\n" + strings.Repeat("1 0 obj << /Type /Page >> endobj\n", 10)
	raw := "From: Billing <billing@lure.example>\r\nDate: Tue, 3 Jun 2025 09:15:00 +0000\r\nSubject: x\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=a.pdf\r\n\r\n" + pdf + "\r\n--b--\r\n"
	p, err := mailbox.Parse([]byte(raw))
	require.NoError(t, err)
	ind := Extract(p)
	assert.Equal(t, "billing@lure.example", ind.From)
	assert.True(t, time.Date(2025, 6, 3, 9, 15, 0, 0, time.UTC).Equal(ind.Date))
	require.Len(t, ind.Files, 1)
	assert.Equal(t, "application/pdf", ind.Files[0].MediaType)
}

func TestMailboxProviderDomainPairsNothing(t *testing.T) {
	// Unrelated people of one mailbox provider send the same ordinary
	// subject and a similar short body: once the provider is known by
	// its many senders, neither pair joins them.
	add := func(x *Index, id, from string) {
		ind := msg{id: id, from: "mail.example", subject: "Quick question about friday", body: 0xfeedface}.ind(t)
		ind.From = from
		x.Add(ind)
	}
	x := New(&Options{SharedDomainSenders: 3})
	add(x, "a", "ann@mail.example")
	add(x, "b", "bob@mail.example")
	require.Len(t, x.Clusters(KindSimilarity), 1, "two senders: still a sender domain")
	add(x, "c", "cid@mail.example")
	assert.Empty(t, x.Clusters(KindSimilarity))

	// Disabled, the pairs join them all.
	x = New(&Options{SharedDomainSenders: -1})
	add(x, "a", "ann@mail.example")
	add(x, "b", "bob@mail.example")
	add(x, "c", "cid@mail.example")
	require.Len(t, x.Clusters(KindSimilarity), 1)
	assert.Equal(t, 3, x.Clusters(KindSimilarity)[0].Len())
}

func TestWeakURL(t *testing.T) {
	tests := []struct {
		canon, host string
		want        bool
	}{
		{"https://www.paypal.com/us/webapps/help", "", true}, // the sender's own domain
		{"https://paypal.com/x", "", true},
		{"https://evilpaypal.com/x", "", false}, // not a subdomain
		{"https://docs.google.com/", "", true},  // a bare root
		{"https://docs.google.com", "", true},
		{"https://docs.google.com/?q=1", "", false},
		{"https://docs.google.com/#top", "", false},
		{"https://lure.example/login", "", false},
		{"https://lure.example/login", "mail.paypal.com", true}, // Host given wins
		{"", "", false},
		{"mailto:x@y", "", false},
	}
	for _, tt := range tests {
		u := URL{Canonical: tt.canon, Host: tt.host}
		assert.Equal(t, tt.want, weakURL(&u, "paypal.com", ""), "%q host %q", tt.canon, tt.host)
	}
}
