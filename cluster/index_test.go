package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/internal/tlsh"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// msg builds indicators for tests.
type msg struct {
	id, from, subject string
	urls              []string
	files             []File
	ip                string
	body              uint64
}

func (m msg) ind(t testing.TB) *Indicators {
	t.Helper()
	ind := &Indicators{MessageID: m.id, Subject: m.subject, FromDomain: m.from, Body: m.body}
	if m.ip != "" {
		ind.SenderIP = netip.MustParseAddr(m.ip)
	}
	for _, raw := range m.urls {
		u, err := NewURL(raw)
		require.NoError(t, err)
		ind.URLs = append(ind.URLs, u)
	}
	ind.Files = m.files
	return ind
}

func fileOf(t testing.TB, name, mediaType string, content []byte) File {
	t.Helper()
	sum := sha256.Sum256(content)
	f := File{Name: name, MediaType: mediaType, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
	if d, err := tlsh.Hash(content); err == nil {
		f.TLSH = d.String()
	}
	return f
}

// document returns n bytes of word-like text from seed r.
func document(r *rand.Rand, n int) []byte {
	words := []string{"invoice", "payment", "account", "the", "of", "please", "review", "attached", "document",
		"overdue", "transfer", "bank", "details", "confirm", "within", "days", "regards", "finance", "team", "order"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(9) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return []byte(b.String()[:n])
}

// mutate changes k random bytes of a copy of doc.
func mutate(r *rand.Rand, doc []byte, k int) []byte {
	out := slices.Clone(doc)
	for i := 0; i < k; i++ {
		out[r.IntN(len(out))] = byte('a' + r.IntN(26))
	}
	return out
}

func ids(c *Cluster) []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.MessageID)
	}
	slices.Sort(out)
	return out
}

func addr(owner string, uid uint32) mailbox.Address {
	return mailbox.Address{Mailbox: owner, Folder: "INBOX", UIDValidity: 1, UID: uid}
}

func TestSameURLAcrossWrappers(t *testing.T) {
	x := New(nil)
	x.Add(msg{id: "a@x", from: "spam1.example", urls: []string{"https://nam02.safelinks.protection.outlook.com/?url=http%3A%2F%2FEvil.example%2Flogin%23top&data=1"}}.ind(t), addr("alice@corp.example", 1))
	x.Add(msg{id: "b@x", from: "spam2.example", urls: []string{"https://urldefense.proofpoint.com/v2/url?u=http-3A__evil.example_login&d=DwMF"}}.ind(t), addr("bob@corp.example", 7))
	x.Add(msg{id: "c@x", from: "spam3.example", urls: []string{"http://other.example/"}}.ind(t))

	seed, err := SeedURL("http://evil.example/login")
	require.NoError(t, err)
	c, err := x.ClusterOf(seed, KindURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"a@x", "b@x"}, ids(c))
	for i := range c.Members {
		assert.Equal(t, -1, c.Members[i].Link.Parent, "both carry the seed")
		assert.Equal(t, Key{Kind: KeyURL, Value: "http://evil.example/login"}, c.Members[i].Link.Key)
	}
	crit := c.Criteria()
	require.NoError(t, crit.Validate())
	assert.ElementsMatch(t, []string{"a@x", "b@x"}, crit.MessageIDs)
	assert.ElementsMatch(t, []mailbox.Address{addr("alice@corp.example", 1), addr("bob@corp.example", 7)}, c.Addresses())
}

func TestReasonChainAcrossKinds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	doc := document(r, 4000)
	fB := fileOf(t, "inv.doc", "application/msword", doc)
	fC := fileOf(t, "inv2.doc", "application/msword", mutate(r, doc, 20))
	require.NotEmpty(t, fB.TLSH)
	require.NotEqual(t, fB.SHA256, fC.SHA256)

	x := New(nil)
	x.Add(msg{id: "a@x", from: "d1.example", urls: []string{"http://evil.example/pay"}}.ind(t))
	x.Add(msg{id: "b@x", from: "d2.example", urls: []string{"http://evil.example/pay"}, files: []File{fB}}.ind(t))
	x.Add(msg{id: "c@x", from: "d3.example", files: []File{fC}}.ind(t))
	x.Add(msg{id: "d@x", from: "d3.example", subject: "Your invoice 123 is overdue"}.ind(t))
	x.Add(msg{id: "e@x", from: "d3.example", subject: "RE: your invoice 98 is overdue"}.ind(t))

	c, err := x.ClusterOf(SeedMessage("<a@x>"), KindCampaign)
	require.NoError(t, err)
	assert.Equal(t, []string{"a@x", "b@x", "c@x"}, ids(c), "d and e share only a subject with each other")
	assert.Equal(t, KindFile|KindURL, c.Links)
	ic := slices.IndexFunc(c.Members, func(m Member) bool { return m.MessageID == "c@x" })
	chain := c.Chain(ic)
	require.Len(t, chain, 3)
	assert.Equal(t, KeySimilarFile, chain[0].Key.Kind)
	assert.Equal(t, fC.TLSH, chain[0].Key.Value)
	assert.Equal(t, fB.TLSH, chain[0].Other)
	assert.Positive(t, chain[0].Distance)
	assert.Equal(t, KeyURL, chain[1].Key.Kind)
	assert.Equal(t, -1, chain[2].Parent)
	assert.Contains(t, c.Explain(ic), "similar file ")
	assert.Contains(t, c.Explain(ic), "<- same URL http://evil.example/pay as <a@x> <- seed")

	// By kind: the URL cluster of a stops at b, the file cluster of c is b and c.
	cu, err := x.ClusterOf(SeedMessage("a@x"), KindURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"a@x", "b@x"}, ids(cu))
	cf, err := x.ClusterOf(SeedMessage("c@x"), KindFile)
	require.NoError(t, err)
	assert.Equal(t, []string{"b@x", "c@x"}, ids(cf))
	cs, err := x.ClusterOf(SeedMessage("d@x"), KindSimilarity)
	require.NoError(t, err)
	assert.Equal(t, []string{"d@x", "e@x"}, ids(cs))
	assert.Equal(t, KeySubjectDomain, cs.Members[1].Link.Key.Kind)
}

func TestBenignSuppression(t *testing.T) {
	const footer = "https://cdn.shared.example/logo"
	x := New(&Options{BenignDomains: 3})
	x.Add(msg{id: "p1", from: "evil.example", urls: []string{footer}}.ind(t))
	x.Add(msg{id: "h1", from: "bank.example", urls: []string{footer}}.ind(t))
	c, err := x.ClusterOf(SeedMessage("p1"), KindURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"h1", "p1"}, ids(c), "two domains: not yet benign")

	x.Add(msg{id: "h2", from: "shop.example", urls: []string{footer}}.ind(t))
	c, err = x.ClusterOf(SeedMessage("p1"), KindURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"p1"}, ids(c), "three domains: the link is benign and the earlier join is undone")
	assert.Empty(t, x.Clusters(KindURL))

	// Asking for the cluster of the link itself still finds its carriers.
	seed, err := SeedURL(footer)
	require.NoError(t, err)
	c, err = x.ClusterOf(seed, KindURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"h1", "h2", "p1"}, ids(c))

	// A malicious verdict makes it join again.
	k, err := URLKey(footer)
	require.NoError(t, err)
	x.MarkMalicious(k)
	c, err = x.ClusterOf(SeedMessage("p1"), KindURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"h1", "h2", "p1"}, ids(c))
}

func TestMarkMaliciousBeforeSeen(t *testing.T) {
	x := New(&Options{BenignDomains: 2})
	k := FileKey(strings.Repeat("ab", 32))
	x.MarkMalicious(k)
	_, err := x.ClusterOf(SeedKey(k), KindFile)
	require.ErrorIs(t, err, ErrUnknownSeed)
	for i, d := range []string{"a.example", "b.example", "c.example"} {
		x.Add(msg{id: fmt.Sprint("m", i), from: d, files: []File{{Name: "x.exe", MediaType: "application/octet-stream", SHA256: k.Value}}}.ind(t))
	}
	c, err := x.ClusterOf(SeedMessage("m2"), KindFile)
	require.NoError(t, err)
	assert.Equal(t, 3, c.Len(), "malicious keys are never suppressed")
}

func TestSimilarBodyNeedsSameSender(t *testing.T) {
	const fp = 0xDEADBEEFCAFEF00D
	x := New(nil)
	x.Add(msg{id: "a", from: "evil.example", body: fp}.ind(t))
	x.Add(msg{id: "b", from: "evil.example", body: fp ^ 0b101}.ind(t)) // Hamming 2, same domain
	x.Add(msg{id: "c", from: "other.example", body: fp}.ind(t))        // same body, other domain
	x.Add(msg{id: "d", from: "other.example", ip: "203.0.113.9", body: fp ^ 1}.ind(t))
	x.Add(msg{id: "e", from: "third.example", ip: "203.0.113.9", body: fp ^ 1<<40}.ind(t)) // same IP as d
	x.Add(msg{id: "f", from: "evil.example", body: fp ^ 0xF}.ind(t))                       // Hamming 4: too far

	c, err := x.ClusterOf(SeedMessage("a"), KindSimilarity)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, ids(c))
	assert.Equal(t, KeyBodyDomain, c.Members[1].Link.Key.Kind)
	assert.Equal(t, "evil.example", c.Members[1].Link.Key.Value)
	assert.Equal(t, 2, c.Members[1].Link.Distance)

	c, err = x.ClusterOf(SeedMessage("c"), KindSimilarity)
	require.NoError(t, err)
	assert.Equal(t, []string{"c", "d", "e"}, ids(c))
	assert.Contains(t, c.String(), "similar body (Hamming 2) and sender IP 203.0.113.9")
}

func TestCopiesMergeByMessageID(t *testing.T) {
	x := New(nil)
	m := msg{id: "<A@X>", from: "evil.example", urls: []string{"http://evil.example/a"}}
	assert.True(t, x.Add(m.ind(t), addr("alice@corp.example", 1)))
	assert.False(t, x.Add(m.ind(t), addr("bob@corp.example", 2), addr("alice@corp.example", 1)))
	assert.Equal(t, 1, x.Len())
	c, err := x.ClusterOf(SeedMessage("a@x"), KindCampaign)
	require.NoError(t, err)
	require.Equal(t, 1, c.Len())
	assert.Equal(t, []mailbox.Address{addr("alice@corp.example", 1), addr("bob@corp.example", 2)}, c.Members[0].Copies)
	assert.Equal(t, 2, c.CopyCount())
}

func TestClustersIncremental(t *testing.T) {
	x := New(nil)
	items := func(yield func(Item) bool) {
		for i := 0; i < 10; i++ {
			u := fmt.Sprintf("http://campaign%d.example/t/%d/open", i%3, i)
			if !yield(Item{Indicators: msg{id: fmt.Sprint("m", i), from: fmt.Sprintf("s%d.example", i%3), urls: []string{u}}.ind(t)}) {
				return
			}
		}
	}
	assert.Equal(t, 10, x.AddAll(items))
	cs := x.Clusters(KindURL)
	require.Len(t, cs, 3)
	assert.Equal(t, 4, cs[0].Len())
	assert.Equal(t, KeyURLTemplate, cs[0].Members[1].Link.Key.Kind)
	assert.Equal(t, "campaign0.example/t/{num}/open", cs[0].Members[1].Link.Key.Value)

	// A message arriving later joins the existing cluster.
	x.Add(msg{id: "late", from: "s1.example", urls: []string{"http://campaign1.example/t/777/open"}}.ind(t))
	c, err := x.ClusterOf(SeedMessage("m1"), KindURL)
	require.NoError(t, err)
	assert.Contains(t, ids(c), "late")
	assert.Equal(t, 4, c.Len())
}

func TestClusterOfErrors(t *testing.T) {
	x := New(nil)
	x.Add(msg{id: "a", from: "d.example"}.ind(t))
	_, err := x.ClusterOf(SeedMessage("nope"), KindCampaign)
	assert.ErrorIs(t, err, ErrUnknownSeed)
	_, err = x.ClusterOf(SeedFile(strings.Repeat("0", 64)), KindFile)
	assert.ErrorIs(t, err, ErrUnknownSeed)
	_, err = x.ClusterOf(Seed{}, KindFile)
	assert.ErrorIs(t, err, ErrBadSeed)
	_, err = SeedURL("mailto:a@b.example")
	assert.ErrorIs(t, err, ErrBadSeed)
	c, err := x.ClusterOf(SeedMessage("a"), KindCampaign)
	require.NoError(t, err)
	assert.Equal(t, 1, c.Len())
	crit := c.Criteria()
	assert.NoError(t, crit.Validate())
}

func TestNoMessageIDStillAddressable(t *testing.T) {
	x := New(nil)
	x.Add(msg{from: "evil.example", urls: []string{"http://phish.example/x/123/y"}}.ind(t), addr("a@corp.example", 3))
	x.Add(msg{from: "evil2.example", urls: []string{"http://phish.example/x/123/y"}}.ind(t), addr("b@corp.example", 4))
	assert.Equal(t, 2, x.Len())
	cs := x.Clusters(KindURL)
	require.Len(t, cs, 1)
	crit := cs[0].Criteria()
	assert.ErrorIs(t, crit.Validate(), mailbox.ErrEmptyCriteria)
	assert.Len(t, cs[0].Addresses(), 2)
}

func TestNormalizeSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"RE: Invoice #4411 due", "invoice #0 due"},
		{"Fwd: FW:  invoice #98   due", "invoice #0 due"},
		{"ENC: RES: Fatura 2023", "fatura 0"},
		{"Hello", "hello"},
		{"  ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, NormalizeSubject(tc.in))
		})
	}
}

func TestSenderIP(t *testing.T) {
	tests := []struct {
		name     string
		received []string
		want     string
	}{
		{"postfix", []string{"from mail.evil.example (mail.evil.example [198.51.100.7]) by mx.corp.example (Postfix) with ESMTPS id 1; Mon, 1 Jan 2024 00:00:00 +0000"}, "198.51.100.7"},
		{"skips internal relay", []string{
			"from relay.corp.example ([10.0.0.5]) by mx2.corp.example; Mon, 1 Jan 2024",
			"from sender.example (unknown [203.0.113.50]) by relay.corp.example; Mon, 1 Jan 2024",
		}, "203.0.113.50"},
		{"ipv6 literal", []string{"from h ([IPv6:2001:db8::25]) by mx"}, "2001:db8::25"},
		{"ipv6 unique local skipped", []string{"from h ([IPv6:fd00::25]) by mx"}, ""},
		{"public ipv6", []string{"from h ([IPv6:2a00:1450:4864:20::32b]) by mx"}, "2a00:1450:4864:20::32b"},
		{"parenthesised", []string{"from host (HELO x) (198.51.100.9) by mx"}, "198.51.100.9"},
		{"loopback only", []string{"from localhost (localhost [127.0.0.1]) by mx"}, ""},
		{"no from", []string{"by mx.corp.example with LMTP id 5"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SenderIP(tc.received)
			if tc.want == "" {
				assert.False(t, got.IsValid(), got.String())
			} else {
				assert.Equal(t, tc.want, got.String())
			}
		})
	}
}

func TestBodyFingerprint(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	base := string(document(r, 3000))
	html := "<html><body><table><tr><td><p>" + strings.ReplaceAll(base, ".\n", ".</p><p>") + "</p></td></tr></table><script>var x='ignored words here';</script></body></html>"
	fp := BodyFingerprint("", html)
	require.NotZero(t, fp)
	edited := strings.Replace(html, "invoice", "INVOICE", 1)
	assert.LessOrEqual(t, Hamming(fp, BodyFingerprint("", edited)), 3, "case and a word do not matter")
	small := strings.Replace(html, "payment", "remittance", 2)
	assert.LessOrEqual(t, Hamming(fp, BodyFingerprint("", small)), 6)
	other := string(document(rand.New(rand.NewPCG(8, 8)), 3000))
	assert.Greater(t, Hamming(fp, BodyFingerprint(other, "")), 10)
	assert.Zero(t, BodyFingerprint("too short", ""))
	assert.Equal(t, BodyFingerprint("", "<p>"+base+"</p><script>a b c d e f g h</script>"), BodyFingerprint("", "<p>"+base+"</p><script>other script</script>"), "script content is not text")
}

// testLogger routes logs to t.Log while the test runs.
func testLogger(t testing.TB) *slog.Logger { return testlog.Logger(t, slog.LevelDebug) }

func TestConcurrentUse(t *testing.T) {
	x := New(&Options{BenignDomains: 5})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				m := msg{id: fmt.Sprintf("g%d-%d", g, i), from: fmt.Sprintf("s%d.example", i%7), urls: []string{fmt.Sprintf("http://c%d.example/x/%d/y", i%5, i)}}
				x.Add(m.ind(t))
				if i%50 == 0 {
					_ = x.Clusters(KindURL)
					_, _ = x.ClusterOf(SeedMessage(fmt.Sprintf("g%d-0", g)), KindCampaign)
					x.MarkMalicious(FileKey(strings.Repeat("1", 64)))
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 800, x.Len())
	total := 0
	for _, c := range x.Clusters(KindURL) {
		total += c.Len()
	}
	assert.Equal(t, 800, total, "each URL is in four messages, one per goroutine")
}
