package cluster

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Seed is where a cluster starts: a message, or an indicator such as a
// malicious URL or file. Exactly one of Key and MessageID is set; build it
// with [SeedMessage], [SeedURL], [SeedFile] or [SeedKey].
type Seed struct {
	// Key is the indicator the cluster starts from; zero for a message
	// seed.
	Key Key
	// MessageID is the Message-ID of the seed message ([SeedMessage]
	// normalizes it with [mailbox.NormalizeMessageID]); "" for a key seed.
	MessageID string
}

// SeedMessage returns the seed of a message by its Message-ID.
func SeedMessage(id string) Seed { return Seed{MessageID: mailbox.NormalizeMessageID(id)} }

// SeedKey returns the seed of an indicator key.
func SeedKey(k Key) Seed { return Seed{Key: k} }

// SeedFile returns the seed of an attachment by its hex SHA-256.
func SeedFile(sha256 string) Seed { return Seed{Key: FileKey(sha256)} }

// SeedURL returns the seed of a link, unwrapped and canonicalised.
func SeedURL(raw string) (Seed, error) {
	k, err := URLKey(raw)
	if err != nil {
		return Seed{}, fmt.Errorf("%w: %w", ErrBadSeed, err)
	}
	return Seed{Key: k}, nil
}

// String describes the seed.
func (s Seed) String() string {
	if s.MessageID != "" {
		return "message <" + s.MessageID + ">"
	}
	return s.Key.String()
}

// Link is why a member is in a cluster: the indicator it shares with the
// member it joined through.
type Link struct {
	// Key is the shared indicator. For a similar file it is the member's
	// own file digest; for a similar body, the shared sender domain or IP.
	// It is zero for the seed message itself.
	Key Key
	// Distance is the TLSH distance of a similar file or the Hamming
	// distance of a similar body; 0 for exact keys.
	Distance int
	// Other is, for a similar file, the digest of the file it is similar
	// to.
	Other string
	// Parent is the index in [Cluster.Members] of the member this one
	// joined through, -1 when it joined the seed itself (it is the seed
	// message or carries the seed indicator).
	Parent int
}

// Member is one message of a cluster: what a person needs to recognise
// it (subject, sender, date, where it came from), the addresses of its
// known copies and the link that put it there.
type Member struct {
	// MessageID is the message's Message-ID, normalized by
	// [mailbox.NormalizeMessageID]; "" for a message without one (such
	// messages are never merged into one member).
	MessageID string
	// Subject is the subject as the message's indicators gave it.
	Subject string
	// From is the header From address ([Indicators.From]); "" when the
	// indicators had none.
	From string
	// SenderDomain is the domain clustering attributed the message to
	// ([Indicators.SenderDomain]).
	SenderDomain string
	// SenderIP is where the message came from: the first external hop of
	// its Received chain ([Indicators.SenderIP]); invalid when unknown.
	SenderIP netip.Addr
	// Date is the message's Date; zero when unknown.
	Date time.Time
	// Copies are the addresses of the message's copies given to the
	// index, without duplicates; empty when none were given.
	Copies []mailbox.Address
	// Link is why the message is in the cluster.
	Link Link
}

// Name returns "<message-id>", or "(no message id)".
func (m *Member) Name() string {
	if m.MessageID == "" {
		return "(no message id)"
	}
	return "<" + m.MessageID + ">"
}

// Cluster is a set of related messages. Members are in the order they
// were reached from the seed: every member's Link.Parent is smaller than
// its own index, so following parents always ends at the seed.
type Cluster struct {
	// Kind is the kind of links the cluster was built with.
	Kind Kind
	// Links is the kinds of the links its members actually joined by.
	Links Kind
	// Seed is the seed the cluster grew from: the one given to
	// [Index.ClusterOf], or the earliest message for [Index.Clusters].
	Seed Seed
	// Members are the messages, the seed first.
	Members []Member
}

// Len returns the number of messages.
func (c *Cluster) Len() int { return len(c.Members) }

// CopyCount returns the number of known copies of all members.
func (c *Cluster) CopyCount() int {
	n := 0
	for i := range c.Members {
		n += len(c.Members[i].Copies)
	}
	return n
}

// Chain returns the links from member i back to the seed: Chain(i)[0] is
// the link of member i, the last one the link of a member that joined the
// seed itself.
func (c *Cluster) Chain(i int) []Link {
	var out []Link
	for i >= 0 && i < len(c.Members) && len(out) <= len(c.Members) {
		l := c.Members[i].Link
		out = append(out, l)
		i = l.Parent
	}
	return out
}

// Explain returns the reason chain of member i in words, e.g.
// `similar file T1… (distance 23) to <b> <- same URL http://x/ as <a> <- seed`.
func (c *Cluster) Explain(i int) string {
	var parts []string
	for _, l := range c.Chain(i) {
		parts = append(parts, c.linkText(l))
	}
	return strings.Join(parts, " <- ")
}

func (c *Cluster) linkText(l Link) string {
	if l.Parent < 0 {
		if l.Key.Kind == 0 {
			return "seed"
		}
		return "carries the seed " + l.Key.String()
	}
	p := c.Members[l.Parent].Name()
	switch l.Key.Kind {
	case KeySimilarFile:
		return fmt.Sprintf("similar file %s (distance %d) to %s", short(l.Key.Value), l.Distance, p)
	case KeyBodyDomain:
		return fmt.Sprintf("similar body (Hamming %d) and sender domain %s as %s", l.Distance, l.Key.Value, p)
	case KeyBodyIP:
		return fmt.Sprintf("similar body (Hamming %d) and sender IP %s as %s", l.Distance, l.Key.Value, p)
	case KeySubjectDomain, KeySubjectIP:
		subj, attr, _ := strings.Cut(l.Key.Value, " | ")
		what := "domain"
		if l.Key.Kind == KeySubjectIP {
			what = "IP"
		}
		return fmt.Sprintf("subject %q and sender %s %s as %s", subj, what, attr, p)
	case KeyFile:
		return fmt.Sprintf("same file sha256:%s as %s", short(l.Key.Value), p)
	}
	return fmt.Sprintf("same %s as %s", l.Key, p)
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// String lists the members and their reason chains.
func (c *Cluster) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cluster of %d messages, seed %s", c.Kind, len(c.Members), c.Seed)
	if c.Links != 0 && c.Links != c.Kind {
		fmt.Fprintf(&b, ", linked by %s", c.Links)
	}
	b.WriteByte('\n')
	for i := range c.Members {
		fmt.Fprintf(&b, "  %s: %s\n", c.Members[i].Name(), c.Explain(i))
	}
	return b.String()
}

// Criteria returns the selection of the cluster for remediation: every
// member by Message-ID. Members without a Message-ID are not in it; their
// copies are in [Cluster.Addresses]. The criteria is empty (and refused by
// [mailbox.Criteria.Validate]) when no member has a Message-ID.
func (c *Cluster) Criteria() mailbox.Criteria {
	var ids []string
	for i := range c.Members {
		if c.Members[i].MessageID != "" {
			ids = append(ids, c.Members[i].MessageID)
		}
	}
	return mailbox.Criteria{MessageIDs: ids}
}

// Addresses returns the known copies of every member.
func (c *Cluster) Addresses() []mailbox.Address {
	var out []mailbox.Address
	for i := range c.Members {
		out = append(out, c.Members[i].Copies...)
	}
	return out
}

// ClusterOf returns the cluster of kind that seed belongs to. A message
// seed starts from that message; a key seed from every message that
// carries the key, even when the key is benign (asking for its cluster is
// a verdict), and the cluster grows from there through the links of kind.
// An unknown seed gives ErrUnknownSeed.
//
// ClusterOf reads every message's root (linear in the index size), and
// when a key became benign since the last read it first rebuilds the
// union-find structures (linear in the number of keys).
func (x *Index) ClusterOf(seed Seed, kind Kind) (*Cluster, error) {
	if kind&KindCampaign == 0 {
		return nil, fmt.Errorf("cluster: kind %d has no link kinds", kind)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.rebuildLocked()
	u := x.uf[kind.ufIndex()]

	var starts []int32
	var seedHash uint64
	isKey := seed.MessageID == ""
	if !isKey {
		v, ok := x.keys.get(x.hash(keyMessage, mailbox.NormalizeMessageID(seed.MessageID)))
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrUnknownSeed, seed)
		}
		starts = []int32{int32(v)}
	} else {
		if seed.Key.Kind == 0 || seed.Key.Value == "" {
			return nil, fmt.Errorf("%w: empty seed", ErrBadSeed)
		}
		seedHash = x.hash(seed.Key.Kind, seed.Key.Value)
		if _, ok := x.keys.get(seedHash); !ok {
			return nil, fmt.Errorf("%w: %s", ErrUnknownSeed, seed)
		}
		for m := 0; m < x.lenLocked(); m++ {
			if containsHash(x.keyList[x.keyOff[m]:x.keyOff[m+1]], seedHash) {
				starts = append(starts, int32(m))
			}
		}
		if len(starts) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownSeed, seed)
		}
	}
	roots := make(map[int32]bool, len(starts))
	for _, s := range starts {
		roots[find(u, s)] = true
	}
	var members []int32
	for m := 0; m < x.lenLocked(); m++ {
		if roots[find(u, int32(m))] {
			members = append(members, int32(m))
		}
	}
	var edges []int32
	for i := range x.edges {
		e := &x.edges[i]
		if roots[find(u, e.a)] && roots[find(u, e.b)] {
			edges = append(edges, int32(i))
		}
	}
	c := x.materializeLocked(kind, seed, members, starts, isKey, seedHash, edges)
	return c, nil
}

// Clusters returns every cluster of kind with at least two messages,
// largest first. The seed of each is its earliest message.
func (x *Index) Clusters(kind Kind) []*Cluster {
	if kind&KindCampaign == 0 {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.rebuildLocked()
	u := x.unionFindLocked(kind & KindCampaign)
	n := x.lenLocked()
	size := make([]int32, n)
	for m := 0; m < n; m++ {
		size[find(u, int32(m))]++
	}
	groups := map[int32][]int32{}
	for m := 0; m < n; m++ {
		if r := find(u, int32(m)); size[r] >= 2 {
			groups[r] = append(groups[r], int32(m))
		}
	}
	edgesOf := map[int32][]int32{}
	for i := range x.edges {
		e := &x.edges[i]
		r := find(u, e.a)
		if size[r] >= 2 && r == find(u, e.b) {
			edgesOf[r] = append(edgesOf[r], int32(i))
		}
	}
	roots := make([]int32, 0, len(groups))
	for r := range groups {
		roots = append(roots, r)
	}
	sort.Slice(roots, func(i, j int) bool {
		if len(groups[roots[i]]) != len(groups[roots[j]]) {
			return len(groups[roots[i]]) > len(groups[roots[j]])
		}
		return roots[i] < roots[j]
	})
	var out []*Cluster
	for _, r := range roots {
		c := x.materializeLocked(kind, Seed{MessageID: x.idLocked(r)}, groups[r], []int32{r}, false, 0, edgesOf[r])
		if c.Len() >= 2 {
			out = append(out, c)
		}
	}
	return out
}

// materializeLocked walks the links of kind among members breadth-first
// from starts and returns the cluster with a reason for every member it
// reaches. With isKey, starts are the carriers of the seed key seedHash,
// which then links them whatever its benign state.
func (x *Index) materializeLocked(kind Kind, seed Seed, members, starts []int32, isKey bool, seedHash uint64, edgeIdx []int32) *Cluster {
	// local[m] is m's position in members while this runs (-1 outside).
	local := x.scratchLocked()
	for i, m := range members {
		local[m] = int32(i)
	}
	defer func() {
		for _, m := range members {
			local[m] = -1
		}
	}()

	postings := make(map[uint64][]int32, len(members))
	for _, m := range members {
		for _, h := range x.keyList[x.keyOff[m]:x.keyOff[m+1]] {
			weak := h&weakBit != 0
			h &^= weakBit
			v, _ := x.keys.get(h)
			if v&shared == 0 || h == seedHash && isKey {
				continue
			}
			info := &x.infos[v&^shared]
			if info.kind.Class()&kind == 0 || x.joinTargetLocked(info, weak) < 0 {
				continue
			}
			postings[h] = append(postings[h], m)
		}
	}
	adj := make([][]int32, len(members))
	for _, i := range edgeIdx {
		e := &x.edges[i]
		if e.kind.Class()&kind == 0 || !x.edgeActiveLocked(e) || local[e.a] < 0 || local[e.b] < 0 {
			continue
		}
		adj[local[e.a]] = append(adj[local[e.a]], i)
		adj[local[e.b]] = append(adj[local[e.b]], i)
	}

	c := &Cluster{Kind: kind, Seed: seed, Members: make([]Member, 0, len(members))}
	order := make([]int32, len(members)) // member index in c.Members + 1; 0 = not reached
	queue := make([]int32, 0, len(members))
	visit := func(m int32, l Link) {
		li := local[m]
		if li < 0 || order[li] != 0 {
			return
		}
		order[li] = int32(len(c.Members)) + 1
		c.Members = append(c.Members, x.memberLocked(m, l))
		if l.Key.Kind != 0 {
			c.Links |= l.Key.Kind.Class()
		}
		queue = append(queue, m)
	}
	for _, s := range starts {
		l := Link{Parent: -1}
		if isKey {
			l.Key = seed.Key
		}
		visit(s, l)
	}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		from := int(order[local[m]] - 1)
		for _, h := range x.keyList[x.keyOff[m]:x.keyOff[m+1]] {
			weak := h&weakBit != 0
			h &^= weakBit
			list, ok := postings[h]
			if !ok {
				continue
			}
			if weak {
				// A link the member carries as weak evidence reaches
				// the others only with a malicious verdict.
				if v, _ := x.keys.get(h); !x.infos[v&^shared].malicious {
					continue
				}
			}
			delete(postings, h)
			v, _ := x.keys.get(h)
			info := &x.infos[v&^shared]
			for _, n := range list {
				visit(n, Link{Key: Key{Kind: info.kind, Value: info.value}, Parent: from})
			}
		}
		for _, i := range adj[local[m]] {
			e := &x.edges[i]
			n, mine, theirs := e.b, e.fb, e.fa
			if n == m {
				n, mine, theirs = e.a, e.fa, e.fb
			}
			if order[local[n]] != 0 {
				continue
			}
			l := Link{Key: Key{Kind: e.kind}, Distance: int(e.dist), Parent: from}
			switch e.kind {
			case KeySimilarFile:
				l.Key.Value = x.files[mine].digest.String()
				l.Other = x.files[theirs].digest.String()
			case KeyBodyDomain:
				l.Key.Value = x.domNames[x.dom[n]]
			case KeyBodyIP:
				l.Key.Value = x.ipAddrs[x.ip[n]].String()
			}
			visit(n, l)
		}
	}
	return c
}

// scratchLocked returns a per-message array of -1s that
// materializeLocked borrows and restores.
func (x *Index) scratchLocked() []int32 {
	for len(x.scratch) < x.lenLocked() {
		x.scratch = append(x.scratch, -1)
	}
	return x.scratch
}

func (x *Index) memberLocked(m int32, l Link) Member {
	mem := Member{
		MessageID:    x.idLocked(m),
		Subject:      string(x.textArena[x.textOff[2*m]:x.textOff[2*m+1]]),
		From:         string(x.textArena[x.textOff[2*m+1]:x.textOff[2*m+2]]),
		SenderDomain: x.domNames[x.dom[m]],
		SenderIP:     x.ipAddrs[x.ip[m]],
		Link:         l,
	}
	if d := x.date[m]; d != 0 {
		mem.Date = time.Unix(int64(d), 0).UTC()
	}
	if x.copies[m] != (copyRec{}) {
		mem.Copies = append(mem.Copies, x.unpackLocked(x.copies[m]))
	}
	for _, c := range x.more[m] {
		mem.Copies = append(mem.Copies, x.unpackLocked(c))
	}
	return mem
}
