package linkscan

import (
	"strings"
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
const maxPasswords = 24

// Where PasswordCandidates looks after a password keyword: the rest of
// the keyword's sentence (at most passwordSentence bytes and
// passwordSentenceWords words) and the first passwordNextWords words of
// the next non-empty line.
const (
	passwordSentence      = 160
	passwordSentenceWords = 12
	passwordNextWords     = 4
)

// PasswordCandidates returns the words written near a password keyword
// (see passwordWords) in the text or the HTML's text: the rest of the
// keyword's sentence and the start of the next non-empty line, trimmed of
// punctuation, distinct, at most maxPasswords. Words that look like a
// password come first: one that follows a colon or an equals sign, or
// that holds a digit. "SENHA DE ACESSO AO PDF: 123" yields "123", "DE",
// "ACESSO", "AO" and "PDF". Each is tried and checked against the file,
// so a wrong one costs a hash.
func PasswordCandidates(text, htmlDoc string) []string {
	src := text
	if htmlDoc != "" {
		src += "\n" + htmlText(htmlDoc)
	}
	lower := strings.ToLower(src)
	var likely, other []string
	seen := make(map[string]bool)
	add := func(f string, afterSep bool) {
		f = strings.Trim(f, `.,;!?()[]{}"'*<>«»“”`)
		if f == "" || len(f) > 32 || seen[f] {
			return
		}
		seen[f] = true
		if afterSep || strings.ContainsAny(f, "0123456789") {
			likely = append(likely, f)
		} else {
			other = append(other, f)
		}
	}
	for _, w := range passwordWords {
		for off, hits := 0, 0; len(likely) < maxPasswords && hits < 100; hits++ {
			k := strings.Index(lower[off:], w)
			if k < 0 {
				break
			}
			k += off + len(w)
			off = k
			rest := lower[k:]
			if len(src) == len(lower) {
				// Lower-casing kept the offsets: take the words as
				// written.
				rest = src[k:]
			}
			sentence, next := cueSentence(rest)
			passwordWordsOf(sentence, passwordSentenceWords, add)
			passwordWordsOf(next, passwordNextWords, add)
		}
	}
	out := append(likely, other...)
	if len(out) > maxPasswords {
		out = out[:maxPasswords]
	}
	return out
}

// cueSentence splits what follows a password keyword into the rest of its
// sentence (up to a line break or a full stop, exclamation or question
// mark followed by a space) and the next non-empty line.
func cueSentence(rest string) (sentence, next string) {
	rest = rest[:min(len(rest), 2*passwordSentence)]
	end := len(rest)
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		end = nl
	}
	for i := 0; i+1 < end; i++ {
		if (rest[i] == '.' || rest[i] == '!' || rest[i] == '?') && (rest[i+1] == ' ' || rest[i+1] == '\t') {
			end = i + 1
			break
		}
	}
	sentence = rest[:min(end, passwordSentence)]
	if end < len(rest) && rest[end] == '\n' {
		for _, line := range strings.Split(rest[end+1:], "\n") {
			if strings.TrimSpace(line) != "" {
				next = line
				break
			}
		}
	}
	return sentence, next
}

// passwordWordsOf passes the first n words of s to add, telling for each
// whether it follows a colon or an equals sign.
func passwordWordsOf(s string, n int, add func(word string, afterSep bool)) {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	afterSep := false
	for i := 0; i < len(s) && n > 0; {
		c := s[i]
		if c == ':' || c == '=' {
			afterSep = true
			i++
			continue
		}
		if isPasswordSpace(c) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isPasswordSpace(s[j]) && s[j] != ':' && s[j] != '=' {
			j++
		}
		add(s[i:j], afterSep)
		afterSep = false
		n--
		i = j
	}
}

func isPasswordSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
