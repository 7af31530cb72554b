package linkscan

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// passwordWords introduce a password in the text of a message, in the
// languages phishing lures are written in most.
var passwordWords = []string{
	"password", "passwort", "passwd", "passcode", "pass code", "senha", "contraseña", "contrasena",
	"clave", "mot de passe", "wachtwoord", "parola", "heslo", "hasło", "haslo", "lösenord",
	"salasana", "adgangskode", "passord", "jelszó", "пароль", "密码", "密碼", "パスワード", "비밀번호",
	"pwd", "pw",
}

// maxPasswords caps the passwords tried on one file.
const maxPasswords = 16

// PasswordCandidates returns the words that follow a password keyword
// (see passwordWords) on the same line of the text or of the HTML's text,
// trimmed of punctuation, distinct, at most maxPasswords: "Senha de
// acesso: 123" yields "de", "acesso" and "123". Each is tried and checked
// against the file, so a wrong one costs a hash.
func PasswordCandidates(text, htmlDoc string) []string {
	src := text
	if htmlDoc != "" {
		src += "\n" + htmlText(htmlDoc)
	}
	lower := strings.ToLower(src)
	var out []string
	seen := make(map[string]bool)
	for _, w := range passwordWords {
		for off, hits := 0, 0; len(out) < maxPasswords && hits < 100; hits++ {
			k := strings.Index(lower[off:], w)
			if k < 0 {
				break
			}
			k += off + len(w)
			off = k
			line := lower[k:]
			if len(src) == len(lower) {
				// Lower-casing kept the offsets: take the words as
				// written.
				line = src[k:]
			}
			line = line[:min(len(line), 120)]
			if nl := strings.IndexByte(line, '\n'); nl >= 0 {
				line = line[:nl]
			}
			for i, f := range strings.FieldsFunc(line, func(r rune) bool {
				return r == ' ' || r == '\t' || r == '\r' || r == ':' || r == '=' || r == '\u00a0'
			}) {
				if i >= 4 {
					break
				}
				f = strings.Trim(f, `.,;!?()[]{}"'*<>«»“”`)
				if f != "" && len(f) <= 32 && !seen[f] && len(out) < maxPasswords {
					seen[f] = true
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// htmlText returns the text of an HTML document, tags removed, block
// boundaries as line breaks.
func htmlText(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Br, atom.P, atom.Div, atom.Tr, atom.Li, atom.Pre, atom.Hr, atom.Td, atom.Table:
				b.WriteByte('\n')
			}
		}
	}
}
