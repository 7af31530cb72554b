package imapstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// huntURL and huntPayload are what the hunts look for: one message with
// the URL and one with the attachment are planted in every INBOX.
const huntURL = "https://evil-hunt.example/login/verify?session=7f3a"

var huntPayload = []byte(strings.Repeat("MZ\x90\x00evil payload of the hunt benchmark\n", 64))

// BenchmarkDovecotHunt measures hunts that the server cannot narrow, on a
// real Dovecot: 100 mailboxes of 2,000 messages (INBOX, Sent, Junk,
// Trash; ordinary mail with links, one in ten with HTML, one in twenty
// with a small attached file), with one message carrying the hunted URL
// and one the hunted attachment planted in each INBOX. Each iteration
// measures, all in the same run:
//
//	url_s:       a URL hunt through the store, 8 mailboxes searched at once;
//	ref_fetch_s: its reference, 8 mailboxes at once: per folder one
//	             UID FETCH 1:* (BODY.PEEK[]) with a plain client, every
//	             message parsed with mailbox.Parse and matched the same way;
//	att_s:       an attachment SHA-256 hunt through the store, 8 at once;
//	ref_doveadm_s: its reference, reading every message with
//	             doveadm fetch -A text mailbox '*' all (output discarded);
//	dryrun_url_s, dryrun_att_s: Engine.DryRun of the same two hunts
//	             with 8 workers.
//
// ns/op is the whole iteration. Reported: the seconds above; beside
// each, <name>_cpu_s, the CPU time it took, this process and Dovecot's
// processes (or doveadm) together; url_msgs/s and att_msgs/s (messages of
// the mailboxes over the hunt's time; target >= 25,000 on 2 cores), and
// url_msgs/2cpu_s and att_msgs/2cpu_s, the same from the CPU time as if
// two cores were the hunt's alone (the figure to read on a shared
// machine); url_vs_ref (url_s / ref_fetch_s) and att_vs_doveadm (att_s /
// ref_doveadm_s). The setup (Maildir files written
// directly, doveadm force-resync) and one untimed round of every method
// come first, so that every measurement sees a warm server.
//
// Run: go test -run '^$' -bench '^BenchmarkDovecotHunt$' -benchtime 1x ./mailbox/imapstore
// Smaller data: ERADICATE_BENCH_MAILBOXES, ERADICATE_BENCH_MESSAGES.
func BenchmarkDovecotHunt(b *testing.B) {
	nMailboxes := envInt(b, "ERADICATE_BENCH_MAILBOXES", 100)
	nMessages := envInt(b, "ERADICATE_BENCH_MESSAGES", 2000)
	srv, owners := huntFixture(b, nMailboxes, nMessages)
	total := nMailboxes * (nMessages + 2)
	ctx := context.Background()

	store := benchStore(b, srv, owners, nil)
	e, err := remediation.New(store, nil, journal.NewMemory(), &remediation.Options{Workers: 8})
	require.NoError(b, err)

	sum := sha256.Sum256(huntPayload)
	byURL := mailbox.Criteria{URLs: []string{huntURL}}
	byHash := mailbox.Criteria{AttachmentSHA256: []string{hex.EncodeToString(sum[:])}}
	// Each method returns its wall time and the CPU time it took, this
	// process and Dovecot (or doveadm) together: on a shared machine the
	// CPU time tells what the wall time cannot.
	measure := func(f func() time.Duration) (wall, cpu time.Duration) {
		self0, dc0 := srv.CPUUsed()
		start := time.Now()
		extra := f()
		wall = time.Since(start)
		self1, dc1 := srv.CPUUsed()
		return wall, self1 - self0 + dc1 - dc0 + extra
	}
	hunt := func(c mailbox.Criteria) (time.Duration, time.Duration) {
		return measure(func() time.Duration {
			n := parallelOwners(b, owners, func(o string) int {
				k := 0
				for _, err := range store.Search(ctx, o, c) {
					require.NoError(b, err)
					k++
				}
				return k
			})
			require.Equal(b, nMailboxes, n, "one planted copy per mailbox")
			return 0
		})
	}
	dryRun := func(c mailbox.Criteria) (time.Duration, time.Duration) {
		return measure(func() time.Duration {
			p, err := e.DryRun(ctx, remediation.Selection{Criteria: &c})
			require.NoError(b, err)
			require.EqualValues(b, nMailboxes, p.Total)
			return 0
		})
	}
	refFetch := func() (time.Duration, time.Duration) {
		return measure(func() time.Duration {
			n := parallelOwners(b, owners, func(o string) int { return fetchAllAndMatch(b, srv, o, &byURL) })
			require.Equal(b, nMailboxes, n)
			return 0
		})
	}
	refDoveadm := func() (time.Duration, time.Duration) {
		return measure(func() time.Duration {
			n, cpu := doveadmFetchText(b, srv)
			require.Greater(b, n, int64(total)*500, "doveadm read every message")
			return cpu
		})
	}
	// Warm-up: one untimed round of every method.
	hunt(byURL)
	refFetch()
	hunt(byHash)
	refDoveadm()
	dryRun(byURL)

	type sums struct{ wall, cpu time.Duration }
	var url, ref, att, dov, dryURL, dryAtt sums
	add := func(s *sums, wall, cpu time.Duration) {
		s.wall += wall
		s.cpu += cpu
	}
	b.ResetTimer()
	for range b.N {
		w, c := hunt(byURL)
		add(&url, w, c)
		w, c = refFetch()
		add(&ref, w, c)
		w, c = hunt(byHash)
		add(&att, w, c)
		w, c = refDoveadm()
		add(&dov, w, c)
		w, c = dryRun(byURL)
		add(&dryURL, w, c)
		w, c = dryRun(byHash)
		add(&dryAtt, w, c)
	}
	b.StopTimer()
	n := float64(b.N)
	for _, m := range []struct {
		name string
		s    sums
	}{{"url", url}, {"ref_fetch", ref}, {"att", att}, {"ref_doveadm", dov}, {"dryrun_url", dryURL}, {"dryrun_att", dryAtt}} {
		b.ReportMetric(m.s.wall.Seconds()/n, m.name+"_s")
		b.ReportMetric(m.s.cpu.Seconds()/n, m.name+"_cpu_s")
	}
	b.ReportMetric(float64(total)/(url.wall.Seconds()/n), "url_msgs/s")
	b.ReportMetric(float64(total)/(att.wall.Seconds()/n), "att_msgs/s")
	b.ReportMetric(float64(total)/(ref.wall.Seconds()/n), "ref_fetch_msgs/s")
	// Messages per second on 2 cores, from the CPU time: what the hunt
	// would do with the machine's two cores to itself.
	b.ReportMetric(2*float64(total)/(url.cpu.Seconds()/n), "url_msgs/2cpu_s")
	b.ReportMetric(2*float64(total)/(att.cpu.Seconds()/n), "att_msgs/2cpu_s")
	b.ReportMetric(url.wall.Seconds()/ref.wall.Seconds(), "url_vs_ref")
	b.ReportMetric(att.wall.Seconds()/dov.wall.Seconds(), "att_vs_doveadm")
}

// BenchmarkDovecotHuntMemory hunts a URL in one folder of 20,000 messages
// of about 1 MB each (a 1 MB attached file, base64), on a real Dovecot,
// and reports the peak of the Go heap during the hunt (peak_heap_MB,
// sampled every 5 ms) and the process's peak resident set (peak_rss_MB,
// VmHWM; Linux only, and only meaningful when the benchmark runs alone),
// beside the folder's size (folder_MB). The messages are hard links of
// one file, so the fixture takes 1 MB of disk; Dovecot reads each one.
//
// Run: go test -run '^$' -bench '^BenchmarkDovecotHuntMemory$' -benchtime 1x ./mailbox/imapstore
// Fewer messages: ERADICATE_BENCH_MESSAGES.
func BenchmarkDovecotHuntMemory(b *testing.B) {
	nMessages := envInt(b, "ERADICATE_BENCH_MESSAGES", 20000)
	const owner = "big@example.test"
	srv := dovecot.Start(b, &dovecot.Options{Users: map[string]string{owner: "pw-big"}})
	content := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	raw := attachmentMessage(owner, "big-0@corp.example", "Quarterly figures", "See the attached figures.\r\n", "figures.bin", content)
	require.NoError(b, srv.WriteMaildir(owner, "INBOX", [][]byte{raw}))
	dir := srv.MaildirFolder(owner, "INBOX")
	first, err := filepath.Glob(filepath.Join(dir, "new", "*"))
	require.NoError(b, err)
	require.Len(b, first, 1)
	for i := 1; i < nMessages; i++ {
		require.NoError(b, os.Link(first[0], filepath.Join(dir, "new", fmt.Sprintf("%d.M%dP1.bench", time.Now().Unix(), i))))
	}
	doveadm(b, srv, "force-resync", "-u", owner, "*")

	store := benchStore(b, srv, []string{owner}, nil)

	var peak atomic.Uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		n := 0
		for _, err := range store.Search(context.Background(), owner, mailbox.Criteria{URLs: []string{huntURL}}) {
			require.NoError(b, err)
			n++
		}
		close(stop)
		wg.Wait()
		require.Zero(b, n)
	}
	b.StopTimer()
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(nMessages)*float64(len(raw))/(1<<20), "folder_MB")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MB")
	}
}

// peakRSS returns the process's peak resident set in bytes (VmHWM), or 0
// when /proc does not tell.
func peakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// huntFixture starts a Dovecot with nMailboxes mailboxes of nMessages
// ordinary messages each, plus the planted URL and attachment in every
// INBOX, indexed by Dovecot.
func huntFixture(b *testing.B, nMailboxes, nMessages int) (*dovecot.Server, []string) {
	return benchMailboxes(b, "hunt", nMailboxes, nMessages, 5, huntMessage, func(o string) [][]byte {
		return [][]byte{
			htmlMessage(o, "planted-url."+o, "Your account", `<p>Please <a href="`+huntURL+`">verify your account</a>.</p>`),
			attachmentMessage(o, "planted-att."+o, "Invoice", "Invoice attached.\r\n", "invoice.exe", huntPayload),
		}
	})
}

// huntMessage is one ordinary message with links: text with one or two
// URLs; one in ten multipart/alternative with HTML links; one in twenty
// with a small attached file.
func huntMessage(rng *rand.Rand, owner string, k int) []byte {
	w := func() string { return benchWords[rng.IntN(len(benchWords))] }
	var text strings.Builder
	for range 8 + rng.IntN(16) {
		text.WriteString(w() + " " + w() + " " + w() + " " + w() + " " + w() + " " + w() + " " + w() + "\r\n")
	}
	fmt.Fprintf(&text, "See https://intranet.corp.example/wiki/%s/%d\r\n", w(), k)
	if k%3 == 0 {
		fmt.Fprintf(&text, "Tracking: https://www.partner.example/track?id=%08x\r\n", rng.Uint32())
	}
	id := fmt.Sprintf("%08x.%d.%s", rng.Uint32(), k, owner)
	subject := w() + " " + w() + " " + strconv.Itoa(k)
	switch {
	case k%20 == 7:
		file := make([]byte, 2048+rng.IntN(4096))
		for i := range file {
			file[i] = byte(rng.Uint32())
		}
		return attachmentMessage(owner, id, subject, text.String(), "report-"+strconv.Itoa(k)+".pdf", file)
	case k%10 == 3:
		return htmlMessage(owner, id, subject, "<p>"+strings.ReplaceAll(text.String(), "\r\n", "<br>\r\n")+
			`</p><p><a href="https://intranet.corp.example/news/`+strconv.Itoa(k)+`">News</a></p>`)
	}
	return []byte(huntHeader(owner, id, subject, k) + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.String())
}

func huntHeader(owner, id, subject string, k int) string {
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(k) * 37 * time.Minute)
	return fmt.Sprintf("Return-Path: <s%d@corp.example>\r\nFrom: Colleague %d <s%d@corp.example>\r\nTo: %s\r\n"+
		"Subject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
		k%50, k%50, k%50, owner, subject, date.Format(time.RFC1123Z), id)
}

func htmlMessage(owner, id, subject, html string) []byte {
	return []byte(huntHeader(owner, id, subject, 1) + "Content-Type: multipart/alternative; boundary=\"alt-b\"\r\n\r\n" +
		"--alt-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis message is HTML.\r\n" +
		"--alt-b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>" + html + "</body></html>\r\n--alt-b--\r\n")
}

func attachmentMessage(owner, id, subject, text, name string, file []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(file)
	var body strings.Builder
	for len(enc) > 76 {
		body.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	body.WriteString(enc + "\r\n")
	return []byte(huntHeader(owner, id, subject, 2) + "Content-Type: multipart/mixed; boundary=\"mix-b\"\r\n\r\n" +
		"--mix-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text +
		"--mix-b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + body.String() + "--mix-b--\r\n")
}

// parallelOwners runs f for every owner, 8 at a time, and returns the sum
// of its results.
func parallelOwners(b *testing.B, owners []string, f func(owner string) int) int {
	var next, total atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(owners) {
					return
				}
				total.Add(int64(f(owners[i])))
			}
		}()
	}
	wg.Wait()
	return int(total.Load())
}

// fetchAllAndMatch is the reference scan of one mailbox: a plain client
// reads every folder with one UID FETCH 1:* (BODY.PEEK[]), parses each
// message with mailbox.Parse and matches it; it returns the matches.
func fetchAllAndMatch(b *testing.B, srv *dovecot.Server, owner string, c *mailbox.Criteria) int {
	cl := client(b, srv.Addr, srv.MasterLogin(owner), srv.MasterPassword)
	defer cl.Close()
	list, err := cl.List("", "*", nil).Collect()
	require.NoError(b, err)
	section := &imap.FetchItemBodySection{Peek: true}
	n := 0
	for _, l := range list {
		sel, err := cl.Select(l.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		require.NoError(b, err)
		if sel.NumMessages == 0 {
			continue
		}
		cmd := cl.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			buf, err := msg.Collect()
			require.NoError(b, err)
			p, _ := mailbox.Parse(buf.FindBodySection(section))
			m := p.Summary()
			m.Address = mailbox.Address{Mailbox: owner, Folder: l.Mailbox, UID: uint32(buf.UID)}
			ok, err := c.Match(&m, func() (*mailbox.Parsed, error) { return p, nil })
			require.NoError(b, err)
			if ok {
				n++
			}
		}
		require.NoError(b, cmd.Close())
	}
	require.NoError(b, cl.Logout().Wait())
	return n
}

// doveadmFetchText reads every message of every mailbox with doveadm
// fetch text, discarding the output, and returns the bytes it wrote and
// the CPU time it used.
func doveadmFetchText(b *testing.B, srv *dovecot.Server) (int64, time.Duration) {
	var cw countingWriter
	cpu := doveadmCPU(b, srv, &cw, "fetch", "-A", "text", "mailbox", "*", "all")
	return cw.n, cpu
}

// doveadmCPU runs doveadm with srv's configuration, its output to out,
// and returns the CPU time it used.
func doveadmCPU(b *testing.B, srv *dovecot.Server, out io.Writer, args ...string) time.Duration {
	bin, err := exec.LookPath("doveadm")
	if err != nil {
		bin = "/usr/bin/doveadm"
	}
	cmd := exec.Command(bin, append([]string{"-c", srv.Config}, args...)...)
	cmd.Dir = srv.Dir
	cmd.Stdout = out
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(b, cmd.Run(), stderr.String())
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
