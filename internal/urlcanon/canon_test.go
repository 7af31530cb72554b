package urlcanon

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// safeBrowsingExamples are the canonicalisation examples published with
// the Safe Browsing API v4 ("URLs and Hashing").
var safeBrowsingExamples = []struct{ in, want string }{
	{"http://host/%25%32%35", "http://host/%25"},
	{"http://host/%25%32%35%25%32%35", "http://host/%25%25"},
	{"http://host/%2525252525252525", "http://host/%25"},
	{"http://host/asdf%25%32%35asd", "http://host/asdf%25asd"},
	{"http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"},
	{"http://www.google.com/", "http://www.google.com/"},
	{"http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/", "http://168.188.99.26/.secure/www.ebay.com/"},
	{"http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/", "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/"},
	{"http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B", "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"},
	{"http://3279880203/blah", "http://195.127.0.11/blah"},
	{"http://www.google.com/blah/..", "http://www.google.com/"},
	{"www.google.com/", "http://www.google.com/"},
	{"www.google.com", "http://www.google.com/"},
	{"http://www.evil.com/blah#frag", "http://www.evil.com/blah"},
	{"http://www.GOOgle.com/", "http://www.google.com/"},
	{"http://www.google.com.../", "http://www.google.com/"},
	{"http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"},
	{"http://www.google.com/q?", "http://www.google.com/q?"},
	{"http://www.google.com/q?r?", "http://www.google.com/q?r?"},
	{"http://www.google.com/q?r?s", "http://www.google.com/q?r?s"},
	{"http://evil.com/foo#bar#baz", "http://evil.com/foo"},
	{"http://evil.com/foo;", "http://evil.com/foo;"},
	{"http://evil.com/foo?bar;", "http://evil.com/foo?bar;"},
	{"http://\x01\x80.com/", "http://%01%80.com/"},
	{"http://notrailingslash.com", "http://notrailingslash.com/"},
	{"http://www.gotaport.com:1234/", "http://www.gotaport.com/"},
	{"  http://www.google.com/  ", "http://www.google.com/"},
	{"http:// leadingspace.com/", "http://%20leadingspace.com/"},
	{"http://%20leadingspace.com/", "http://%20leadingspace.com/"},
	{"%20leadingspace.com/", "http://%20leadingspace.com/"},
	{"https://www.securesite.com/", "https://www.securesite.com/"},
	{"http://host.com/ab%23cd", "http://host.com/ab%23cd"},
	{"http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"},
}

func TestCanonicalizeSafeBrowsingExamples(t *testing.T) {
	for _, tc := range safeBrowsingExamples {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Canonicalize(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := Canonicalize(got)
			require.NoError(t, err)
			assert.Equal(t, got, again, "canonical form must be a fixed point")
		})
	}
}

func TestCanonicalizeMore(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"octal IP", "http://0300.0250.0.01/x", "http://192.168.0.1/x"},
		{"hex IP", "http://0xc0.0xa8.0x00.0x01/", "http://192.168.0.1/"},
		{"hex dword IP", "http://0xC0A80001/", "http://192.168.0.1/"},
		{"three-part IP", "http://192.168.257/", "http://192.168.1.1/"},
		{"not an IP: too big", "http://256.1.1.1/", "http://256.1.1.1/"},
		{"userinfo dropped", "http://user:pw@Example.COM:8080/a", "http://example.com/a"},
		{"dot segments", "http://a.com/a/./b/../c//d/", "http://a.com/a/c/d/"},
		{"dot dot above root", "http://a.com/../../x", "http://a.com/x"},
		{"escaped question mark in path", "http://a.com/a%3Fb?c=d", "http://a.com/a%3Fb?c=d"},
		{"escaped slash in host", "http://a%2Fb.com/", "http://a%2Fb.com/"},
		{"IDN host", "http://bücher.example/", "http://xn--bcher-kva.example/"},
		{"IPv6", "http://[2001:DB8::1]:443/x", "http://[2001:db8::1]/x"},
		{"protocol-relative", "//cdn.example.com/x.js", "http://cdn.example.com/x.js"},
		{"host with port, no scheme", "example.com:8080/x", "http://example.com/x"},
		{"query unescaped and escaped", "http://a.com/?x=%20%41", "http://a.com/?x=%20A"},
		{"https kept", "HTTPS://A.com", "https://a.com/"},
		{"ftp kept", "ftp://files.example.org/pub", "ftp://files.example.org/pub"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonicalize(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"mailto", "mailto:a@b.com", ErrNotWeb},
		{"javascript", "javascript:alert(1)", ErrNotWeb},
		{"cid", "cid:logo@01D", ErrNotWeb},
		{"file scheme", "file:///etc/passwd", ErrNotWeb},
		{"empty", "", ErrNoHost},
		{"dots only", "http://.../", ErrNoHost},
		{"too long", "http://a.com/" + string(make([]byte, MaxLen)), ErrTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Canonicalize(tc.in)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestRegistrableDomain(t *testing.T) {
	tests := []struct{ host, want string }{
		{"a.b.example.co.uk", "example.co.uk"},
		{"www.example.com", "example.com"},
		{"example.com", "example.com"},
		{"foo.blogspot.com", "foo.blogspot.com"},
		{"192.168.0.1", "192.168.0.1"},
		{"localhost", "localhost"},
		{"co.uk", "co.uk"},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			assert.Equal(t, tc.want, RegistrableDomain(tc.host))
		})
	}
}

func TestUnwrap(t *testing.T) {
	sophos := "https://us-west-2.protection.sophos.com?d=example.com&u=" +
		base64.StdEncoding.EncodeToString([]byte("https://evil.example.net/login?id=7")) + "&i=abc&t=def"
	tests := []struct {
		name, in, want string
		layers         int
	}{
		{"safe links", "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example.com%2Fa%3Fb%3Dc&data=04%7C01%7C&sdata=x&reserved=0",
			"https://evil.example.com/a?b=c", 1},
		{"proofpoint v1", "https://urldefense.proofpoint.com/v1/url?u=http%3A%2F%2Fwww.example.com%2Fx&k=abc%3D%0A&r=def",
			"http://www.example.com/x", 1},
		{"proofpoint v2", "https://urldefense.proofpoint.com/v2/url?u=http-3A__www.example.com_path-3Fa-3D1&d=DwMF&c=xyz&r=abc&m=def&s=ghi&e=",
			"http://www.example.com/path?a=1", 1},
		{"proofpoint v3 single star", "https://urldefense.com/v3/__https://google.com:443/search?q=a*test&gs=ps__;Kw!-612Flbf0JvQ3kNJkRi5Jg!Ue6tQudNKaShHg93trcdjqDP8se2ySE65jyCIe2K1D_uNjZ1Lnf6YLQERujngZv9UWf66ujQIQ$",
			"https://google.com:443/search?q=a+test&gs=ps", 1},
		{"proofpoint v3 run", "https://urldefense.com/v3/__https://example.com/a**Ab__;JCU!!token$",
			"https://example.com/a$%b", 1},
		{"proofpoint v3 no substitutions", "https://urldefense.com/v3/__https://example.com/plain__;!!abc!def$",
			"https://example.com/plain", 1},
		{"google redirect", "https://www.google.com/url?q=https://evil.example.org/p&sa=D&ust=1",
			"https://evil.example.org/p", 1},
		{"barracuda", "https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fevil.example.org%2fx&c=E,1,abc&typo=1",
			"https://evil.example.org/x", 1},
		{"cisco", "https://secure-web.cisco.com/1AbCdEf-GhIjK/https%3A%2F%2Fevil.example.org%2Fpay",
			"https://evil.example.org/pay", 1},
		{"trend micro", "https://imsva91-ctp.trendmicro.com:443/wis/clicktime/v1/query?url=https%3a%2f%2fevil.example.org&umid=1-2-3&auth=abc",
			"https://evil.example.org", 1},
		{"sophos", sophos, "https://evil.example.net/login?id=7", 1},
		{"nested safe links around proofpoint v2", "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.proofpoint.com%2Fv2%2Furl%3Fu%3Dhttp-3A__evil.example.com_a%26d%3DDwMF&data=1",
			"http://evil.example.com/a", 2},
		{"mimecast kept", "https://protect-eu.mimecast.com/s/AbCdEfGh?domain=example.com",
			"https://protect-eu.mimecast.com/s/AbCdEfGh?domain=example.com", 0},
		{"plain link kept", "https://example.com/a?url=https://other.example", "https://example.com/a?url=https://other.example", 0},
		{"google search kept", "https://www.google.com/search?q=cats", "https://www.google.com/search?q=cats", 0},
		// A wrapper carries a link: a parameter that is not one leaves the
		// wrapper as it is, and a stray "%" in the link does not keep it
		// wrapped (fuzz finding: the canonical form, escaping the "%",
		// unwrapped where the link did not).
		{"safe links around a non-link kept", "http://0.safelinks.protection.outlook.com/?url=%25", "http://0.safelinks.protection.outlook.com/?url=%25", 0},
		{"safe links around a stray percent kept", "http://0.safelinks.protection.outlook.com/?url=%", "http://0.safelinks.protection.outlook.com/?url=%", 0},
		{"safe links with a stray percent in the link", "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example.com%2F100%&data=1",
			"https://evil.example.com/100%", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n := Unwrap(tc.in)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.layers, n)
		})
	}
}

func TestClean(t *testing.T) {
	u, n, err := Clean("https://nam02.safelinks.protection.outlook.com/?url=HTTP%3A%2F%2FEvil.Example.COM%3A8443%2Fa%2F..%2Fb%23frag&data=1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, "http://evil.example.com/b", u.String())
	assert.Equal(t, "example.com", u.RegistrableDomain())
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		name, path, want string
		vars             int
	}{
		{"root", "/", "/", 0},
		{"literal", "/login/index.html", "/login/index.html", 0},
		{"number", "/track/12345/open", "/track/{num}/open", 1},
		{"hex with extension", "/inv/8f3a9c0d11.php", "/inv/{hex}.php", 1},
		{"uuid", "/d/3f2504e0-4f89-11d3-9a0c-0305e82c3301/", "/d/{uuid}/", 1},
		{"email", "/u/alice@example.com/reset", "/u/{email}/reset", 1},
		{"base64 token", "/r/aGVsbG8gd29ybGQ9PQ", "/r/{b64}", 1},
		{"words stay", "/account-verification/secure", "/account-verification/secure", 0},
		{"camel case word stays", "/MyAccount/LoginPage", "/MyAccount/LoginPage", 0},
		{"several", "/c/123/9f86d081884c7d65/x", "/c/{num}/{hex}/x", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, vars := Template(tc.path)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.vars, vars)
		})
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, tc := range safeBrowsingExamples {
		f.Add(tc.in)
	}
	f.Add("https://urldefense.com/v3/__https://example.com/a**Ab__;JCU!!token$")
	f.Add("https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example.com%2Fa%3Fb%3Dc")
	f.Add("http://[::1]:80/%2e%2e/x")
	f.Fuzz(func(t *testing.T, in string) {
		u, _, err := Clean(in)
		if err != nil {
			return
		}
		c := u.String()
		again, err := Canonicalize(c)
		if err != nil {
			t.Fatalf("canonical %q of %q does not canonicalise: %v", c, in, err)
		}
		if again != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, c, again)
		}
		_, _ = Template(u.Path)
		_ = u.RegistrableDomain()
	})
}

// Links on an attacker's host never take the key of the site they name:
// look-alike rewriter hosts are not unwrapped, and a backslash ends the
// authority as browsers read it.
func TestAttackerLinksKeepTheirHost(t *testing.T) {
	for _, tc := range []struct{ raw, host string }{
		{"https://google.attacker.example/url?q=https://www.paypal.com/", "google.attacker.example"},
		{"https://urldefense.attacker.example/v2/url?u=https-3A__www.paypal.com_", "urldefense.attacker.example"},
		{"https://urldefense.attacker.example/v1/url?u=https://www.paypal.com/", "urldefense.attacker.example"},
		{"https://evil.example\\@www.paypal.com/", "evil.example"},
		{"https://evil.example\\path", "evil.example"},
	} {
		u, _, err := Clean(tc.raw)
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.host, u.Host, tc.raw)
	}
	// The real rewriters are still unwrapped.
	for _, raw := range []string{
		"https://www.google.co.uk/url?q=https://www.paypal.com/",
		"https://www.google.com/url?q=https://www.paypal.com/",
		"https://urldefense.com/v3/__https://www.paypal.com/__;!!abc$",
	} {
		u, n, err := Clean(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, "www.paypal.com", u.Host, raw)
		assert.Equal(t, 1, n, raw)
	}
}
