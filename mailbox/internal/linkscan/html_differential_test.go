package linkscan_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/eradicate-dev/eradicate/mailbox/internal/linkscan"
	"github.com/eradicate-dev/eradicate/mailbox/internal/linkscan/linkscantest"
)

// trickyHTML are documents that exercise the corners of HTML tokenization
// where a scanner could part from the tokenizer.
var trickyHTML = []string{
	``,
	`<`,
	`<<`,
	`<>`,
	`< a href="http://a.example/">x</a>`,
	`<>http://text.example/`,
	`</`,
	`</>http://after.example/`,
	`</ http://bogus.example/>http://after.example/`,
	`</3 http://bogus.example/`,
	`<a href="http://a.example/">`,
	`<A HREF="http://upper.example/">x</A>`,
	`<a title="x>y" href="http://q.example/">`,
	`<a title='x>"y' href='http://q2.example/'>`,
	`<a title=x>y href="http://notattr.example/">`,
	`<a href="http://unterminated.example/`,
	`<a href='http://unterminated.example/`,
	`<a href=http://unquoted.example/`,
	`<a href=http://unquoted.example/>http://text.example/`,
	`<a href=http://unquoted.example/ >`,
	`<a href =  "http://spaced.example/" >`,
	`<a href>http://novalue.example/`,
	`<a href=>http://empty.example/`,
	`<a href= >http://empty2.example/`,
	`<a href="http://one.example/" href="http://two.example/">`,
	`<a href="http://dup.example/" HREF="http://dup.example/">`,
	`<a/href="http://slash.example/">`,
	`<a
href="http://newline.example/">`,
	`<a	href="http://tab.example/">`,
	"<a\fhref=\"http://ff.example/\">",
	"<a\vhref=\"http://vt.example/\">",
	`<a href="http://self.example/"/>`,
	`<a href=http://self2.example//>`,
	`<a =href="http://eq.example/">`,
	`<a ==href="http://eq2.example/">`,
	`<a href=="http://eqeq.example/">`,
	`<a "href"="http://quotedkey.example/">`,
	`<a x"=y href="http://k.example/">`,
	`<a href="http://a.example/?a=1&amp;b=2">`,
	`<a href="http://a.example/?a=1&b=2&lang=en&copy=3&not=4">`,
	`<a href="http://a.example/?a=1&copy;&not;x&notit;&notin;">`,
	`<a href="http://a.example/?x&ampy&amp=&lt=1&gt">`,
	`<a href="&#x68;ttp://hex.example/">`,
	`<a href="&#104;ttp://dec.example/">`,
	`<a href="&#104ttp://nosemi.example/">`,
	`<a href="h&#116;tp://x.example/&#9x&#99x&#x9g&#x;&#;&#">`,
	`<a href="http://x.example/&#128;&#x80;&#x9F;&#0;&#xD800;&#x110000;&#99999999999999;">`,
	`<a href="http&colon;//colon.example/">`,
	`<a href="http:&sol;&sol;sol.example/">`,
	`<a href="&NotSubset;http://x.example/&fjlig;&nGt;">`,
	`<a href="  http://trim.example/  ">`,
	"<a href=\"http://cr.example/a\r\nb\rc\">",
	"<a href='http://tab.example/a\tb'>",
	"<a href=\"http://nul.example/a\x00b\">",
	"<a href=\"http://bad.example/\xff\xfe\">",
	"<a href=\"www.example.com/\">",
	"<a href=\"WWW.example.com/\">",
	"<a href=\"HTTPS://case.example/\">",
	"<a href=\"ftp://ftp.example/\">",
	"<a href=\"mailto:x@example.com\">",
	"<a href=\"http://\">",
	`<area href="http://area.example/">`,
	`<form action="http://form.example/">`,
	`<button formaction="http://button.example/">`,
	`<input formaction="http://input.example/" href="http://nothref.example/">`,
	`<frame src="http://frame.example/">`,
	`<iframe src="http://iframe.example/">http://inside.example/</iframe>http://after.example/`,
	`<iframe src="http://iframe.example/"><a href="http://hidden.example/"></iframe>`,
	`<img src="http://img.example/" href="http://imghref.example/">`,
	`<link href="http://link.example/">`,
	`<meta http-equiv="refresh" content="0; url=http://refresh.example/">`,
	`<meta http-equiv="Refresh" content="0;URL='http://quoted.example/'">`,
	`<meta content="5;   url =http://spaced.example/" http-equiv=" refresh ">`,
	`<meta content="5;url=   http://spaced2.example/  " http-equiv=refresh>`,
	`<meta http-equiv="refresh" content="0; url=http://one.example/" content="0; url=http://two.example/">`,
	`<meta http-equiv="refreſh" content="0; url=http://longs.example/">`,
	`<meta http-equiv="refresh" content="İİ url=http://dotted.example/">`,
	"<metA http-equiv=\"Refresh\"Content=000\xfeURL=>",
	"<meta http-equiv=refresh content=\"0\xfe\xfe\xfe\xfe url=http://invalid.example/\">",
	"<meta http-equiv=refresh content=\"\xfe\xfe\xfe\xfe\xfe\xfeurl=http://past.example/\">",
	`<meta http-equiv=refresh content="ȺȺȺȺurl=http://longer.example/">`,
	`<meta http-equiv=refresh content="0; url=http://a.example/"><meta http-equiv=refresh content="Ⱥurl=">`,
	`<meta http-equiv="re&#102;resh" content="0; url=http://ent.example/&amp;x">`,
	"<meta http-equiv=\"refresh\" content=\"0;\r\nurl=http://crlf.example/\">",
	`<meta name="x" content="http://notrefresh.example/">`,
	`<script>var u = "<a href='http://script.example/'>";</script>`,
	`<script>document.write("http://written.example/")</script>http://after.example/`,
	`<script>x</script >http://after.example/`,
	`<script>x</SCRIPT>http://after.example/`,
	`<script>x</scriptx>http://still.example/</script>`,
	`<script>x</script`,
	`<script>x</scrip`,
	`<script><!--<script>http://a.example/</script>http://b.example/--></script>http://c.example/`,
	`<script><!--</script>http://after.example/`,
	`<script><!--<script></script>--></script>http://c.example/`,
	`<script><!-- --!> <script> </script> - -- </script>http://x.example/`,
	`<script><!-<script></script>http://x.example/`,
	`<script>http://a.example/&amp;b</script>`,
	"<script>http://nul.example/\x00b</script>",
	`<script/>http://selfscript.example/</script>`,
	`<style>a{background:url(http://style.example/)}</style>http://after.example/`,
	`<style>http://style.example/</STYLE >http://after.example/`,
	`<style/>http://selfstyle.example/</style>`,
	`<style a=/>http://notself.example/</style>`,
	`<style a/>http://self2.example/</style>`,
	`<style a="x"/>http://self3.example/</style>`,
	`<style>http://unterminated.example/`,
	`<style></style>http://after.example/`,
	`<style>x</style foo="a>b">http://after.example/`,
	`<style>x</style foo="a>b`,
	`<textarea>http://a.example/?a&amp;b</textarea>`,
	`<textarea><a href="http://hidden.example/"></textarea>`,
	"<textarea>http://nul.example/\x00b&amp;c</textarea>",
	`<title>http://title.example/&lt;x</title>`,
	`<xmp>http://xmp.example/&amp;</xmp>`,
	`<noembed>http://noembed.example/</noembed>`,
	`<noframes>http://noframes.example/</noframes>`,
	`<noscript><a href="http://noscript.example/"></noscript>`,
	`<plaintext>http://plain.example/</plaintext><a href="http://x.example/">`,
	`<PlainText>http://plain.example/&amp;</plaintext>`,
	`<!-- http://comment.example/ -->http://after.example/`,
	`<!-->http://after.example/`,
	`<!--->http://after.example/`,
	`<!---->http://after.example/`,
	`<!-- --!>http://after.example/`,
	`<!-- --!->http://in.example/-->http://after.example/`,
	`<!-- -- >http://in.example/ -->http://after.example/`,
	`<!-- --!-->http://after.example/`,
	`<!-- --!--!>http://after.example/`,
	`<!-- --!!>http://in.example/ -->http://after.example/`,
	`<!-- http://unterminated.example/`,
	`<!--`,
	`<!-`,
	`<!`,
	`<!DOCTYPE html>http://after.example/`,
	`<!doctype http://doctype.example/>http://after.example/`,
	`<!DOCTYPE`,
	`<!DOC`,
	`<!bogus http://bogus.example/>http://after.example/`,
	`<![CDATA[http://cdata.example/]]>http://after.example/`,
	`<?xml version="1.0"?>http://after.example/`,
	`<? http://pi.example/`,
	`text http://a.example/&amp;b&nbsp;c`,
	`text http://a.example/&ampb &copy2 &notit &AMP; AT&T Q&A`,
	`text http&#58;//entity.example/ www&period;example.com`,
	"text http://nul.example/\x00b &amp;",
	"text http://cr.example/\r\nhttp://lf.example/\rhttp://x.example/",
	"text \xff\xfehttp://bad.example/\xc2\xa0x",
	"http://a.example/<b>http://b.example/</b>",
	"http<b>://split.example/",
	"www.<b>example.com",
	"x<br/>www.example.com",
	`<a href="http://a.example/">http://a.example/</a>`,
	"<a\x00 href=\"http://nulname.example/\">",
	"<a href\x00=\"http://nulkey.example/\">",
	"<div title=\"</style>\">http://x.example/</div>",
	"<p>http://x.example/</p",
	"<p>http://x.example/</p x='>'>http://y.example/",
	"<svg><![CDATA[http://cdata.example/]]></svg>",
	`<a ='x>http://in.example/'>`,
	`<a =">http://in.example/">`,
	`<script><!--<script></script><a href="http://h.example/?a&amp;b">--></script><a href="http://h.example/?c&amp;d">`,
	`<script><!--<script></script><a href="http://h.example/?a&amp;b">--!></script>`,
	`<script><!--<script>--><a href="http://h.example/?a&amp;b"></script>`,
	`<script><!--<scripT/></SCRIPT	><a href="http://h.example/?a&amp;b">-></script>`,
	`<script><!--<scripty></script><a href="http://h.example/?a&amp;b">`,
	`<script><!--<script><a href="http://h.example/?a&amp;b"><!--</script>-></script>`,
	`text http://a.example/?x=1&not=2&copy=3&amp=4&lt=5`,
	`<a href="http://a.example/?x=1&not=2&copy=3&amp=4&lt=5&notit=6">`,
	`<a href='http://a.example/?x=1&not;2&copy 3&amp4'>`,
	"<a href=http://both.example/?a='\"&not;x&notin;y\r\nz>",
	"<a href=\"http://dq.example/?a='&not;x\">",
	`<a href="" data-saferedirecturl="https://www.google.com/url?q=https://g.example/x&amp;y">`,
	`<area DATA-SafeRedirectURL=http://g2.example/ href="http://h.example/">`,
	`<form data-saferedirecturl="http://not-a-link.example/">`,
	"<a href='http://sq.example/?a=\"&not;x'>",
}

func TestAddHTMLDifferential(t *testing.T) {
	for i, doc := range trickyHTML {
		linkscantest.CheckSameURLs(t, "case "+strconv.Itoa(i), []byte(doc))
		// Every prefix: a document may end anywhere.
		for n := range len(doc) {
			linkscantest.CheckSameURLs(t, fmt.Sprintf("case %d, first %d bytes", i, n), []byte(doc[:n]))
		}
	}
	// Each case followed by every other: what one leaves open (a raw
	// text element, a comment) swallows or not what follows.
	for i, a := range trickyHTML {
		for j, b := range trickyHTML {
			linkscantest.CheckSameURLs(t, fmt.Sprintf("case %d then %d", i, j), []byte(a+b))
		}
	}
}

// TestAddHTMLMaxURLs checks that both stop at linkscan.MaxURLs at the same point.
func TestAddHTMLMaxURLs(t *testing.T) {
	var b strings.Builder
	for i := 0; i < linkscan.MaxURLs+50; i++ {
		fmt.Fprintf(&b, `<a href="http://h%d.example/">http://t%d.example/</a>`, i, i)
	}
	linkscantest.CheckSameURLs(t, "many links", []byte(b.String()))
}

// TestAddHTMLGenerated compares AddHTML with the oracle on documents put
// together at random from fragments that matter to tokenization.
func TestAddHTMLGenerated(t *testing.T) {
	frags := []string{
		"<", ">", "/", "!", "?", "-", "--", "=", "\"", "'", " ", "\n", "\r", "\r\n", "\t", "\f", "\x00", "&", ";", "#",
		"<a", "<A", "<a ", "</a>", "<area", "<form", "<button", "<input", "<frame", "<iframe", "<meta", "<img",
		" href=", " HREF=", " src=", " action=", " formaction=", " content=", " http-equiv=", "refresh", " title=",
		"<script", "</script", "<SCRIPT", "</Script", "<style", "</style", "<textarea", "</textarea", "<title", "</title",
		"<xmp", "</xmp", "<noscript", "</noscript", "<plaintext", "<!--", "-->", "--!>", "<!", "<?", "</", "<!DOCTYPE",
		"http://", "https://", "ftp://", "www.", "HTTP://", "example.com", "/path", "?q=1", "&amp;", "&lt;", "&gt;",
		"&nbsp;", "&#x68;", "&#104;", "&#58;", "&colon;", "&copy", "&not", "&notit;", "&b=", "&#", "&#x", "url=",
		"0; url=", "(", ")", "[", "]", ".", ",", "\xc2\xa0", "\xff", "é", "İ",
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 100000
	if testing.Short() {
		n = 10000
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.Reset()
		for k := r.IntN(40); k >= 0; k-- {
			b.WriteString(frags[r.IntN(len(frags))])
		}
		linkscantest.CheckSameURLs(t, "generated "+strconv.Itoa(i), []byte(b.String()))
	}
}

func FuzzAddHTMLDifferential(f *testing.F) {
	for _, doc := range trickyHTML {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		linkscantest.CheckSameURLs(t, "fuzz", doc)
	})
}

// BenchmarkAddHTML compares AddHTML with the tokenizer it replaces on the
// HTML part of the 20 KB newsletter of BenchmarkParse and on a 20 KB page
// of text with a Safe Links-wrapped link per paragraph.
func BenchmarkAddHTML(b *testing.B) {
	var page strings.Builder
	page.WriteString(`<html><head><style>td{font-family:Arial}</style></head><body><table width="600">`)
	for i := 0; page.Len() < 20<<10; i++ {
		fmt.Fprintf(&page, "<tr><td><p>your account has been temporarily limited please verify the information below to restore access "+
			`<a href="https://nam02.safelinks.protection.outlook.com/?url=https%%3A%%2F%%2Fsecure-%d.example%%2Flogin%%2F%d&data=x">Review</a></p></td></tr>`+"\n", i%5, i)
	}
	page.WriteString("</table></body></html>")
	var news strings.Builder
	news.WriteString("<!DOCTYPE html><html><head><style>td{font-family:Arial}</style></head><body><table>")
	for i := 0; news.Len() < 20<<10; i++ {
		fmt.Fprintf(&news, "<tr><td><img src=\"https://cdn.example.net/img/%d.png\" alt=\"\"><h2>Article %d</h2>"+
			"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit &amp; more text about item %d.</p>"+
			"<a href=\"https://track.example.net/c?u=https%%3A%%2F%%2Fshop.example.com%%2Fitem%%2F%d&amp;s=%d\">Read more</a></td></tr>\r\n", i, i, i, i, i)
	}
	news.WriteString("</table></body></html>\r\n")
	for _, doc := range []struct {
		name string
		doc  []byte
	}{{"links", []byte(page.String())}, {"newsletter", []byte(news.String())}} {
		for _, impl := range []struct {
			name string
			add  func(*linkscan.Set, []byte)
		}{{"scanner", (*linkscan.Set).AddHTML}, {"tokenizer", linkscantest.AddHTMLTokenizer}} {
			b.Run(doc.name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(doc.doc)))
				b.ReportAllocs()
				for b.Loop() {
					var s linkscan.Set
					impl.add(&s, doc.doc)
				}
			})
		}
	}
}
