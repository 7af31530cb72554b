package mailbox

import (
	"net/url"
	"strings"

	"github.com/eradicate-dev/eradicate/internal/urlcanon"
)

// MaxURLs caps the URLs [Parse] collects from one message. Further URLs
// are ignored and the cap is reported as a problem of the message.
const MaxURLs = 10000

// NormalizeURL returns the identity of a URL: the form in which
// [Criteria] compares the URLs of a message with its own, and the name
// the cluster package gives a link (cluster.URL.Canonical), so that a hunt
// on a cluster's URL finds every copy the cluster holds.
//
// A web link (http, https, ftp, or a name starting with "www.") is first
// unwrapped from the link rewriters of mail security gateways (Microsoft
// Safe Links, Proofpoint URL Defense, Google, Barracuda, Cisco, Trend
// Micro and Sophos redirects, nested), then put into the canonical form of
// the Google Safe Browsing API: scheme and host lower-cased, numeric hosts
// read as IPv4, IDNA hosts in Punycode, port, user information and
// fragment dropped, the path's escapes and dot segments resolved and the
// path and query escaped again in one way. So the Safe Links link
// "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2FEvil.example%2F.%2Fa"
// and "HTTPS://evil.example:443/a#x" both give "https://evil.example/a".
// NormalizeURL is idempotent: its result is its own normalisation.
//
// Anything else (mailto:, a string that does not read as a URL, a link
// longer than 16 KiB) is returned trimmed of surrounding white space,
// with the scheme and host lower-cased when it parses as a URL.
func NormalizeURL(u string) string {
	u = strings.TrimSpace(u)
	if hasWebScheme(u) {
		if c, _, err := urlcanon.Clean(u); err == nil {
			return c.String()
		}
	}
	return comparisonForm(u)
}

// hasWebScheme reports whether u starts with http:, https:, ftp: (any
// case) or www.; those are the links NormalizeURL canonicalises.
func hasWebScheme(u string) bool {
	for _, p := range [...]string{"http:", "https:", "ftp:", "www."} {
		if len(u) > len(p) && strings.EqualFold(u[:len(p)], p) {
			return true
		}
	}
	return false
}

// comparisonForm is the form NormalizeURL gives a string that is not a
// web URL: scheme and host lower-cased, default ports, empty ports and
// the fragment dropped, an empty path written as "/"; a string that does
// not parse as a URL is returned as it is.
func comparisonForm(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Opaque != "" {
		return u
	}
	p.Scheme = strings.ToLower(p.Scheme)
	host := strings.ToLower(p.Host)
	// Drop default and empty ports until none is left: removing one can
	// uncover another in a malformed host (":21:").
	for {
		h, port, ok := cutPort(host)
		if !ok || !(port == "" || port == "80" && p.Scheme == "http" ||
			port == "443" && p.Scheme == "https" || port == "21" && p.Scheme == "ftp") {
			break
		}
		host = strings.TrimRight(h, ":")
	}
	p.Host = host
	p.Fragment = ""
	p.RawFragment = ""
	if p.Path == "" && p.RawPath == "" && p.Host != "" {
		p.Path = "/"
	}
	// Dropping the fragment can leave white space at the end ("a:? #").
	out := strings.TrimSpace(p.String())
	if hasWebScheme(out) {
		// The comparison form of a web URL that does not canonicalise
		// must not read as one that does, or NormalizeURL would not be
		// idempotent.
		return u
	}
	return out
}

// cutPort splits "host:port"; ok is false when host has no port. IPv6
// literals in brackets are handled.
func cutPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.LastIndexByte(hostport, ']') > i {
		return hostport, "", false
	}
	return hostport[:i], hostport[i+1:], true
}
