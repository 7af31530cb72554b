package cluster

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// synth generates indicator records with the skew of real mail: a few
// popular sender domains and IPs send most mail, every message carries
// some shared benign links (social footers, unsubscribe pages, CDNs),
// newsletters reuse per-sender URL templates, and 30% of the mail belongs
// to campaigns whose sizes follow a Zipf law, with per-recipient link
// tokens, subject variants, near-identical bodies, and attachments that
// are identical or similar but not identical.
type synth struct {
	r         *rand.Rand
	domains   *rand.Zipf
	ips       *rand.Zipf
	benign    *rand.Zipf
	campaigns []campaign
	pick      *rand.Zipf
	n         int
}

type campaign struct {
	domains []string
	ip      netip.Addr
	host    string
	subject string
	body    uint64
	file    [35]byte
	media   string
	sha     string
}

const (
	synthDomains   = 200_000
	synthIPs       = 100_000
	synthBenign    = 2_000
	synthCampaigns = 20_000
)

func newSynth(seed uint64) *synth {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	s := &synth{
		r:       r,
		domains: rand.NewZipf(r, 1.1, 10, synthDomains-1),
		ips:     rand.NewZipf(r, 1.1, 10, synthIPs-1),
		benign:  rand.NewZipf(r, 1.2, 5, synthBenign-1),
		pick:    rand.NewZipf(r, 1.15, 4, synthCampaigns-1),
	}
	media := []string{"application/pdf", "application/zip", "text/html", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
	for i := 0; i < synthCampaigns; i++ {
		c := campaign{
			ip:      netip.AddrFrom4([4]byte{byte(11 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))}),
			host:    fmt.Sprintf("login-%d.bad%d.example", i, i%97),
			subject: fmt.Sprintf("Action required: invoice %d for account %d overdue", r.IntN(1e6), i),
			body:    r.Uint64(),
			media:   media[r.IntN(len(media))],
			sha:     fmt.Sprintf("%064x", r.Uint64()),
		}
		for j := range c.file {
			c.file[j] = byte(r.Uint32())
		}
		// Phishing spoofs or rotates sender domains.
		for j := 0; j < 1+r.IntN(12); j++ {
			c.domains = append(c.domains, fmt.Sprintf("sender%d-%d.example", i, j))
		}
		s.campaigns = append(s.campaigns, c)
	}
	return s
}

// subjectWords are the words of ordinary subjects.
var subjectWords = strings.Fields(`meeting notes agenda project update weekly monthly report review draft final
	budget plan team lunch friday monday office schedule change request approval invoice order shipping delivery
	newsletter offer sale discount member account welcome reminder event invitation webinar survey feedback results
	quarter summary minutes action items release notes version build test failure success alert status ticket
	support question answer help thanks hello greetings photos trip holiday birthday party dinner weekend news`)

func tlshString(b [35]byte) string { return "T1" + strings.ToUpper(hex.EncodeToString(b[:])) }

// next returns the indicators of the next message.
func (s *synth) next() *Indicators {
	r := s.r
	s.n++
	ind := &Indicators{MessageID: fmt.Sprintf("%d.%x@mta.example", s.n, r.Uint32())}
	// Benign footer links in almost every message.
	for j := 0; j < 1+r.IntN(3); j++ {
		k := s.benign.Uint64()
		ind.URLs = append(ind.URLs, URL{Canonical: fmt.Sprintf("https://cdn%d.social.example/f/%d", k%50, k)})
	}
	if r.IntN(10) < 3 {
		s.campaignMessage(ind)
		return ind
	}
	d := s.domains.Uint64()
	dom := fmt.Sprintf("d%d.example", d)
	ind.FromDomain, ind.EnvelopeDomain = dom, dom
	if d%10 < 7 {
		// The domain's own server.
		ind.SenderIP = netip.AddrFrom4([4]byte{byte(1 + d%200), byte(d >> 8), byte(d), 25})
	} else {
		// A mail provider's shared relays.
		ip := s.ips.Uint64() % 2000
		ind.SenderIP = netip.AddrFrom4([4]byte{203, 0, byte(ip >> 8), byte(ip)})
	}
	ind.Subject = subjectWords[r.IntN(len(subjectWords))] + " " + subjectWords[r.IntN(len(subjectWords))] + " " +
		subjectWords[r.IntN(len(subjectWords))] + " " + subjectWords[r.IntN(len(subjectWords))]
	ind.Body = r.Uint64()
	// A newsletter link with a per-recipient token: the sender's template.
	tok := r.Uint64()
	ind.URLs = append(ind.URLs, URL{
		Canonical: fmt.Sprintf("https://news.%s/c/%d/%x", dom, tok%1e9, tok),
		Template:  "news." + dom + "/c/{num}/{hex}",
	})
	if r.IntN(10) == 0 {
		var b [35]byte
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		ind.Files = append(ind.Files, File{Name: "report.pdf", MediaType: "application/pdf", SHA256: fmt.Sprintf("%016x%016x%032x", r.Uint64(), r.Uint64(), 0), TLSH: tlshString(b)})
	}
	return ind
}

// copies returns the addresses of a message's copies: one mailbox of a
// 50,000-mailbox tenant, and for one message in five two to four more.
func (s *synth) copies(uid uint32) []mailbox.Address {
	n := 1
	if s.r.IntN(5) == 0 {
		n += 1 + s.r.IntN(3)
	}
	out := make([]mailbox.Address, n)
	for i := range out {
		out[i] = mailbox.Address{Mailbox: fmt.Sprintf("user%d@corp.example", s.r.IntN(50_000)), Folder: "INBOX", UIDValidity: 1, UID: uid}
	}
	return out
}

func (s *synth) campaignMessage(ind *Indicators) {
	r := s.r
	c := &s.campaigns[s.pick.Uint64()]
	dom := c.domains[r.IntN(len(c.domains))]
	ind.FromDomain, ind.EnvelopeDomain = dom, dom
	ind.SenderIP = c.ip
	ind.Subject = strings.Replace(c.subject, "invoice", []string{"invoice", "Invoice", "INVOICE"}[r.IntN(3)], 1)
	ind.Body = c.body ^ 1<<r.IntN(64) ^ 1<<r.IntN(64)
	tok := r.Uint64()
	ind.URLs = append(ind.URLs, URL{
		Canonical: fmt.Sprintf("https://%s/verify/%x", c.host, tok),
		Template:  c.host + "/verify/{hex}",
	})
	if r.IntN(2) == 0 {
		f := File{Name: "invoice.pdf", MediaType: c.media, SHA256: c.sha, TLSH: tlshString(c.file)}
		if r.IntN(2) == 0 {
			// A variant: a few buckets differ.
			b := c.file
			for j := 0; j < 1+r.IntN(6); j++ {
				b[3+r.IntN(32)] ^= byte(1 << r.IntN(8))
			}
			f.SHA256 = fmt.Sprintf("%016x%048x", r.Uint64(), 1)
			f.TLSH = tlshString(b)
		}
		ind.Files = append(ind.Files, f)
	}
}

// BenchmarkCluster adds a million synthetic messages to an index and
// reads all campaign clusters. It reports messages per second, the wall
// and CPU seconds of the run, the peak heap in use per message (sampled
// every 10,000 messages, so it includes garbage not yet collected), and
// the live heap per message after a collection. Set
// ERADICATE_CLUSTER_BENCH_N for a smaller run.
func BenchmarkCluster(b *testing.B) {
	total := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("ERADICATE_CLUSTER_BENCH_N")); err == nil && v > 0 {
		total = v // a smaller run for profiling
	}
	const chunk = 10_000
	var peak, live uint64
	var elapsed, cpu time.Duration
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		gen := newSynth(uint64(it + 1))
		batch := make([]*Indicators, chunk)
		copies := make([][]mailbox.Address, chunk)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		x := New(&Options{SizeHint: total})
		for done := 0; done < total; done += chunk {
			for i := range batch {
				batch[i] = gen.next()
				copies[i] = gen.copies(uint32(done + i + 1))
			}
			b.StartTimer()
			start, startCPU := time.Now(), cpuTime()
			for i, ind := range batch {
				x.Add(ind, copies[i]...)
			}
			elapsed += time.Since(start)
			cpu += cpuTime() - startCPU
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse-base > peak && ms.HeapInuse > base {
				peak = ms.HeapInuse - base
			}
		}
		clear(batch)
		clear(copies)
		b.StartTimer()
		start, startCPU := time.Now(), cpuTime()
		cs := x.Clusters(KindCampaign)
		elapsed += time.Since(start)
		cpu += cpuTime() - startCPU
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse-base > peak && ms.HeapInuse > base {
			peak = ms.HeapInuse - base
		}
		if len(cs) == 0 {
			b.Fatal("no clusters")
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live = ms.HeapAlloc - min(ms.HeapAlloc, base)
		b.Logf("%d messages, %d campaign clusters, largest %d, %d keys, %d LSH buckets, %d similarity links", x.Len(), len(cs), cs[0].Len(), x.keys.len(), x.bands.len(), len(x.edges))
		runtime.KeepAlive(x)
		runtime.KeepAlive(cs)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)*float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(peak)/float64(total), "peak-B/msg")
	b.ReportMetric(float64(live)/float64(total), "live-B/msg")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/run")
	// CPU seconds of the process (all threads, GC included) during the
	// timed parts: what the run costs on a machine shared with other work.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/run")
}

// htmlMessage returns a raw HTML message of about size bytes with links,
// a table layout and a little CSS, as marketing and phishing mail looks.
func htmlMessage(r *rand.Rand, size int) []byte {
	words := strings.Fields("your account has been temporarily limited please verify the information below to restore access " +
		"we noticed unusual sign in activity from a new device click here to review recent activity and secure your account " +
		"thank you for being a valued customer our team is available around the clock if you have any questions")
	var body strings.Builder
	body.WriteString("<html><head><style>td{font-family:Arial}</style></head><body><table width=\"600\">")
	for body.Len() < size-200 {
		body.WriteString("<tr><td><p>")
		for j := 0; j < 25; j++ {
			body.WriteString(words[r.IntN(len(words))])
			body.WriteByte(' ')
		}
		fmt.Fprintf(&body, "<a href=\"https://nam02.safelinks.protection.outlook.com/?url=https%%3A%%2F%%2Fsecure-%d.example%%2Flogin%%2F%d&data=x\">Review</a>", r.IntN(5), r.IntN(1e6))
		body.WriteString("</p></td></tr>\n")
	}
	body.WriteString("</table></body></html>")
	var b strings.Builder
	fmt.Fprintf(&b, "Return-Path: <bounce@mailer.example>\r\nReceived: from mailer.example (mailer.example [198.51.100.%d]) by mx.corp.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n", r.IntN(250))
	fmt.Fprintf(&b, "From: Security <security@service.example>\r\nTo: alice@corp.example\r\nSubject: Unusual activity %d\r\nMessage-ID: <%d@mailer.example>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n", r.IntN(100), r.Uint64())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(body.String())
	return []byte(b.String())
}

// BenchmarkExtract measures parsing and indicator extraction of 20 KB
// HTML messages on one goroutine ("parse+extract"), and extraction alone
// from messages parsed beforehand ("extract"). Each message has about 65
// links, each wrapped by Safe Links.
func BenchmarkExtract(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	msgs := make([][]byte, 16)
	parsed := make([]*mailbox.Parsed, len(msgs))
	for i := range msgs {
		msgs[i] = htmlMessage(r, 20<<10)
		p, err := mailbox.Parse(msgs[i])
		if err != nil {
			b.Fatal(err)
		}
		parsed[i] = p
	}
	run := func(b *testing.B, parse bool) {
		b.SetBytes(int64(len(msgs[0])))
		b.ResetTimer()
		start, startCPU := time.Now(), cpuTime()
		urls := 0
		for i := 0; i < b.N; i++ {
			p := parsed[i%len(parsed)]
			if parse {
				var err error
				if p, err = mailbox.Parse(msgs[i%len(msgs)]); err != nil {
					b.Fatal(err)
				}
			}
			urls += len(Extract(p).URLs)
		}
		el, cpu := time.Since(start), cpuTime()-startCPU
		if urls == 0 {
			b.Fatal("no URLs extracted")
		}
		b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
		if cpu > 0 {
			// Messages per CPU-second of the process (GC included): the
			// per-core rate, whatever else runs on the machine.
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "msgs/cpu-s")
		}
	}
	b.Run("parse+extract", func(b *testing.B) { run(b, true) })
	b.Run("extract", func(b *testing.B) { run(b, false) })
}
