package mailbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseMediaValue(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantType   string
		wantParams map[string]string
	}{
		{"simple", `text/plain; charset="UTF-8"`, "text/plain", map[string]string{"charset": "UTF-8"}},
		{"upper case, spaces", ` Text/HTML ;  Charset = iso-8859-1 `, "text/html", map[string]string{"charset": "iso-8859-1"}},
		{"no params", "application/pdf", "application/pdf", nil},
		{"quoted semicolon", `attachment; filename="a;b.pdf"; size=3`, "attachment", map[string]string{"filename": "a;b.pdf", "size": "3"}},
		{"escaped quote", `attachment; filename="say \"hi\".txt"`, "attachment", map[string]string{"filename": `say "hi".txt`}},
		{"duplicate: first wins", `text/plain; charset=utf-8; charset=latin1`, "text/plain", map[string]string{"charset": "utf-8"}},
		{"unterminated quote", `attachment; filename="open.pdf`, "attachment", map[string]string{"filename": "open.pdf"}},
		{"RFC 2231 charset", `attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf`, "attachment", map[string]string{"filename": "€ rates.pdf"}},
		{"RFC 2231 latin1 continuations out of order", `attachment; filename*1="b.txt"; filename*0*=iso-8859-1'en'%E9t%E9_`, "attachment", map[string]string{"filename": "été_b.txt"}},
		{"RFC 2231 wins over plain", `attachment; filename="plain.txt"; filename*=utf-8''ext.txt`, "attachment", map[string]string{"filename": "ext.txt"}},
		{"RFC 2047 in quotes", `application/pdf; name="=?UTF-8?B?w6kucGRm?="`, "application/pdf", map[string]string{"name": "é.pdf"}},
		{"junk items ignored", `text/plain; ; =x; novalue; a=1`, "text/plain", map[string]string{"a": "1"}},
		{"empty", ``, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, params := parseMediaValue(tt.in)
			assert.Equal(t, tt.wantType, mt)
			if tt.wantParams == nil {
				assert.Empty(t, params)
			} else {
				assert.Equal(t, tt.wantParams, params)
			}
		})
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		name, in, want string
		problem        bool
	}{
		{"well formed with CRLF", "aGVs\r\nbG8=\r\n", "hello", false},
		{"missing padding", "aGVsbG8", "hello", true},
		{"spaces and junk skipped", "aGV sbG8 gd2\t9y!bGQ=", "hello world", true},
		{"stops after padding", "aGk=aGk=", "hi", true},
		{"lone trailing character", "aGk=", "hi", false},
		{"two characters of a last group", "aGVsbA", "hell", true},
		{"dangling", "aGVsb", "hel", true},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := decodeBase64([]byte(tt.in))
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, tt.problem, problem != "", "problem %q", problem)
		})
	}
}

func TestDecodeQP(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"escapes", "caf=C3=A9", "café"},
		{"lower-case hex", "caf=c3=a9", "café"},
		{"soft break LF", "long=\nline", "longline"},
		{"soft break CRLF", "long=\r\nline", "longline"},
		{"bad escape kept", "a=ZZb", "a=ZZb"},
		{"double equals", "a==3D", "a=3D"},
		{"trailing equals", "end=", "end"},
		{"line ends kept", "a\r\nb\n", "a\r\nb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(decodeQP([]byte(tt.in))))
		})
	}
}

func TestDecodeUU(t *testing.T) {
	got, problem := decodeUU([]byte("junk\nbegin 644 cat.txt\r\n#8V%T\r\n`\r\nend\r\n"))
	assert.Equal(t, "cat", string(got))
	assert.Empty(t, problem)

	got, problem = decodeUU([]byte("begin 644 x\n#8V%T\n"))
	assert.Equal(t, "cat", string(got))
	assert.Contains(t, problem, "without an end line")

	got, problem = decodeUU([]byte("no begin here"))
	assert.Equal(t, "no begin here", string(got))
	assert.Contains(t, problem, "without a begin line")
}

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     []string
		problem  string
		boundary string
	}{
		{"two parts, preamble and epilogue", "pre\n--b\nA\n--b\r\nB\r\n--b--\r\nepilogue", []string{"A", "B"}, "", "b"},
		{"white space after delimiter", "--b \t\nA\n--b-- \n", []string{"A"}, "", "b"},
		{"boundary text inside a line is not a delimiter", "--b\nx--b\n--bb\nA\n--b--", []string{"x--b\n--bb\nA"}, "", "b"},
		{"empty part", "--b\n--b--", []string{""}, "", "b"},
		{"unclosed", "--b\nA\n--b\nB", []string{"A", "B"}, "closing boundary missing", "b"},
		{"no delimiter", "just text", nil, "no boundary", "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, problem := splitMultipart([]byte(tt.body), tt.boundary)
			var got []string
			for _, p := range parts {
				got = append(got, string(p))
			}
			assert.Equal(t, tt.want, got)
			if tt.problem == "" {
				assert.Empty(t, problem)
			} else {
				assert.Contains(t, problem, tt.problem)
			}
		})
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "  Hello  ", "Hello"},
		{"Q with underscore", "=?ISO-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème"},
		{"B", "=?UTF-8?B?w6l0w6k=?=", "été"},
		{"adjacent words joined", "=?UTF-8?B?w6k=?= \r\n =?UTF-8?B?w6k=?=", "éé"},
		{"character split across words", "=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "é"},
		{"text around words kept", "Re: =?iso-8859-1?q?caf=E9?= au lait", "Re: café au lait"},
		{"space after a word kept", "=?utf-8?q?a?= b", "a b"},
		{"bad base64 padding", "=?UTF-8?B?YWJj==?=", "abc"},
		{"not a word kept", "=?utf-8?x?abc?= and =?broken", "=?utf-8?x?abc?= and =?broken"},
		{"language suffix", "=?utf-8*en?q?hi?=", "hi"},
		{"unknown charset", "=?x-foo?q?caf=E9?=", "café"},
		{"different charsets", "=?iso-8859-1?q?=E9?==?utf-8?q?=C3=A9?=", "éé"},
		{"raw 8-bit", "R\xe9sum\xe9", "Résumé"},
		{"raw UTF-8", "Résumé", "Résumé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, decodeText(tt.in))
		})
	}
}
