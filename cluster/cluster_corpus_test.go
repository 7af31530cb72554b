package cluster

import (
	"bufio"
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
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var groups [][]string
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
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, groups)
	return groups
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
	exact := readGroups(t, filepath.Join(dir, "phishing", "CLUSTERS_exact_attachment_sha256.tsv"))
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
		for _, g := range exact {
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
		for _, g := range slices.Concat(exact, similar) {
			for _, f := range g[1:] {
				parent[root(f)] = root(g[0])
			}
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
		var items []string
		for _, m := range msgs {
			if strings.HasPrefix(m.file, "phishing/") {
				items = append(items, m.file)
			}
		}
		for _, kind := range []Kind{KindFile, KindCampaign} {
			p, r := bcubed(items, truth, membership(x.Clusters(kind)))
			t.Logf("B-cubed of %s clusters over %d phishing messages against %d truth groups: precision %.3f recall %.3f", kind, len(items), len(ids), p, r)
			if kind == KindFile {
				assert.GreaterOrEqual(t, p, bcubedFilePrecisionFloor)
				assert.GreaterOrEqual(t, r, bcubedFileRecallFloor)
			} else {
				assert.GreaterOrEqual(t, p, bcubedCampaignPrecisionFloor)
				assert.GreaterOrEqual(t, r, bcubedCampaignRecallFloor)
				// Over the messages the truth labels only: a
				// campaign of attachment-less messages, which the
				// truth cannot judge, is left out.
				var labelled []string
				for _, it := range items {
					if _, ok := truth[it]; ok {
						labelled = append(labelled, it)
					}
				}
				lp, lr := bcubed(labelled, truth, membership(x.Clusters(kind)))
				t.Logf("B-cubed of %s clusters over the %d labelled messages: precision %.3f recall %.3f", kind, len(labelled), lp, lr)
				assert.GreaterOrEqual(t, lp, labelledCampaignPrecisionFloor)
				assert.GreaterOrEqual(t, lr, labelledCampaignRecallFloor)
			}
		}
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
// Campaign clusters over the 381 phishing messages: precision 0.857 (was
// 0.790 before the weak-link rules, 0.825 before the boilerplate rule),
// recall 0.993 (was 0.985). The truth knows only attachments: a campaign
// joined by its link, subject or body without an attachment group counts
// against precision however right it is (the largest such loss is one
// campaign of 17 "0.7495 BTC" lures with similar attachments the ssdeep
// groups do not list), so this floor holds the measured figure rather
// than the 0.95 wanted. Over the 138 messages the truth labels, which it
// can judge, precision is 0.952 (was 0.853, then 0.914) and recall 0.981
// (was 0.959). That precision floor is the goal itself, 0.95: the figure
// is the same in every run (the index is deterministic for one order of
// messages), and what is left there is files TLSH finds within 100 that
// ssdeep puts in different groups, of one campaign by subject and sender.
const (
	thresholdPairRecallFloor     = 0.98 // measured 1.000
	similarPairRecallFloor       = 0.97 // measured 0.978
	bcubedFilePrecisionFloor     = 0.90 // measured 0.918
	bcubedFileRecallFloor        = 0.97 // measured 0.989
	bcubedCampaignPrecisionFloor = 0.84 // measured 0.857
	bcubedCampaignRecallFloor    = 0.97 // measured 0.993
	// Over the messages the truth labels.
	labelledCampaignPrecisionFloor = 0.95 // measured 0.952
	labelledCampaignRecallFloor    = 0.97 // measured 0.981
)
