package cluster

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/corpus"
	"github.com/eradicate-dev/eradicate/internal/tlsh"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// corpusMessage is one corpus file with its indicators.
type corpusMessage struct {
	file string // path relative to the corpus, e.g. "phishing/phishing_pot/sample-1.eml"
	id   string // the real Message-ID
	ind  *Indicators
}

// loadCorpus parses every message under the phishing and ham folders and
// the malicious invites (phishing too, by meeting request).
// The message id of each is replaced by its file name, so that every file
// is its own member (a few files of different corpora share Message-IDs).
func loadCorpus(t *testing.T, dir string) []corpusMessage {
	t.Helper()
	var out []corpusMessage
	corpus.EachMessage(t, dir, []string{"phishing", "invites/malicious_phishing_pot", "ham"}, func(path string, raw []byte) {
		p, _ := mailbox.Parse(raw) // a partly read message still has indicators
		require.NotNil(t, p, path)
		ind := Extract(p)
		rel, err := filepath.Rel(dir, path)
		require.NoError(t, err)
		rel = filepath.ToSlash(rel)
		id := ind.MessageID
		ind.MessageID = rel
		out = append(out, corpusMessage{file: rel, id: id, ind: ind})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].file < out[j].file })
	return out
}

// readGroups reads a CLUSTERS_*.tsv file: one group per line, the files
// in the third column separated by spaces.
func readGroups(t *testing.T, path string) [][]string {
	t.Helper()
	groups, _ := readGroupKeys(t, path)
	return groups
}

// readGroupKeys is readGroups that also returns each group's first
// column (the shared attachment's SHA-256 in the exact groups).
func readGroupKeys(t *testing.T, path string) ([][]string, []string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var groups [][]string
	var keys []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 3, line)
		groups = append(groups, strings.Fields(cols[2]))
		keys = append(keys, cols[0])
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, groups)
	return groups, keys
}

// membership maps each file to the index of its cluster; files in no
// cluster of two or more are absent.
func membership(cs []*Cluster) map[string]int {
	m := map[string]int{}
	for i, c := range cs {
		for _, mem := range c.Members {
			m[mem.MessageID] = i
		}
	}
	return m
}

// bcubed returns the B-cubed precision and recall of a predicted
// clustering against a truth, over items (Bagga and Baldwin 1998). Items
// absent from a map are singletons there.
func bcubed(items []string, truth, pred map[string]int) (precision, recall float64) {
	label := func(m map[string]int, it string, i int) int {
		if c, ok := m[it]; ok {
			return c
		}
		return -1 - i
	}
	tl := make([]int, len(items))
	pl := make([]int, len(items))
	for i, it := range items {
		tl[i], pl[i] = label(truth, it, i), label(pred, it, i)
	}
	for i := range items {
		same, inPred, inTruth := 0, 0, 0
		for j := range items {
			if pl[j] == pl[i] {
				inPred++
				if tl[j] == tl[i] {
					same++
				}
			}
			if tl[j] == tl[i] {
				inTruth++
			}
		}
		precision += float64(same) / float64(inPred)
		recall += float64(same) / float64(inTruth)
	}
	n := float64(len(items))
	return precision / n, recall / n
}

func TestCorpusQuality(t *testing.T) {
	dir := corpus.Dir(t)
	msgs := loadCorpus(t, dir)
	exact, exactSHA := readGroupKeys(t, filepath.Join(dir, "phishing", "CLUSTERS_exact_attachment_sha256.tsv"))
	similar := readGroups(t, filepath.Join(dir, "phishing", "CLUSTERS_similar_attachment_ssdeep.tsv"))

	x := New(&Options{Logger: testLogger(t)})
	for _, m := range msgs {
		x.Add(m.ind)
	}
	require.Equal(t, len(msgs), x.Len())
	t.Logf("corpus: %d messages", len(msgs))

	fileClusters := x.Clusters(KindFile)
	inFile := membership(fileClusters)

	t.Run("exact attachment groups are whole file clusters", func(t *testing.T) {
		// A group whose shared attachment is shorter than minFileSize
		// (a part of two bytes) is no same-file group: such a part
		// joins no messages by itself.
		size := map[string]int64{}
		for _, m := range msgs {
			for _, f := range m.ind.Files {
				size[f.SHA256] = f.Size
			}
		}
		for i, g := range exact {
			if n, ok := size[exactSHA[i]]; ok && n < minFileSize {
				t.Logf("group of %d files sharing only a %d-byte part, left out: %v", len(g), n, g)
				continue
			}
			c, ok := inFile[g[0]]
			if !assert.True(t, ok, "%s is in no file cluster", g[0]) {
				continue
			}
			for _, f := range g[1:] {
				assert.Equal(t, c, inFile[f], "%s and %s are split", g[0], f)
			}
		}
	})

	t.Run("similar attachment groups", func(t *testing.T) {
		whole, found, pairs := similarRecall(similar, inFile)
		recall := float64(found) / float64(pairs)
		t.Logf("ssdeep similar groups: %d of %d recovered whole; pair recall %.3f (%d of %d pairs)", whole, len(similar), recall, found, pairs)
		assert.GreaterOrEqual(t, recall, similarPairRecallFloor)
	})

	t.Run("similar files within the threshold", func(t *testing.T) {
		// Every pair of distinct files of one media type within the
		// TLSH threshold, found by comparing all pairs, against the file
		// clusters the index built with its candidate lookup.
		type file struct {
			msg  string
			mt   string
			sha  string
			tlsh tlsh.Digest
		}
		var files []file
		for _, m := range msgs {
			for _, f := range m.ind.Files {
				if f.TLSH == "" || f.Inline && strings.HasPrefix(f.MediaType, "image/") {
					continue
				}
				d, err := tlsh.Parse(f.TLSH)
				require.NoError(t, err)
				files = append(files, file{m.file, f.MediaType, f.SHA256, d})
			}
		}
		pairs, found := 0, 0
		var lost []string
		for i := range files {
			for j := i + 1; j < len(files); j++ {
				a, b := &files[i], &files[j]
				if a.sha == b.sha || a.mt != b.mt || a.msg == b.msg || tlsh.Diff(a.tlsh, b.tlsh) > DefaultFileDistance {
					continue
				}
				pairs++
				ca, oka := inFile[a.msg]
				cb, okb := inFile[b.msg]
				if oka && okb && ca == cb {
					found++
				} else {
					lost = append(lost, a.msg+" "+b.msg)
				}
			}
		}
		require.NotZero(t, pairs)
		t.Logf("pairs of files within TLSH distance %d: %d, in one file cluster: %d (%.3f); lost: %v", DefaultFileDistance, pairs, found, float64(found)/float64(pairs), lost)
		assert.GreaterOrEqual(t, float64(found)/float64(pairs), thresholdPairRecallFloor)
	})

	t.Run("file distance threshold sweep", func(t *testing.T) {
		// How the TLSH threshold trades recall of the ssdeep groups
		// against mixing ham into phishing file clusters; the default
		// sits well below the nearest ham-phishing distance (157: a
		// PDF of a ham message and one of a phishing message).
		prev := -1
		for _, d := range []int{30, 50, 70, DefaultFileDistance, 130, 150} {
			y := New(&Options{FileDistance: d})
			for _, m := range msgs {
				if len(m.ind.Files) > 0 {
					y.Add(m.ind)
				}
			}
			cs := y.Clusters(KindFile)
			whole, found, pairs := similarRecall(similar, membership(cs))
			mixed := 0
			for _, c := range cs {
				if mixesHamAndPhishing(c) {
					mixed++
				}
			}
			t.Logf("FileDistance %3d: pair recall %.3f, %d of %d groups whole, %d file clusters, %d mixing ham and phishing", d, float64(found)/float64(pairs), whole, len(similar), len(cs), mixed)
			assert.Zero(t, mixed, "distance %d", d)
			assert.GreaterOrEqual(t, found, prev, "recall grows with the threshold")
			prev = found
		}
	})

	t.Run("no ham joins a phishing cluster", func(t *testing.T) {
		// A Message-ID filed both under ham/ and under phishing/ is one
		// message with two labels (SpamAssassin's whitelist fixtures: the
		// same mail with a forged or a genuine relay name, same sender,
		// subject and relay IP); no clustering can tell them apart, so
		// they are left out of this check and listed.
		labels := map[string]map[bool]bool{}
		for _, m := range msgs {
			if m.id == "" {
				continue
			}
			if labels[m.id] == nil {
				labels[m.id] = map[bool]bool{}
			}
			labels[m.id][strings.HasPrefix(m.file, "ham/")] = true
		}
		conflict := map[string]bool{}
		for _, m := range msgs {
			if len(labels[m.id]) == 2 {
				conflict[m.file] = true
			}
		}
		t.Logf("%d files share a Message-ID with a file of the other label and are not judged: %v", len(conflict), slices.Sorted(maps.Keys(conflict)))
		require.Less(t, len(conflict), 10, "label conflicts must stay rare")
		for _, kind := range []Kind{KindFile, KindURL, KindSimilarity, KindCampaign} {
			for _, c := range x.Clusters(kind) {
				var ham, phish []string
				for _, m := range c.Members {
					if conflict[m.MessageID] {
						continue
					}
					if strings.HasPrefix(m.MessageID, "ham/") {
						ham = append(ham, m.MessageID)
					} else {
						phish = append(phish, m.MessageID)
					}
				}
				if len(ham) > 0 && len(phish) > 0 {
					t.Errorf("%s cluster mixes ham %v with phishing %v:\n%s", kind, ham, phish, c)
				}
			}
		}
	})

	t.Run("b-cubed", func(t *testing.T) {
		// Truth: the exact and similar groups, overlapping groups merged.
		groups := slices.Concat(exact, similar)
		truth, nGroups := truthOf(groups)
		var items, invites []string
		for _, m := range msgs {
			switch {
			case strings.HasPrefix(m.file, "phishing/"):
				items = append(items, m.file)
			case strings.HasPrefix(m.file, "invites/"):
				invites = append(invites, m.file)
			}
		}
		campaigns := x.Clusters(KindCampaign)
		for _, kind := range []Kind{KindFile, KindCampaign} {
			p, r := bcubed(items, truth, membership(x.Clusters(kind)))
			t.Logf("B-cubed of %s clusters over %d phishing messages against %d truth groups: precision %.3f recall %.3f", kind, len(items), nGroups, p, r)
			if kind == KindFile {
				assert.GreaterOrEqual(t, p, bcubedFilePrecisionFloor)
				assert.GreaterOrEqual(t, r, bcubedFileRecallFloor)
			} else {
				assert.GreaterOrEqual(t, p, bcubedCampaignPrecisionFloor)
				assert.GreaterOrEqual(t, r, bcubedCampaignRecallFloor)
			}
		}
		// Over the messages the attachment truth labels only: a
		// campaign of attachment-less messages, which that truth
		// cannot judge, is left out.
		var labelled []string
		for _, it := range items {
			if _, ok := truth[it]; ok {
				labelled = append(labelled, it)
			}
		}
		lp, lr := bcubed(labelled, truth, membership(campaigns))
		t.Logf("B-cubed of campaign clusters over the %d labelled messages: precision %.3f recall %.3f", len(labelled), lp, lr)
		assert.GreaterOrEqual(t, lp, labelledCampaignPrecisionFloor)
		assert.GreaterOrEqual(t, lr, labelledCampaignRecallFloor)

		// Against the campaigns labelled by hand as well
		// (testdata/campaigns.tsv): every phishing message judged.
		hand := readCampaigns(t, dir, "testdata/campaigns.tsv", msgs)
		ext, _ := truthOf(slices.Concat(groups, hand))
		n, inItems := 0, map[int]bool{}
		for _, it := range items {
			if c, ok := ext[it]; ok {
				n++
				inItems[c] = true
			}
		}
		ep, er := bcubed(items, ext, membership(campaigns))
		t.Logf("B-cubed of campaign clusters over %d phishing messages against the attachment groups and the campaigns labelled by hand (%d messages in %d campaigns of two or more, the other %d each their own): precision %.3f recall %.3f", len(items), n, len(inItems), len(items)-n, ep, er)
		assert.GreaterOrEqual(t, ep, campaignPrecisionFloor)
		assert.GreaterOrEqual(t, er, campaignRecallFloor)
		// What is left to judge: every campaign cluster of phishing
		// whose messages the truth puts in more than one campaign, with
		// its reasons (ham threads, which the truth does not judge, are
		// left out).
		for _, c := range campaigns {
			if !slices.ContainsFunc(c.Members, func(m Member) bool { return !strings.HasPrefix(m.MessageID, "ham/") }) {
				continue
			}
			groups := map[int]bool{}
			for i, m := range c.Members {
				g, ok := ext[m.MessageID]
				if !ok {
					g = -1 - i
				}
				groups[g] = true
			}
			if len(groups) > 1 {
				var b strings.Builder
				for i, m := range c.Members {
					fmt.Fprintf(&b, "\n  %s %q from %s: %s", m.MessageID, m.Subject, m.From, c.Explain(i))
				}
				t.Logf("campaign cluster of %d messages in %d campaigns of the truth:%s", c.Len(), len(groups), b.String())
			}
		}
		all := slices.Concat(items, invites)
		ip, ir := bcubed(all, ext, membership(campaigns))
		t.Logf("the same with the %d malicious invites: precision %.3f recall %.3f", len(invites), ip, ir)
		assert.GreaterOrEqual(t, ip, inviteCampaignPrecisionFloor)
		assert.GreaterOrEqual(t, ir, inviteCampaignRecallFloor)
	})

	t.Run("cluster census", func(t *testing.T) {
		for _, kind := range []Kind{KindFile, KindURL, KindSimilarity, KindCampaign} {
			cs := x.Clusters(kind)
			n := 0
			for _, c := range cs {
				n += c.Len()
			}
			t.Logf("%s: %d clusters, %d messages clustered", kind, len(cs), n)
		}
	})
}

// truthOf merges overlapping groups of files and returns each file's
// group number and the number of groups.
func truthOf(groups [][]string) (map[string]int, int) {
	parent := map[string]string{}
	var root func(string) string
	root = func(f string) string {
		if p, ok := parent[f]; ok && p != f {
			r := root(p)
			parent[f] = r
			return r
		}
		parent[f] = f
		return f
	}
	for _, g := range groups {
		for _, f := range g[1:] {
			parent[root(f)] = root(g[0])
		}
		root(g[0])
	}
	truth := map[string]int{}
	ids := map[string]int{}
	for f := range parent {
		r := root(f)
		if _, ok := ids[r]; !ok {
			ids[r] = len(ids)
		}
		truth[f] = ids[r]
	}
	return truth, len(ids)
}

// readCampaigns reads a campaign truth file (see testdata/campaigns.tsv):
// "@label<TAB>reason" lines, each followed by its members as "<path in
// the corpus><TAB><sha256>". Every member must be a corpus message whose
// SHA-256 is the one SOURCES.tsv gives, so that a changed corpus is told
// rather than judged against labels made for other files.
func readCampaigns(t *testing.T, dir, path string, msgs []corpusMessage) [][]string {
	t.Helper()
	sums := map[string]string{}
	src, err := os.ReadFile(filepath.Join(dir, "SOURCES.tsv"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(src), "\n") {
		if cols := strings.Split(line, "\t"); len(cols) >= 6 && !strings.HasPrefix(line, "#") {
			sums[cols[0]] = cols[5]
		}
	}
	known := map[string]bool{}
	for _, m := range msgs {
		known[m.file] = true
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out [][]string
	seen := map[string]string{}
	label := ""
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if l, reason, ok := strings.Cut(line, "\t"); ok && strings.HasPrefix(l, "@") {
			require.NotEmpty(t, strings.TrimSpace(reason), "line %d: a campaign without a reason", i+1)
			label = l
			out = append(out, nil)
			continue
		}
		file, sum, ok := strings.Cut(line, "\t")
		require.True(t, ok && label != "", "line %d: %q", i+1, line)
		require.True(t, known[file], "line %d: %s is no corpus message", i+1, file)
		require.Equal(t, sums[file], sum, "line %d: %s is not the file labelled", i+1, file)
		require.Empty(t, seen[file], "line %d: %s is already in %s", i+1, file, seen[file])
		seen[file] = label
		out[len(out)-1] = append(out[len(out)-1], file)
	}
	for _, g := range out {
		require.GreaterOrEqual(t, len(g), 2, "a campaign of one message says nothing")
	}
	require.NotEmpty(t, out)
	return out
}

// similarRecall returns how many groups lie whole in one cluster and how
// many pairs of group members share a cluster, of how many pairs.
func similarRecall(groups [][]string, in map[string]int) (whole, found, pairs int) {
	for _, g := range groups {
		c0, ok := in[g[0]]
		all := ok
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				pairs++
				ci, oki := in[g[i]]
				cj, okj := in[g[j]]
				if oki && okj && ci == cj {
					found++
				}
			}
			if c, ok := in[g[i]]; !ok || c != c0 {
				all = false
			}
		}
		if all {
			whole++
		}
	}
	return whole, found, pairs
}

func mixesHamAndPhishing(c *Cluster) bool {
	ham, phish := false, false
	for _, m := range c.Members {
		if strings.HasPrefix(m.MessageID, "ham/") {
			ham = true
		} else {
			phish = true
		}
	}
	return ham && phish
}

// Floors measured on the shared corpus (see the logs of TestCorpusQuality).
//
// Similar files: every pair of files within the threshold is in one file
// cluster (1.000; 0.98 leaves room for one or two pairs of new mail that
// the coarse bands miss). Of the ssdeep pairs 405 of 414 are found
// (0.978, was 0.940); the 9 others are 217 to 250 apart, beyond any
// threshold that keeps ham out. Finding more similar pairs costs file
// precision against the ssdeep truth (0.918, was 0.930): TLSH links
// files of one campaign that ssdeep tells apart.
//
// Campaign clusters over the 381 phishing messages against the attachment
// groups alone: precision 0.861 (was 0.790 before the weak-link rules,
// 0.825 before the boilerplate rule, 0.857 before the rules on parts of a
// few bytes and on reply prefixes), recall 0.993. That truth knows only
// attachments: a campaign joined by its link, subject or body without an
// attachment group counts against precision however right it is, so this
// floor holds the measured figure. Over the 138 messages it labels, which
// it can judge, precision is 0.952 (was 0.853, then 0.914) and recall 0.981
// (was 0.959); that precision floor is the goal itself, 0.95: the figure is
// the same in every run (the index is deterministic for one order of
// messages), and what is left there is files TLSH finds within 100 that
// ssdeep puts in different groups, of one campaign by subject and sender.
//
// Against the attachment groups and the campaigns labelled by hand
// (testdata/campaigns.tsv, 201 of the 381 messages in campaigns of two or
// more), every message is judged: precision 0.995, recall 0.984 (0.991 /
// 0.984 before the rules on parts of a few bytes and reply prefixes, with
// the same truth). What is left: two pairs the index joins that the
// labels keep apart (two Ledger lures joined by a PDF converter's links;
// two crypto-giveaway PDFs of different makers at TLSH distance 69), and
// campaigns it splits (the Google Calendar callback invites, one
// Salonized invite, one Google Slides share whose link moved host). The
// floors, 0.97 / 0.97, sit above the goal of 0.95 and leave room for a
// few wrong pairs of new mail (one wrong pair of two-message clusters
// costs about 0.005) while failing on any wrong merge of two sizeable
// campaigns (two campaigns of 10 joined cost about 0.026). With the
// malicious invites (393 messages) recall is 0.968; the floors stay at the
// goal there.
const (
	thresholdPairRecallFloor     = 0.98 // measured 1.000
	similarPairRecallFloor       = 0.97 // measured 0.978
	bcubedFilePrecisionFloor     = 0.90 // measured 0.918
	bcubedFileRecallFloor        = 0.97 // measured 0.989
	bcubedCampaignPrecisionFloor = 0.84 // measured 0.861
	bcubedCampaignRecallFloor    = 0.97 // measured 0.993
	// Over the messages the truth labels.
	labelledCampaignPrecisionFloor = 0.95 // measured 0.952
	labelledCampaignRecallFloor    = 0.97 // measured 0.981
	// Against the attachment groups and the campaigns labelled by hand.
	campaignPrecisionFloor = 0.97 // measured 0.995
	campaignRecallFloor    = 0.97 // measured 0.984
	// The same with the malicious invites.
	inviteCampaignPrecisionFloor = 0.95 // measured 0.995
	inviteCampaignRecallFloor    = 0.95 // measured 0.968
)
