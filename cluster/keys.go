package cluster

import (
	"fmt"
	"strings"
)

// Kind is a kind of cluster, after the cluster kinds of Defender's
// automated investigation: which indicators may link its members. Kinds
// combine as bits; [KindCampaign] allows every link.
type Kind uint8

// Cluster kinds.
const (
	// KindFile links messages that carry the same file (SHA-256) or a
	// similar file (same media type, TLSH within the distance threshold):
	// Defender's "similar files".
	KindFile Kind = 1 << iota
	// KindURL links messages that carry the same canonical URL or the same
	// specific URL template: Defender's "similar URLs".
	KindURL
	// KindSimilarity links messages that share two attributes at once:
	// a similar body and the sender domain or IP, or the subject and the
	// sender domain or IP: Defender's "similarity" clusters.
	KindSimilarity
	// KindCampaign allows every link: the campaign a seed belongs to.
	KindCampaign = KindFile | KindURL | KindSimilarity
)

// String names the kind as Defender's AIR settings do.
func (k Kind) String() string {
	switch k {
	case KindFile:
		return "similar files"
	case KindURL:
		return "similar URLs"
	case KindSimilarity:
		return "similarity"
	case KindCampaign:
		return "campaign"
	}
	var parts []string
	for _, c := range []Kind{KindFile, KindURL, KindSimilarity} {
		if k&c != 0 {
			parts = append(parts, c.String())
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// ufIndex returns which union-find structure serves the kind: 0..2 for
// the single kinds, 3 for the campaign. Other combinations are served by
// the campaign structure and filtered while walking.
func (k Kind) ufIndex() int {
	switch k {
	case KindFile:
		return 0
	case KindURL:
		return 1
	case KindSimilarity:
		return 2
	}
	return 3
}

// KeyKind is the kind of indicator that links two messages.
type KeyKind uint8

// Key kinds. The exact ones (file, URL, template, subject pairs) are
// joined by equality; the similar ones (similar file, body pairs) by a
// distance.
const (
	KeyFile          KeyKind = iota + 1 // same attachment SHA-256
	KeySimilarFile                      // attachment within the TLSH distance
	KeyURL                              // same canonical URL
	KeyURLTemplate                      // same host and path template
	KeySubjectDomain                    // same normalised subject and sender domain
	KeySubjectIP                        // same normalised subject and sender IP
	KeyBodyDomain                       // similar body and same sender domain
	KeyBodyIP                           // similar body and same sender IP
	keyMessage                          // internal: message id
)

// Class returns the cluster kind the key links in.
func (k KeyKind) Class() Kind {
	switch k {
	case KeyFile, KeySimilarFile:
		return KindFile
	case KeyURL, KeyURLTemplate:
		return KindURL
	case KeySubjectDomain, KeySubjectIP, KeyBodyDomain, KeyBodyIP:
		return KindSimilarity
	}
	return 0
}

// String names the key kind.
func (k KeyKind) String() string {
	switch k {
	case KeyFile:
		return "file"
	case KeySimilarFile:
		return "similar file"
	case KeyURL:
		return "URL"
	case KeyURLTemplate:
		return "URL template"
	case KeySubjectDomain:
		return "subject+sender domain"
	case KeySubjectIP:
		return "subject+sender IP"
	case KeyBodyDomain:
		return "body+sender domain"
	case KeyBodyIP:
		return "body+sender IP"
	case keyMessage:
		return "message"
	}
	return fmt.Sprintf("KeyKind(%d)", k)
}

// suppressible reports whether a key kind is subject to benign
// suppression: keys that can appear in mail from anyone (files and links).
// Pair keys contain the sender domain or IP themselves.
func (k KeyKind) suppressible() bool {
	return k == KeyFile || k == KeyURL || k == KeyURLTemplate
}

// Key is one indicator: its kind and its value in canonical form (a
// lower-case SHA-256, a canonical URL, "host/template", or for pair keys
// the normalised subject and the domain or IP joined by " | ").
type Key struct {
	// Kind is the kind of indicator; zero for no key (a message seed, and
	// the link of the seed message).
	Kind KeyKind
	// Value is the indicator in canonical form; for a similar file or
	// body link, as described in [Link.Key].
	Value string
}

// String describes the key, e.g. `URL http://evil.example/login`.
func (k Key) String() string { return k.Kind.String() + " " + k.Value }

// FileKey returns the key of an attachment by its hex SHA-256.
func FileKey(sha256 string) Key {
	return Key{Kind: KeyFile, Value: strings.ToLower(strings.TrimSpace(sha256))}
}

// URLKey returns the key of a link: unwrapped and canonicalised as
// [Extract] does.
func URLKey(raw string) (Key, error) {
	u, err := NewURL(raw)
	if err != nil {
		return Key{}, fmt.Errorf("cluster: URL key: %w", err)
	}
	return Key{Kind: KeyURL, Value: u.Canonical}, nil
}

// TemplateKey returns the URL template key of a link, or an error when the
// link has no template specific enough to join messages.
func TemplateKey(raw string) (Key, error) {
	u, err := NewURL(raw)
	if err != nil {
		return Key{}, fmt.Errorf("cluster: template key: %w", err)
	}
	if u.Template == "" {
		return Key{}, fmt.Errorf("cluster: %q has no specific template", raw)
	}
	return Key{Kind: KeyURLTemplate, Value: u.Template}, nil
}

// pairValue joins the parts of a pair key.
func pairValue(a, b string) string { return a + " | " + b }

// exactKey is an exact key of one message; weak when the message's
// carrying it says little by itself (see weakURL).
type exactKey struct {
	Key
	weak bool
}

// emptySHA256 is the SHA-256 of no bytes: an empty attachment is the same
// file in every message that has one and says nothing of a campaign.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// minFileSize is the smallest attachment whose SHA-256 joins messages. A
// part of a few bytes (a line break, a stray space, a truncated part) is
// the same file in mail of unrelated senders by accident, as an empty one
// is, and nothing a campaign makes is that short: the smallest image that
// shows anything is larger.
const minFileSize = 32

// fileKeyOf returns the exact key of an attachment, or false when the
// attachment is too short to say anything (see minFileSize). A file whose
// size is unknown (0 with a SHA-256 of some content) is kept.
func fileKeyOf(f *File) (Key, bool) {
	k := FileKey(f.SHA256)
	if k.Value == "" || k.Value == emptySHA256 || f.Size > 0 && f.Size < minFileSize {
		return k, false
	}
	return k, true
}

// exactKeys returns the exact keys of a message.
func exactKeys(ind *Indicators, subject string) []exactKey {
	keys := make([]exactKey, 0, 2*len(ind.URLs)+len(ind.Files)+2)
	for i := range ind.Files {
		if k, ok := fileKeyOf(&ind.Files[i]); ok {
			keys = append(keys, exactKey{Key: k})
		}
	}
	sender := ind.SenderDomain()
	for i := range ind.URLs {
		u := &ind.URLs[i]
		weak := weakURL(u, sender, ind.EnvelopeDomain)
		if u.Canonical != "" {
			keys = append(keys, exactKey{Key: Key{Kind: KeyURL, Value: u.Canonical}, weak: weak})
		}
		if u.Template != "" {
			keys = append(keys, exactKey{Key: Key{Kind: KeyURLTemplate, Value: u.Template}, weak: weak})
		}
	}
	if subject != "" {
		if sender != "" {
			keys = append(keys, exactKey{Key: Key{Kind: KeySubjectDomain, Value: pairValue(subject, sender)}})
		}
		if ind.SenderIP.IsValid() {
			keys = append(keys, exactKey{Key: Key{Kind: KeySubjectIP, Value: pairValue(subject, ind.SenderIP.String())}})
		}
	}
	return keys
}

// weakURL reports whether a link is weak evidence in a message from the
// sender domains given: a link to the domain the message claims to come
// from (phish that spoof a brand link to the brand's real site beside the
// lure, and every message of one sender links to its own site), or a site
// root without path or query ("https://docs.google.com/", a brand's home
// page, a PDF producer's address). Such a link supports nothing by itself:
// it joins messages only once marked malicious or used as a seed.
func weakURL(u *URL, domains ...string) bool {
	canonHost, rest := splitHost(u.Canonical)
	host := u.Host
	if host == "" {
		host = canonHost
	}
	for _, d := range domains {
		if n := len(host) - len(d); d != "" && n >= 0 && host[n:] == d && (n == 0 || host[n-1] == '.') {
			return true
		}
	}
	// A bare site root: no path beyond "/" and no query.
	return canonHost != "" && (rest == "" || rest == "/")
}

// splitHost splits a canonical URL after its scheme into the host and
// what follows it (path, query and fragment); host is "" when canon has
// no scheme.
func splitHost(canon string) (host, rest string) {
	i := strings.Index(canon, "://")
	if i < 0 {
		return "", canon
	}
	h := canon[i+3:]
	for j := 0; j < len(h); j++ {
		if c := h[j]; c == '/' || c == '?' || c == '#' {
			return h[:j], h[j:]
		}
	}
	return h, ""
}

// specificSubject reports whether a normalised subject says enough to
// join messages together with a sender: at least 8 characters and two
// words.
func specificSubject(s string) bool {
	return len(s) >= 8 && strings.Contains(s, " ")
}
