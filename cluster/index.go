package cluster

import (
	"bytes"
	"errors"
	"hash/maphash"
	"iter"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/eradicate-dev/eradicate/internal/tlsh"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Errors returned by [Index] methods.
var (
	// ErrUnknownSeed means no indexed message carries the seed.
	ErrUnknownSeed = errors.New("cluster: no message carries the seed")
	// ErrBadSeed means the seed could not be read (an empty value, a URL
	// that does not canonicalise).
	ErrBadSeed = errors.New("cluster: invalid seed")
)

// Options are the settings of an [Index]. A nil *Options is the same as a
// zero value; every zero field means its default.
type Options struct {
	// BenignDomains is benign suppression of links: a URL or URL
	// template seen in mail from this many distinct sender registrable
	// domains is treated as benign (a footer link, a CDN, a popular
	// article) and joins no messages by itself unless marked malicious
	// with [Index.MarkMalicious]. Default 3: links shared by unrelated
	// senders percolate, and a few such keys per message chain a whole
	// tenant into one cluster. A campaign that rotates sender domains is
	// still found from its link as a seed ([Index.ClusterOf]) or once the
	// link is marked malicious. Negative disables suppression.
	BenignDomains int
	// BenignFileDomains is benign suppression of files (a logo, a
	// widely shared document): a file seen in mail from this many
	// distinct sender domains joins no messages by itself unless marked
	// malicious. Default 20: campaigns send one attachment from many
	// spoofed domains (up to 16 in the shared corpus), benign senders
	// attach their own files. Negative disables suppression.
	BenignFileDomains int
	// SharedIPDomains marks shared relays: a sender IP seen sending for
	// this many distinct sender domains (a mail provider, an ESP) is not
	// used in subject+IP and body+IP pairs. Default 20. Negative disables
	// it.
	SharedIPDomains int
	// SharedDomainSenders marks mailbox providers: a sender domain seen
	// with this many distinct From addresses (gmail.com, outlook.com) does
	// not identify a sender, and the subject+domain and body+domain pairs
	// do not use it (unrelated people send "Quick question" or a one-line
	// body from one provider). Default 20. Negative disables it. Only
	// Indicators with a From address count.
	SharedDomainSenders int
	// BoilerplateSubjects marks a person's boilerplate links: a URL or
	// URL template that one From address puts in its replies and forwards
	// under this many distinct subjects (a mail client's signature link in
	// every message a person forwards, a list member's home page under
	// every thread they answer) joins no messages by itself unless marked
	// malicious. Default 3. Negative disables it. Only Indicators with a
	// From address and a subject that starts with a reply or forward
	// prefix ("Re:", "Fwd:", "AW:", "ENC:" ...) count: a bulk sender that
	// puts its kit's links in fresh messages under changing subjects sends
	// one campaign, and its links keep joining them.
	BoilerplateSubjects int
	// FileDistance is the largest TLSH distance at which two files of the
	// same media type are similar. Default [DefaultFileDistance].
	FileDistance int
	// BodyDistance is the largest Hamming distance at which two body
	// fingerprints are similar, at most 3 (the LSH bands find every pair
	// up to 3). Default 3.
	BodyDistance int
	// SizeHint is the number of messages the caller expects to add; the
	// per-message arrays are allocated for that many at once instead of
	// growing. Zero means no hint.
	SizeHint int
	// Logger receives warnings from [Index.AddStore] (messages that could
	// not be fetched or parsed). Nil discards them. Message content is
	// never logged.
	Logger *slog.Logger
}

// DefaultFileDistance is the default TLSH distance for similar files,
// chosen on the shared corpus of real phishing: see the package
// documentation.
const DefaultFileDistance = 100

const (
	defaultBenignDomains     = 3
	defaultBenignFileDomains = 20
	defaultSharedIPDomains   = 20
	defaultSharedSenders     = 20
	defaultBoilerplate       = 3
	maxSenderPairs           = 8  // (From, subject) pairs kept per link key
	maxReps                  = 8  // representatives kept per LSH bucket
	maxSimilarEdges          = 4  // similar-file or similar-body links recorded per message and attribute
	tlshBands                = 16 // 2-byte bands of the 32-byte TLSH body
	coarseBands              = 20 // bands of the coarse TLSH projection (see coarseBand)
	coarseBits               = 9  // bits per coarse band
	coarseReps               = 4  // most recent files kept per coarse bucket
	coarseDirs               = 32 // media types whose coarse buckets are found by direct index
	bodyBands                = 4  // 16-bit bands of the 64-bit SimHash
	shared                   = 1 << 31
)

// Index clusters messages by their indicators. Messages are added one by
// one ([Index.Add]) or from a sequence or a store; clusters are read at
// any time ([Index.ClusterOf], [Index.Clusters]).
//
// Exact keys (file hash, canonical URL, URL template, subject with sender)
// are joined with union-find; similar files and bodies are found through
// LSH buckets, never by comparing all pairs. Memory per message is a few
// hundred bytes: keys are kept as 64-bit hashes and their text only when
// a second message shares them.
//
// An Index is safe for concurrent use by multiple goroutines.
type Index struct {
	mu sync.Mutex

	benign      int // URL and template threshold
	benignFile  int // file threshold
	sharedIP    int // IP threshold
	sharedDom   int // sender domain threshold, in distinct From addresses
	boilerplate int // boilerplate threshold, in distinct subjects of one From address
	fileDist    int
	bodyDist    int
	log         *slog.Logger
	seed        maphash.Seed

	keys  table // exact key hash -> message (singleton) or shared|info index; message id hash -> message
	bands table // LSH band hash -> representative or shared|reps index
	infos []keyInfo
	reps  [][]int32

	// Per message.
	idArena []byte   // Message-IDs, back to back
	idOff   []uint32 // message m's id is idArena[idOff[m]:idOff[m+1]]
	// Subject and From of message m are textArena between textOff[2m],
	// textOff[2m+1] and textOff[2m+2].
	textArena []byte
	textOff   []uint32
	date      []uint32 // Unix seconds of the Date, 0 = unknown or before 1970
	copies    []copyRec
	names     []string // interned mailbox and folder names of copies
	nameIdx   map[string]uint32
	more      map[int32][]copyRec // copies after the first
	dom       []uint32            // interned sender domain, 0 = none
	ip        []uint32            // interned sender IP, 0 = none
	body      []uint64
	keyOff    []uint32 // keys of message m are keyList[keyOff[m]:keyOff[m+1]]
	keyList   []uint64
	uf        [4][]int32
	domNames  []string
	domIdx    map[string]uint32
	ipAddrs   []netip.Addr
	ipIdx     map[netip.Addr]uint32
	ipDoms    [][]uint32          // per interned IP, its distinct sender domains up to the benign limit
	domFroms  map[uint32][]uint64 // per interned sender domain, hashes of its distinct From addresses up to sharedDom

	files     []fileRec
	fileStamp []int32 // per file: (the last file whose lookup compared it + 1) << 1, | 1 when similar
	// Coarse TLSH buckets, found by direct index for the first
	// coarseDirs media types: coarseDir[i][band<<coarseBits|value] is 1 +
	// the bucket's index in coarse (0: none) for the media type whose hash
	// is coarseMedia[i]. A directory costs 40 KB however few files it
	// serves, so media types after those (any number: they come from the
	// mail) use coarseIdx, a table that grows with the buckets in use.
	coarseMedia []uint64
	coarseDir   [][]uint32
	coarseIdx   table // coarse TLSH bucket hash -> 1 + index in coarse
	coarse      []coarseBucket
	edges       []edge

	scratch []int32 // see scratchLocked

	dirty bool

	rec *recorder // the log of an index made by Open (persist.go); nil for New
}

// copyRec is the first known copy of a message, with interned names.
type copyRec struct {
	mailbox, folder  uint32
	uidValidity, uid uint32
}

type keyInfo struct {
	first     int32  // first message with the key; -1 when only marked
	strong    int32  // first message that carries the key as strong evidence; -1 when none
	weak      bool   // some message carries the key as weak evidence
	ip        uint32 // the interned sender IP of a subject+IP key
	kind      KeyKind
	malicious bool
	// boilerplate is set on a link that one From address puts in mail of
	// Options.BoilerplateSubjects distinct subjects (see
	// noteSenderLocked).
	boilerplate bool
	value       string
	doms        []uint32 // distinct sender domains, up to the benign limit
	// senders holds, for a link key not yet boilerplate, the distinct
	// (From hash << 32 | subject hash) pairs of its carriers, up to
	// maxSenderPairs or twice the boilerplate threshold.
	senders []uint64
}

type fileRec struct {
	msg    int32
	media  uint64 // hash of the media type
	sha    uint64 // hash of the file's exact key
	digest tlsh.Digest
}

type edge struct {
	a, b   int32
	fa, fb int32 // files, for similar-file edges; -1 otherwise
	kind   KeyKind
	dist   uint16
}

// New returns an empty Index. opts may be nil.
func New(opts *Options) *Index {
	var o Options
	if opts != nil {
		o = *opts
	}
	x := &Index{
		benign:      o.BenignDomains,
		benignFile:  o.BenignFileDomains,
		sharedIP:    o.SharedIPDomains,
		sharedDom:   o.SharedDomainSenders,
		boilerplate: o.BoilerplateSubjects,
		fileDist:    o.FileDistance,
		bodyDist:    o.BodyDistance,
		log:         o.Logger,
		seed:        maphash.MakeSeed(),
		more:        map[int32][]copyRec{},
		idOff:       []uint32{0},
		textOff:     []uint32{0},
		names:       []string{""},
		nameIdx:     map[string]uint32{},
		domNames:    []string{""},
		domIdx:      map[string]uint32{},
		ipAddrs:     []netip.Addr{{}},
		ipIdx:       map[netip.Addr]uint32{},
		ipDoms:      [][]uint32{nil},
		domFroms:    map[uint32][]uint64{},
		keyOff:      []uint32{0},
	}
	if x.benign == 0 {
		x.benign = defaultBenignDomains
	}
	if x.benignFile == 0 {
		x.benignFile = defaultBenignFileDomains
	}
	if x.sharedIP == 0 {
		x.sharedIP = defaultSharedIPDomains
	}
	if x.sharedDom == 0 {
		x.sharedDom = defaultSharedSenders
	}
	if x.boilerplate == 0 {
		x.boilerplate = defaultBoilerplate
	}
	if x.fileDist <= 0 {
		x.fileDist = DefaultFileDistance
	}
	if x.bodyDist <= 0 || x.bodyDist > 3 {
		x.bodyDist = 3
	}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	if n := o.SizeHint; n > 0 {
		x.idOff = make([]uint32, 1, n+1)
		x.idArena = make([]byte, 0, 32*n)
		x.textArena = make([]byte, 0, 40*n)
		x.textOff = make([]uint32, 1, 2*n+1)
		x.date = make([]uint32, 0, n)
		x.copies = make([]copyRec, 0, n)
		x.dom = make([]uint32, 0, n)
		x.ip = make([]uint32, 0, n)
		x.body = make([]uint64, 0, n)
		x.keyOff = make([]uint32, 1, n+1)
		x.keyList = make([]uint64, 0, 4*n)
		for i := range x.uf {
			x.uf[i] = make([]int32, 0, n)
		}
	}
	return x
}

// Item is one message for [Index.AddAll]: its indicators and the
// addresses of its copies (one per mailbox it was delivered to), which may
// be empty when the caller does not know them.
type Item struct {
	// Indicators are the message's indicators; an Item with nil
	// Indicators adds nothing.
	Indicators *Indicators
	// Copies are the addresses of the message's copies; zero addresses
	// are ignored.
	Copies []mailbox.Address
}

// Len returns the number of messages in the index.
func (x *Index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.lenLocked()
}

func (x *Index) lenLocked() int { return len(x.body) }

// idLocked returns the Message-ID of message m.
func (x *Index) idLocked(m int32) string { return string(x.idArena[x.idOff[m]:x.idOff[m+1]]) }

func (x *Index) internNameLocked(s string) uint32 {
	if i, ok := x.nameIdx[s]; ok {
		return i
	}
	i := uint32(len(x.names))
	x.names = append(x.names, s)
	x.nameIdx[s] = i
	return i
}

func (x *Index) packLocked(a mailbox.Address) copyRec {
	if a.IsZero() {
		return copyRec{}
	}
	return copyRec{mailbox: x.internNameLocked(a.Mailbox), folder: x.internNameLocked(a.Folder), uidValidity: a.UIDValidity, uid: a.UID}
}

func (x *Index) unpackLocked(c copyRec) mailbox.Address {
	return mailbox.Address{Mailbox: x.names[c.mailbox], Folder: x.names[c.folder], UIDValidity: c.uidValidity, UID: c.uid}
}

// AddAll adds every item of seq and returns how many new messages it
// added (copies of messages already present only add their addresses).
func (x *Index) AddAll(seq iter.Seq[Item]) int {
	n := 0
	for it := range seq {
		if x.Add(it.Indicators, it.Copies...) {
			n++
		}
	}
	return n
}

// Add adds a message with the addresses of its copies and joins it to the
// clusters it shares indicators with. A message whose MessageID is already
// in the index is not added again: its copies are added to the existing
// member and Add returns false. A nil ind adds nothing.
func (x *Index) Add(ind *Indicators, copies ...mailbox.Address) bool {
	if ind == nil {
		return false
	}
	id := mailbox.NormalizeMessageID(ind.MessageID)
	subject := NormalizeSubject(ind.Subject)
	if !specificSubject(subject) {
		subject = ""
	}
	keys := exactKeys(ind, subject)

	x.mu.Lock()
	defer x.mu.Unlock()

	if id != "" {
		h := x.hash(keyMessage, id)
		if v, ok := x.keys.get(h); ok {
			x.addCopiesLocked(int32(v), copies)
			x.recordCopiesLocked(id, copies)
			return false
		}
		x.keys.put(h, uint32(x.lenLocked()))
	}
	x.recordMessageLocked(ind, copies)
	m := int32(x.lenLocked())
	x.idArena = append(x.idArena, id...)
	x.idOff = append(x.idOff, uint32(len(x.idArena)))
	x.textArena = append(x.textArena, clip(ind.Subject, maxMemberText)...)
	x.textOff = append(x.textOff, uint32(len(x.textArena)))
	x.textArena = append(x.textArena, clip(ind.From, maxMemberText)...)
	x.textOff = append(x.textOff, uint32(len(x.textArena)))
	var date uint32
	if u := ind.Date.Unix(); !ind.Date.IsZero() && u > 0 && u <= math.MaxUint32 {
		date = uint32(u)
	}
	x.date = append(x.date, date)
	x.copies = append(x.copies, copyRec{})
	x.addCopiesLocked(m, copies)
	x.dom = append(x.dom, x.internDomainLocked(ind.SenderDomain()))
	x.ip = append(x.ip, x.internIPLocked(ind.SenderIP))
	x.noteIPDomainLocked(x.ip[m], x.dom[m])
	if ind.From != "" {
		x.noteDomainSenderLocked(x.dom[m], x.hash(keyMessage, strings.ToLower(ind.From)))
	}
	x.body = append(x.body, ind.Body)
	for i := range x.uf {
		x.uf[i] = append(x.uf[i], m)
	}

	start := len(x.keyList)
	for _, k := range keys {
		h := x.hash(k.Kind, k.Value)
		if containsHash(x.keyList[start:], h) {
			continue
		}
		if k.weak {
			x.keyList = append(x.keyList, h|weakBit)
		} else {
			x.keyList = append(x.keyList, h)
		}
		x.addKeyLocked(m, h, k.Key, k.weak)
	}
	x.keyOff = append(x.keyOff, uint32(len(x.keyList)))

	if ind.Body != 0 {
		if d := x.dom[m]; d != 0 && !x.sharedDomainLocked(d) {
			x.similarBodyLocked(m, KeyBodyDomain, uint64(d))
		}
		if ip := x.ip[m]; ip != 0 && !x.sharedIPLocked(ip) {
			x.similarBodyLocked(m, KeyBodyIP, uint64(ip))
		}
	}
	for i := range ind.Files {
		f := &ind.Files[i]
		if f.TLSH == "" || f.SHA256 == "" || f.Inline && strings.HasPrefix(f.MediaType, "image/") {
			continue
		}
		d, err := tlsh.Parse(f.TLSH)
		if err != nil {
			continue
		}
		x.similarFileLocked(m, f, d)
	}
	return true
}

// containsHash reports whether a message's key list holds the key hash h,
// weak or not.
func containsHash(list []uint64, h uint64) bool {
	for _, v := range list {
		if v&^weakBit == h {
			return true
		}
	}
	return false
}

// weakBit marks, in a message's key list, a key the message carries as
// weak evidence (see weakURL). Key hashes never have it set.
const weakBit = 1

// carriesWeakLocked reports whether message m carries the key hash h as
// weak evidence.
func (x *Index) carriesWeakLocked(m int32, h uint64) bool {
	for _, v := range x.keyList[x.keyOff[m]:x.keyOff[m+1]] {
		if v == h|weakBit {
			return true
		}
	}
	return false
}

func (x *Index) addCopiesLocked(m int32, copies []mailbox.Address) {
	for _, a := range copies {
		if a.IsZero() {
			continue
		}
		c := x.packLocked(a)
		if c == x.copies[m] || containsCopy(x.more[m], c) {
			continue
		}
		if x.copies[m] == (copyRec{}) {
			x.copies[m] = c
			continue
		}
		x.more[m] = append(x.more[m], c)
	}
}

// maxMemberText is the most the index keeps of a subject or a From
// address to describe a member.
const maxMemberText = 256

// clip returns s cut to at most n bytes, at a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func containsCopy(list []copyRec, c copyRec) bool {
	for _, o := range list {
		if o == c {
			return true
		}
	}
	return false
}

// hash returns the 64-bit hash of a key.
func (x *Index) hash(kind KeyKind, value string) uint64 {
	return mix64(maphash.String(x.seed, value)+uint64(kind)*0x9E3779B97F4A7C15) &^ weakBit
}

func (x *Index) internDomainLocked(d string) uint32 {
	if d == "" {
		return 0
	}
	if i, ok := x.domIdx[d]; ok {
		return i
	}
	i := uint32(len(x.domNames))
	x.domNames = append(x.domNames, d)
	x.domIdx[d] = i
	return i
}

func (x *Index) internIPLocked(a netip.Addr) uint32 {
	if !a.IsValid() {
		return 0
	}
	if i, ok := x.ipIdx[a]; ok {
		return i
	}
	i := uint32(len(x.ipAddrs))
	x.ipAddrs = append(x.ipAddrs, a)
	x.ipIdx[a] = i
	x.ipDoms = append(x.ipDoms, nil)
	return i
}

// noteIPDomainLocked records that IP ip sent mail as domain d. When the
// IP becomes a shared relay the clusters must be rebuilt without its IP
// pairs.
func (x *Index) noteIPDomainLocked(ip, d uint32) {
	if ip == 0 || x.sharedIP < 0 {
		return
	}
	doms := x.ipDoms[ip]
	if len(doms) >= x.sharedIP || containsU32(doms, d) {
		return
	}
	x.ipDoms[ip] = append(doms, d)
	if len(x.ipDoms[ip]) == x.sharedIP {
		x.dirty = true
	}
}

// noteDomainSenderLocked records that sender domain d sent mail from the
// From address whose hash is from. When the domain becomes a mailbox
// provider the clusters must be rebuilt without its domain pairs.
func (x *Index) noteDomainSenderLocked(d uint32, from uint64) {
	if d == 0 || x.sharedDom < 0 {
		return
	}
	froms := x.domFroms[d]
	if len(froms) >= x.sharedDom || slices.Contains(froms, from) {
		return
	}
	x.domFroms[d] = append(froms, from)
	if len(froms)+1 == x.sharedDom {
		x.dirty = true
	}
}

// sharedDomainLocked reports whether a sender domain is used by so many
// distinct From addresses that it is a mailbox provider: pairing it with
// a subject or body says nothing about a campaign then.
func (x *Index) sharedDomainLocked(d uint32) bool {
	return x.sharedDom > 0 && len(x.domFroms[d]) >= x.sharedDom
}

// sharedIPLocked reports whether an IP sends mail for so many sender
// domains that it is a shared relay (a mail provider, an ESP): pairing
// the IP with a subject or body says nothing about a campaign then.
func (x *Index) sharedIPLocked(ip uint32) bool {
	return x.sharedIP > 0 && len(x.ipDoms[ip]) >= x.sharedIP
}

// addKeyLocked records that message m carries key k (hash h), as weak
// evidence when weak, and joins m to the key's other carriers when the key
// joins them (see joinTargetLocked).
func (x *Index) addKeyLocked(m int32, h uint64, k Key, weak bool) {
	v, ok := x.keys.get(h)
	if !ok {
		x.keys.put(h, uint32(m))
		return
	}
	var info *keyInfo
	if v&shared == 0 {
		s := int32(v)
		x.infos = append(x.infos, x.newInfoLocked(s, h, k))
		x.keys.put(h, shared|uint32(len(x.infos)-1))
		info = &x.infos[len(x.infos)-1]
	} else {
		info = &x.infos[v&^shared]
		if info.first < 0 {
			info.first = m
			info.kind = k.Kind
			info.ip = x.ip[m]
			info.doms = append(info.doms, x.dom[m])
			info.weak = weak
			if !weak {
				info.strong = m
			}
			x.noteSenderLocked(info, m)
			return
		}
	}
	wasActive := x.activeLocked(info)
	x.noteSenderLocked(info, m)
	if len(info.doms) < x.limit(info.kind) && !containsU32(info.doms, x.dom[m]) {
		info.doms = append(info.doms, x.dom[m])
	}
	if weak {
		info.weak = true
	} else if info.strong < 0 {
		info.strong = m
	}
	if t := x.joinTargetLocked(info, weak); t >= 0 && t != m {
		if !x.dirty {
			x.unionLocked(m, t, k.Kind.Class())
		}
	} else if wasActive && !x.activeLocked(info) {
		// The key just became benign: unions made through it must go.
		x.dirty = true
	}
}

// newInfoLocked returns the info of key k (hash h) when a second message
// arrives with it, s being the first.
func (x *Index) newInfoLocked(s int32, h uint64, k Key) keyInfo {
	info := keyInfo{first: s, strong: s, kind: k.Kind, value: k.Value, doms: []uint32{x.dom[s]}, ip: x.ip[s]}
	if x.carriesWeakLocked(s, h) {
		info.strong, info.weak = -1, true
	}
	x.noteSenderLocked(&info, s)
	return info
}

// noteSenderLocked records the From address and subject of message m,
// a carrier of a link key, and marks the key boilerplate once one From
// address has given it x.boilerplate distinct subjects of replies or
// forwards (see [Options.BoilerplateSubjects]). Messages without a From,
// and messages whose subject is not a reply or forward, are not counted.
func (x *Index) noteSenderLocked(info *keyInfo, m int32) {
	if x.boilerplate < 0 || info.boilerplate || info.kind != KeyURL && info.kind != KeyURLTemplate {
		return
	}
	subj := x.textArena[x.textOff[2*m]:x.textOff[2*m+1]]
	from := x.textArena[x.textOff[2*m+1]:x.textOff[2*m+2]]
	if len(subj) == 0 || len(from) == 0 || !replyOrForward(string(subj)) {
		return
	}
	p := uint64(uint32(maphash.Bytes(x.seed, bytes.ToLower(from))))<<32 |
		uint64(uint32(maphash.String(x.seed, NormalizeSubject(string(subj)))))
	n := 1
	for _, q := range info.senders {
		if q == p {
			return
		}
		if q>>32 == p>>32 {
			n++
		}
	}
	if n >= x.boilerplate {
		info.boilerplate, info.senders = true, nil
		return
	}
	if len(info.senders) < max(maxSenderPairs, 2*x.boilerplate) {
		info.senders = append(info.senders, p)
	}
}

// joinTargetLocked returns the message a carrier of the key joins, or -1:
// every carrier joins the first one when the key is marked malicious;
// otherwise carriers of strong evidence join the first such carrier while
// the key is not benign, and weak evidence joins nothing.
func (x *Index) joinTargetLocked(info *keyInfo, weak bool) int32 {
	switch {
	case info.malicious:
		return info.first
	case weak || !x.activeLocked(info):
		return -1
	}
	return info.strong
}

// limit returns the number of distinct sender domains at which a key of
// kind k is benign, or a very large number when it never is.
func (x *Index) limit(k KeyKind) int {
	n := x.benign
	if k == KeyFile {
		n = x.benignFile
	}
	if n < 0 || !k.suppressible() {
		return 1 << 30
	}
	return n
}

func containsU32(list []uint32, v uint32) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// activeLocked reports whether a shared key joins messages: it is not
// benign, or it is marked malicious.
func (x *Index) activeLocked(info *keyInfo) bool {
	if info.malicious {
		return true
	}
	if info.boilerplate {
		return false
	}
	switch info.kind {
	case KeySubjectIP:
		return !x.sharedIPLocked(info.ip)
	case KeySubjectDomain:
		return len(info.doms) == 0 || !x.sharedDomainLocked(info.doms[0])
	}
	return len(info.doms) < x.limit(info.kind)
}

// keyActiveLocked reports whether the key hash h joins messages (a key
// seen once is active: it is not benign).
func (x *Index) keyActiveLocked(h uint64) bool {
	v, ok := x.keys.get(h)
	if !ok || v&shared == 0 {
		return true
	}
	return x.activeLocked(&x.infos[v&^shared])
}

// similarBodyLocked finds messages whose body fingerprint is within the
// Hamming threshold and that share the attribute attr (domain or IP), by
// the four 16-bit bands of the fingerprint.
func (x *Index) similarBodyLocked(m int32, kind KeyKind, attr uint64) {
	fp := x.body[m]
	var buf [1]int32
	var linked [maxSimilarEdges]int32
	nl := 0
	for b := 0; b < bodyBands; b++ {
		band := fp >> (16 * b) & 0xffff
		bh := mix64(attr*0x9E3779B97F4A7C15 ^ uint64(kind)<<56 ^ uint64(b)<<48 ^ band ^ 0xb0d1)
		reps := x.repsLocked(bh, &buf)
		matched := false
		for _, r := range reps {
			d := Hamming(fp, x.body[r])
			if d > x.bodyDist {
				continue
			}
			matched = true
			if nl < len(linked) && !containsI32(linked[:nl], r) {
				linked[nl] = r
				nl++
				x.addEdgeLocked(edge{a: m, b: r, fa: -1, fb: -1, kind: kind, dist: uint16(d)})
			}
		}
		if !matched {
			x.addRepLocked(bh, m)
		}
	}
}

// similarFileLocked finds earlier files of the same media type within the
// TLSH distance threshold. Two lookups propose candidates, and every
// candidate is compared by its exact distance:
//
//   - 2-byte bands of the TLSH body (eight bucket codes each) find near
//     copies at any index size: buckets are sparse (65,536 values a band).
//   - Coarse bands find files further apart, which rarely keep eight codes
//     equal: see coarseBand. Their buckets are few and fill quickly, so
//     each keeps its most recent files: a similar file is found when its
//     earlier relative is among the last few of its kind to land in one
//     of the buckets (the package documentation says what this misses).
func (x *Index) similarFileLocked(m int32, f *File, d tlsh.Digest) {
	fi := int32(len(x.files))
	rec := fileRec{msg: m, media: maphash.String(x.seed, f.MediaType), sha: x.hash(KeyFile, strings.ToLower(f.SHA256)), digest: d}
	x.files = append(x.files, rec)
	x.fileStamp = append(x.fileStamp, 0)
	body, ok := tlshBody(f.TLSH)
	if !ok {
		return
	}
	var buf [1]int32
	var linked [maxSimilarEdges]int32
	nl := 0
	// try compares candidate r and links it when similar; it reports
	// whether r is the same or a similar file.
	seenCopy := false // a file with the same content or digest is indexed
	try := func(r int32) bool {
		o := &x.files[r]
		if o.sha == rec.sha {
			seenCopy = true
			return true // the same file: the exact key links them
		}
		if o.media != rec.media {
			return false
		}
		if o.digest == d {
			// The same digest: its lookup found what this one would.
			seenCopy = true
		}
		if x.fileStamp[r]>>1 == fi+1 {
			// Compared already through another band.
			return x.fileStamp[r]&1 == 1
		}
		dist := tlsh.Diff(d, o.digest)
		if dist > x.fileDist {
			x.fileStamp[r] = (fi + 1) << 1
			return false
		}
		x.fileStamp[r] = (fi+1)<<1 | 1
		if o.msg != m && nl < len(linked) {
			linked[nl] = r
			nl++
			x.addEdgeLocked(edge{a: m, b: o.msg, fa: fi, fb: r, kind: KeySimilarFile, dist: uint16(dist)})
		}
		return true
	}
	for b := 0; b < tlshBands; b++ {
		band := uint64(body[2*b])<<8 | uint64(body[2*b+1])
		bh := mix64(rec.media ^ uint64(b)<<48 ^ band<<16 ^ 0xf11e)
		matched := false
		for _, r := range x.repsLocked(bh, &buf) {
			if try(r) {
				matched = true
			}
		}
		if !matched {
			x.addRepLocked(bh, fi)
		}
	}
	if seenCopy {
		return
	}
	codes := tlshCodes(&body)
	// The buckets are found first and read after: reading the file of
	// every entry touches each cache line of a bucket, so the reads of
	// all the buckets' lines do not wait for one another (nearly every
	// one misses the cache).
	dir := x.coarseDirLocked(rec.media)
	var buckets [coarseBands]uint32
	var fill [coarseBands]int32
	var files [coarseBands][coarseReps]int32
	for b := range buckets {
		v := coarseBand(&codes, b)
		var slot *uint32
		if dir != nil {
			slot = &dir[b<<coarseBits|int(v)]
		} else {
			slot = x.coarseIdx.ref(mix64(rec.media ^ uint64(b)<<48 ^ uint64(v)<<16 ^ 0xc0a5))
		}
		if *slot == 0 {
			x.coarse = append(x.coarse, coarseBucket{})
			*slot = uint32(len(x.coarse))
		}
		buckets[b] = *slot - 1
	}
	for b, i := range buckets {
		cb := &x.coarse[i]
		fill[b] = min(cb.n, coarseReps)
		for j := range cb.entries {
			files[b][j] = cb.entries[j].file
		}
	}
	for b, i := range buckets {
		cb := &x.coarse[i]
		for j := range fill[b] {
			// The bucket keeps the digests: most candidates are told
			// apart by their bodies without reading their records.
			if tlsh.BodyDiff(&cb.entries[j].digest, &d) <= x.fileDist {
				try(files[b][j])
			}
		}
		cb.entries[cb.n%coarseReps] = coarseEntry{file: fi, digest: d}
		cb.n++
	}
}

// coarseDirLocked returns the coarse bucket directory of the media type
// whose hash is media, making one while fewer than coarseDirs exist, or
// nil when the media type has none.
func (x *Index) coarseDirLocked(media uint64) []uint32 {
	for i, h := range x.coarseMedia {
		if h == media {
			return x.coarseDir[i]
		}
	}
	if len(x.coarseMedia) == coarseDirs {
		return nil
	}
	dir := make([]uint32, coarseBands<<coarseBits)
	x.coarseMedia = append(x.coarseMedia, media)
	x.coarseDir = append(x.coarseDir, dir)
	return dir
}

// coarseBucket holds the most recent files of a coarse TLSH bucket in a
// ring: entries[n%coarseReps] is the next to be replaced.
type coarseBucket struct {
	entries [coarseReps]coarseEntry
	n       int32
}

type coarseEntry struct {
	file   int32
	digest tlsh.Digest
}

// tlshCodes returns the 128 two-bit bucket codes of a TLSH body.
func tlshCodes(body *[32]byte) [128]byte {
	var c [128]byte
	for i := range c {
		c[i] = body[i/4] >> (2 * (i % 4)) & 3
	}
	return c
}

// coarseSample is, for each coarse band, the bucket codes it samples and
// the threshold each code is compared with.
var coarseSample = func() (s [coarseBands][coarseBits]struct{ bucket, threshold uint8 }) {
	r := rand.New(rand.NewPCG(0x7115, 0xc0a5e))
	for b := range s {
		for i := range s[b] {
			s[b][i].bucket = uint8(r.IntN(128))
			s[b][i].threshold = uint8(1 + r.IntN(3))
		}
	}
	return s
}()

// coarseBand returns band b of the coarse projection of a TLSH body: for
// each of coarseBits sampled bucket codes (0-3, the quartile of the
// bucket's count), one bit saying whether it reaches a threshold of 1, 2
// or 3. Files at TLSH distance 60-100 differ in half or more of their 128
// codes, almost always by one quartile, so hardly any band of eight exact
// codes survives; a one-step change flips a thresholded bit only when it
// crosses that bit's threshold, so about one bucket change in three flips
// a bit and some band of nine bits usually survives (bit-sampling LSH).
func coarseBand(codes *[128]byte, b int) uint16 {
	var v uint16
	for i, s := range coarseSample[b] {
		// 1 when the code reaches the threshold, without a branch: the
		// outcome is a coin toss the CPU cannot predict.
		v |= uint16((int(s.threshold)-1-int(codes[s.bucket]))>>8&1) << i
	}
	return v
}

// tlshBody returns the 32 body bytes of a TLSH digest string, and false
// when the string is not one.
func tlshBody(s string) (body [32]byte, ok bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "T1"), "t1")
	if len(s) != 70 {
		return body, false
	}
	for i := range body {
		body[i] = hexVal(s[6+2*i])<<4 | hexVal(s[7+2*i])
	}
	return body, true
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

func containsI32(list []int32, v int32) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// repsLocked returns the representatives of an LSH bucket; one is
// returned in buf without allocating.
func (x *Index) repsLocked(bh uint64, buf *[1]int32) []int32 {
	v, ok := x.bands.get(bh)
	if !ok {
		return nil
	}
	if v&shared == 0 {
		buf[0] = int32(v)
		return buf[:]
	}
	return x.reps[v&^shared]
}

// addRepLocked adds r to an LSH bucket unless it is full.
func (x *Index) addRepLocked(bh uint64, r int32) {
	v, ok := x.bands.get(bh)
	switch {
	case !ok:
		x.bands.put(bh, uint32(r))
	case v&shared == 0:
		x.reps = append(x.reps, []int32{int32(v), r})
		x.bands.put(bh, shared|uint32(len(x.reps)-1))
	default:
		if l := &x.reps[v&^shared]; len(*l) < maxReps {
			*l = append(*l, r)
		}
	}
}

func (x *Index) addEdgeLocked(e edge) {
	x.edges = append(x.edges, e)
	if !x.dirty && x.edgeActiveLocked(&e) {
		x.unionLocked(e.a, e.b, e.kind.Class())
	}
}

// edgeActiveLocked reports whether a similarity link joins its messages:
// a similar-file link does not when either file is benign, a body+IP link
// not when the IP is a shared relay, a body+domain link not when the
// domain is a mailbox provider.
func (x *Index) edgeActiveLocked(e *edge) bool {
	switch e.kind {
	case KeySimilarFile:
		return x.keyActiveLocked(x.files[e.fa].sha) && x.keyActiveLocked(x.files[e.fb].sha)
	case KeyBodyIP:
		return !x.sharedIPLocked(x.ip[e.a])
	case KeyBodyDomain:
		return !x.sharedDomainLocked(x.dom[e.a])
	}
	return true
}

// MarkMalicious gives k a malicious verdict: it joins messages even when
// benign suppression would stop it. Marking a key no message carries yet
// is allowed; it applies when one arrives.
func (x *Index) MarkMalicious(k Key) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.recordVerdictLocked(k)
	h := x.hash(k.Kind, k.Value)
	v, ok := x.keys.get(h)
	switch {
	case !ok:
		x.infos = append(x.infos, keyInfo{first: -1, strong: -1, kind: k.Kind, malicious: true, value: k.Value})
		x.keys.put(h, shared|uint32(len(x.infos)-1))
	case v&shared == 0:
		info := x.newInfoLocked(int32(v), h, k)
		info.malicious = true
		x.infos = append(x.infos, info)
		x.keys.put(h, shared|uint32(len(x.infos)-1))
	default:
		info := &x.infos[v&^shared]
		if !info.malicious {
			wasActive := x.activeLocked(info)
			info.malicious = true
			if !wasActive || info.weak {
				x.dirty = true
			}
		}
	}
}

// find returns the root of m in union-find u, halving paths.
func find(u []int32, m int32) int32 {
	for u[m] != m {
		u[m] = u[u[m]]
		m = u[m]
	}
	return m
}

// unionLocked joins a and b in the structure of their link class and in
// the campaign structure. The smaller index becomes the root, so the root
// of a cluster is its earliest message.
func (x *Index) unionLocked(a, b int32, class Kind) {
	for _, u := range [...][]int32{x.uf[class.ufIndex()], x.uf[3]} {
		ra, rb := find(u, a), find(u, b)
		if ra == rb {
			continue
		}
		if ra < rb {
			u[rb] = ra
		} else {
			u[ra] = rb
		}
	}
}

// unionFindLocked returns the union-find structure of kind: a kept one for
// a single kind and for the campaign, else one built for the combination
// from the same keys and links (a structure of the campaign would join
// messages through the kinds left out).
func (x *Index) unionFindLocked(kind Kind) []int32 {
	if kind.ufIndex() != 3 || kind == KindCampaign {
		return x.uf[kind.ufIndex()]
	}
	n := x.lenLocked()
	u := make([]int32, n)
	for m := range u {
		u[m] = int32(m)
	}
	union := func(a, b int32) {
		ra, rb := find(u, a), find(u, b)
		switch {
		case ra < rb:
			u[rb] = ra
		case rb < ra:
			u[ra] = rb
		}
	}
	for m := 0; m < n; m++ {
		for _, h := range x.keyList[x.keyOff[m]:x.keyOff[m+1]] {
			v, _ := x.keys.get(h &^ weakBit)
			if v&shared == 0 {
				continue
			}
			info := &x.infos[v&^shared]
			if t := x.joinTargetLocked(info, h&weakBit != 0); info.kind.Class()&kind != 0 && t >= 0 && t != int32(m) {
				union(int32(m), t)
			}
		}
	}
	for i := range x.edges {
		if e := &x.edges[i]; e.kind.Class()&kind != 0 && x.edgeActiveLocked(e) {
			union(e.a, e.b)
		}
	}
	return u
}

// rebuildLocked recomputes the union-find structures from the keys and
// links when a key's benign state changed since they were built.
func (x *Index) rebuildLocked() {
	if !x.dirty {
		return
	}
	for i := range x.uf {
		for m := range x.uf[i] {
			x.uf[i][m] = int32(m)
		}
	}
	x.dirty = false
	for m := 0; m < x.lenLocked(); m++ {
		for _, h := range x.keyList[x.keyOff[m]:x.keyOff[m+1]] {
			v, _ := x.keys.get(h &^ weakBit)
			if v&shared == 0 {
				continue
			}
			info := &x.infos[v&^shared]
			if t := x.joinTargetLocked(info, h&weakBit != 0); t >= 0 && t != int32(m) {
				x.unionLocked(int32(m), t, info.kind.Class())
			}
		}
	}
	for i := range x.edges {
		if x.edgeActiveLocked(&x.edges[i]) {
			x.unionLocked(x.edges[i].a, x.edges[i].b, x.edges[i].kind.Class())
		}
	}
}
