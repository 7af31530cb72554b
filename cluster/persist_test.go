package cluster

import (
	"context"
	"errors"
	"iter"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// memLog is a Log in memory; fail, when set, is returned by every append.
type memLog struct {
	mu      sync.Mutex
	entries [][]byte
	fail    error
}

func (l *memLog) AppendClusterEntries(ctx context.Context, es [][]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	for _, e := range es {
		l.entries = append(l.entries, slices.Clone(e))
	}
	return nil
}

func (l *memLog) ClusterEntries(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		l.mu.Lock()
		es := slices.Clone(l.entries)
		l.mu.Unlock()
		for _, e := range es {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// failingLog yields one entry, then fails.
type failingLog struct{}

func (failingLog) AppendClusterEntries(context.Context, [][]byte) error { return nil }

func (failingLog) ClusterEntries(context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if yield(encodeMessage(&Indicators{MessageID: "a@x"}, nil), nil) {
			yield(nil, errors.New("disk on fire"))
		}
	}
}

// richIndicators carries every field of Indicators.
func richIndicators() *Indicators {
	return &Indicators{
		MessageID: "rich@x.example", Subject: "Invoice 42 overdue", From: "billing@x.example",
		Date:       time.Date(2026, 12, 7, 9, 30, 1, 5, time.UTC),
		FromDomain: "x.example", EnvelopeDomain: "bounce.example",
		SenderIP: netip.MustParseAddr("2001:db8::25"),
		URLs: []URL{{Canonical: "https://evil.example/a/1", Host: "evil.example", Domain: "evil.example",
			HostPath: "evil.example/a/1", Template: "evil.example/a/{num}", Unwrapped: 2}},
		Files: []File{{Name: "a.pdf", MediaType: "application/pdf", Size: -1, SHA256: "ab", TLSH: "T1AB", Inline: true}},
		Body:  0xfeedface12345678,
	}
}

func TestLogEntryRoundTrip(t *testing.T) {
	ind := richIndicators()
	copies := []mailbox.Address{{Mailbox: "a@x", Folder: "INBOX", UIDValidity: 7, UID: 1<<32 - 1}, {}}
	e, err := decodeEntry(encodeMessage(ind, copies))
	require.NoError(t, err)
	require.NotNil(t, e.ind)
	assert.True(t, ind.Date.Equal(e.ind.Date))
	e.ind.Date = ind.Date
	assert.Equal(t, ind, e.ind)
	assert.Equal(t, copies[:1], e.copies, "zero addresses are not kept")

	e, err = decodeEntry(encodeMessage(&Indicators{}, nil))
	require.NoError(t, err)
	assert.Equal(t, &Indicators{}, e.ind)
}

func TestLogEntryErrors(t *testing.T) {
	good := encodeMessage(richIndicators(), []mailbox.Address{{Mailbox: "a@x", Folder: "INBOX", UID: 1}})
	for i := 0; i < len(good); i++ {
		_, err := decodeEntry(good[:i])
		assert.ErrorIs(t, err, ErrBadEntry, "truncated at %d", i)
	}
	_, err := decodeEntry(append(slices.Clone(good), 0))
	assert.ErrorContains(t, err, "1 bytes after the entry")
	newer := slices.Clone(good)
	newer[0] = 2
	_, err = decodeEntry(newer)
	assert.ErrorIs(t, err, ErrBadEntry)
	assert.ErrorContains(t, err, "format version 2")
	_, err = decodeEntry([]byte{entryVersion, 9})
	assert.ErrorContains(t, err, "unknown entry kind 9")
	_, err = decodeEntry([]byte{entryVersion, entryVerdict, byte(keyMessage), 0})
	assert.ErrorContains(t, err, "unknown key kind")
	// A count the entry cannot hold is refused before allocating.
	_, err = decodeEntry([]byte{entryVersion, entryCopies, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	assert.ErrorContains(t, err, "copy count larger than the entry")
}

// campaignMsgs is a campaign of n messages joined by one URL template,
// beside unrelated mail.
func campaignMsgs(t testing.TB, n int) []msg {
	var out []msg
	for i := range n {
		out = append(out, msg{id: "c" + strconv.Itoa(i) + "@evil.example", from: "evil.example", subject: "Reset your password now",
			urls: []string{"https://login.evil.example/reset/" + strconv.Itoa(1000+i) + "/go"}})
		out = append(out, msg{id: "h" + strconv.Itoa(i) + "@good.example", from: "good" + strconv.Itoa(i) + ".example",
			subject: "Lunch on day " + strconv.Itoa(i) + " with team " + strconv.Itoa(i*7)})
	}
	return out
}

func clusterIDs(t testing.TB, x *Index, seed string) []string {
	t.Helper()
	c, err := x.ClusterOf(SeedMessage(seed), KindCampaign)
	require.NoError(t, err)
	var ids []string
	for _, m := range c.Members {
		ids = append(ids, m.MessageID)
	}
	slices.Sort(ids)
	return ids
}

func TestOpenRebuildsTheIndex(t *testing.T) {
	ctx := t.Context()
	log := &memLog{}
	x, err := Open(ctx, log, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, x.Len())
	msgs := campaignMsgs(t, 6)
	for i, m := range msgs[:6] {
		x.Add(m.ind(t), mailbox.Address{Mailbox: "u" + strconv.Itoa(i), Folder: "INBOX", UIDValidity: 1, UID: 1})
	}
	// A second copy of a message already indexed, and a verdict.
	x.Add(&Indicators{MessageID: msgs[0].id}, mailbox.Address{Mailbox: "v", Folder: "INBOX", UIDValidity: 1, UID: 9})
	x.MarkMalicious(Key{Kind: KeyURL, Value: "https://benign.example/"})
	assert.Equal(t, 8, x.Pending())
	assert.Empty(t, log.entries, "nothing is written before Flush")
	require.NoError(t, x.Flush(ctx))
	assert.Equal(t, 0, x.Pending())
	assert.Len(t, log.entries, 8)

	// A restart: a new index from the log, then the rest of the mail.
	y, err := Open(ctx, log, nil)
	require.NoError(t, err)
	assert.Equal(t, x.Len(), y.Len())
	assert.Equal(t, clusterIDs(t, x, msgs[0].id), clusterIDs(t, y, msgs[0].id))
	c, err := y.ClusterOf(SeedMessage(msgs[0].id), KindCampaign)
	require.NoError(t, err)
	assert.Len(t, c.Members[0].Copies, 2, "the copy added after the message was replayed")
	for _, m := range msgs[6:] {
		x.Add(m.ind(t))
		y.Add(m.ind(t))
	}
	assert.Equal(t, clusterIDs(t, x, msgs[0].id), clusterIDs(t, y, msgs[0].id))
	assert.Len(t, clusterIDs(t, y, msgs[0].id), 6, "the campaign is one cluster across the restart")
	require.NoError(t, y.Flush(ctx))

	z, err := Open(ctx, log, nil)
	require.NoError(t, err)
	assert.Equal(t, len(msgs), z.Len())
	assert.Equal(t, clusterIDs(t, y, msgs[0].id), clusterIDs(t, z, msgs[0].id))
	assert.Len(t, z.Clusters(KindCampaign), len(y.Clusters(KindCampaign)))
}

func TestOpenVerdictSurvives(t *testing.T) {
	// A URL sent from many domains is benign and joins nothing, unless
	// marked malicious: the verdict must survive a restart.
	ctx := t.Context()
	log := &memLog{}
	x, err := Open(ctx, log, nil)
	require.NoError(t, err)
	for i := range 5 {
		x.Add(msg{id: strconv.Itoa(i) + "@x", from: "d" + strconv.Itoa(i) + ".example", urls: []string{"https://drop.example/f"}}.ind(t))
	}
	key := Key{Kind: KeyURL, Value: "https://drop.example/f"}
	c, err := x.ClusterOf(SeedKey(key), KindURL)
	require.NoError(t, err)
	require.Len(t, c.Members, 5, "a key seed is a verdict")
	assert.Len(t, clusterIDs(t, x, "0@x"), 1, "benign before the verdict")
	x.MarkMalicious(key)
	assert.Len(t, clusterIDs(t, x, "0@x"), 5)
	require.NoError(t, x.Flush(ctx))
	y, err := Open(ctx, log, nil)
	require.NoError(t, err)
	assert.Len(t, clusterIDs(t, y, "0@x"), 5)
}

func TestFlushKeepsEntriesOnFailure(t *testing.T) {
	ctx := t.Context()
	log := &memLog{}
	x, err := Open(ctx, log, nil)
	require.NoError(t, err)
	x.Add(msg{id: "a@x", subject: "one two"}.ind(t))
	log.fail = errors.New("disk full")
	err = x.Flush(ctx)
	require.ErrorContains(t, err, "disk full")
	x.Add(msg{id: "b@x", subject: "three four"}.ind(t))
	assert.Equal(t, 2, x.Pending())
	log.fail = nil
	require.NoError(t, x.Flush(ctx))
	require.Len(t, log.entries, 2)
	e, err := decodeEntry(log.entries[0])
	require.NoError(t, err)
	assert.Equal(t, "a@x", e.ind.MessageID, "order kept after a failed flush")

	// An index made by New has no log.
	n := New(nil)
	n.Add(msg{id: "c@x"}.ind(t))
	assert.NoError(t, n.Flush(ctx))
	assert.Equal(t, 0, n.Pending())
}

func TestOpenRefusesABadLog(t *testing.T) {
	ctx := t.Context()
	log := &memLog{entries: [][]byte{encodeMessage(&Indicators{MessageID: "a@x"}, nil), {entryVersion, entryMessage, 5}}}
	_, err := Open(ctx, log, nil)
	require.ErrorIs(t, err, ErrBadEntry)
	assert.ErrorContains(t, err, "log entry 2")
	// Past the first batches the position is still the entry's.
	log = &memLog{}
	for i := range 1500 {
		log.entries = append(log.entries, encodeMessage(&Indicators{MessageID: strconv.Itoa(i) + "@x"}, nil))
	}
	log.entries[1234] = []byte{entryVersion, entryVerdict}
	_, err = Open(ctx, log, nil)
	require.ErrorIs(t, err, ErrBadEntry)
	assert.ErrorContains(t, err, "log entry 1235:")
	// A failure of the log itself.
	_, err = Open(ctx, failingLog{}, nil)
	assert.ErrorContains(t, err, "cluster: read the log: disk on fire")

	_, err = Open(ctx, nil, nil)
	assert.Error(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Open(cctx, &memLog{}, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// FuzzLogEntry feeds arbitrary bytes to the log entry decoder: no panic,
// every failure is ErrBadEntry, and an entry that decodes encodes back to
// an entry that decodes to the same thing.
func FuzzLogEntry(f *testing.F) {
	f.Add(encodeMessage(richIndicators(), []mailbox.Address{{Mailbox: "a", Folder: "INBOX", UIDValidity: 1, UID: 2}}))
	f.Add([]byte{entryVersion, entryVerdict, byte(KeyURL), 3, 'a', 'b', 'c'})
	f.Add([]byte{entryVersion, entryCopies, 1, 'x', 1, 1, 'a', 1, 'b', 1, 2})
	f.Add([]byte{entryVersion})
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := decodeEntry(raw)
		if err != nil {
			if !errors.Is(err, ErrBadEntry) {
				t.Fatalf("error %v is not ErrBadEntry", err)
			}
			return
		}
		var again []byte
		switch {
		case e.verdict:
			again = append([]byte{entryVersion, entryVerdict, byte(e.key.Kind)}, appendString(nil, e.key.Value)...)
		case e.ind != nil:
			again = encodeMessage(e.ind, e.copies)
		default:
			again = appendCopies(appendString([]byte{entryVersion, entryCopies}, e.id), e.copies)
		}
		e2, err := decodeEntry(again)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if e.ind != nil {
			if !e.ind.Date.Equal(e2.ind.Date) {
				t.Fatalf("date %v != %v", e.ind.Date, e2.ind.Date)
			}
			e2.ind.Date = e.ind.Date
		}
		assert.Equal(t, e, e2)
		New(nil).apply(&e)
	})
}

// BenchmarkOpen measures a restart: a million synthetic messages (the
// mail of BenchmarkCluster) written to a log in memory, then read back
// into a new index by Open. It reports the seconds and CPU seconds of one
// Open, the log's bytes per message, and messages per second. Set
// ERADICATE_CLUSTER_BENCH_N for a smaller run. Reading the entries from
// the database is measured by BenchmarkClusterEntries in hunt/sqlstore.
func BenchmarkOpen(b *testing.B) {
	total := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("ERADICATE_CLUSTER_BENCH_N")); err == nil && v > 0 {
		total = v
	}
	ctx := context.Background()
	log := &memLog{}
	x, err := Open(ctx, log, &Options{SizeHint: total})
	require.NoError(b, err)
	gen := newSynth(1)
	for i := range total {
		x.Add(gen.next(), gen.copies(uint32(i+1))...)
		if i%10_000 == 0 {
			require.NoError(b, x.Flush(ctx))
		}
	}
	require.NoError(b, x.Flush(ctx))
	want := len(x.Clusters(KindCampaign))
	size := 0
	for _, e := range log.entries {
		size += len(e)
	}
	x = nil
	runtime.GC()
	var elapsed, cpu time.Duration
	b.ResetTimer()
	for range b.N {
		c0 := cpuTime()
		t0 := time.Now()
		y, err := Open(ctx, log, &Options{SizeHint: total})
		elapsed += time.Since(t0)
		cpu += cpuTime() - c0
		require.NoError(b, err)
		b.StopTimer()
		require.Equal(b, total, y.Len())
		require.Equal(b, want, len(y.Clusters(KindCampaign)))
		y = nil
		runtime.GC()
		b.StartTimer()
	}
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/open")
	if cpu > 0 {
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/open")
	}
	b.ReportMetric(float64(total)*float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(size)/float64(total), "log-B/msg")
}
