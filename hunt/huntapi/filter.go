package huntapi

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxFilterLength bounds a $filter expression, in bytes.
const MaxFilterLength = 4096

// maxTerms bounds the comparisons of one $filter.
const maxTerms = 64

// ErrFilter is wrapped by every error of ParseFilter: the expression is not
// in the supported subset.
var ErrFilter = errors.New("unsupported $filter")

// Op is a comparison operator of a $filter term.
type Op string

// The operators of the supported subset. Contains and StartsWith are the
// OData functions contains(p,'v') and startswith(p,'v').
const (
	Eq         Op = "eq"
	Ge         Op = "ge"
	Gt         Op = "gt"
	Le         Op = "le"
	Lt         Op = "lt"
	Contains   Op = "contains"
	StartsWith Op = "startswith"
)

// Term is one comparison of a $filter: Property Op Value. Value is the
// string literal; Time is set instead for a date-time property.
type Term struct {
	Property string    // the property, as Graph names it (e.g. "senderDetail/fromAddress")
	Op       Op        // the operator
	Value    string    // a string literal's value, quotes removed and '' unescaped
	Time     time.Time // a date-time literal's value (loggedDateTime)
}

// properties are the analyzedEmail properties the subset filters on, and
// the operators each takes.
var properties = map[string][]Op{
	"networkMessageId":             {Eq},
	"internetMessageId":            {Eq},
	"recipientEmailAddress":        {Eq},
	"senderDetail/fromAddress":     {Eq},
	"senderDetail/mailFromAddress": {Eq},
	"subject":                      {Eq, Contains, StartsWith},
	"loggedDateTime":               {Ge, Gt, Le, Lt},
}

// canonical maps a property name in any case to Graph's spelling; OData
// property names are case-sensitive, but a playbook's lower-case name is
// not worth a refusal. receivedDateTime is accepted for loggedDateTime
// (Explorer's name of the time of delivery).
var canonical = func() map[string]string {
	m := map[string]string{"receiveddatetime": "loggedDateTime"}
	for p := range properties {
		m[strings.ToLower(p)] = p
	}
	return m
}()

// ParseFilter parses the subset of OData $filter that GET
// .../analyzedEmails answers: comparisons joined by "and", each
//
//	property eq 'value'                (networkMessageId, internetMessageId,
//	                                    recipientEmailAddress, subject,
//	                                    senderDetail/fromAddress,
//	                                    senderDetail/mailFromAddress)
//	loggedDateTime ge|gt|le|lt 2026-12-01T00:00:00Z
//	contains(subject,'value')          (and startswith)
//
// optionally in parentheses. "or", "not", other properties, functions and
// literals are refused with an error wrapping ErrFilter that says what is
// supported. An empty expression gives no terms.
func ParseFilter(s string) ([]Term, error) {
	if len(s) > MaxFilterLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrFilter, MaxFilterLength)
	}
	p := &parser{s: s}
	p.skipSpace()
	if p.eof() {
		return nil, nil
	}
	var terms []Term
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		if len(terms) > maxTerms {
			return nil, fmt.Errorf("%w: more than %d comparisons", ErrFilter, maxTerms)
		}
		p.skipSpace()
		if p.eof() {
			return terms, nil
		}
		w := p.word()
		switch strings.ToLower(w) {
		case "and":
		case "or", "not":
			return nil, fmt.Errorf("%w: %q is not supported: join comparisons with \"and\" (send one call per alternative)", ErrFilter, w)
		default:
			return nil, p.errorf("expected \"and\" after a comparison")
		}
	}
}

type parser struct {
	s   string
	pos int
}

func (p *parser) eof() bool { return p.pos >= len(p.s) }

func (p *parser) errorf(msg string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrFilter, msg, p.pos)
}

func (p *parser) skipSpace() {
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// word reads a name: letters, digits, '_', '/' and '.'.
func (p *parser) word() string {
	start := p.pos
	for !p.eof() {
		c := p.s[p.pos]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '/' || c == '.' {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

func (p *parser) expect(c byte) error {
	p.skipSpace()
	if p.eof() || p.s[p.pos] != c {
		return p.errorf(fmt.Sprintf("expected %q", c))
	}
	p.pos++
	return nil
}

// term reads one comparison, or one in parentheses.
func (p *parser) term() (Term, error) {
	p.skipSpace()
	if !p.eof() && p.s[p.pos] == '(' {
		p.pos++
		t, err := p.term()
		if err != nil {
			return Term{}, err
		}
		if err := p.expect(')'); err != nil {
			return Term{}, err
		}
		return t, nil
	}
	w := p.word()
	if w == "" {
		return Term{}, p.errorf("expected a property or contains(...)")
	}
	p.skipSpace()
	if !p.eof() && p.s[p.pos] == '(' {
		return p.function(w)
	}
	prop, err := property(w)
	if err != nil {
		return Term{}, err
	}
	p.skipSpace()
	opw := p.word()
	op := Op(strings.ToLower(opw))
	switch op {
	case Eq, Ge, Gt, Le, Lt:
	case "":
		return Term{}, p.errorf("expected an operator (eq, ge, gt, le, lt)")
	default:
		return Term{}, fmt.Errorf("%w: operator %q is not supported (eq, ge, gt, le, lt)", ErrFilter, opw)
	}
	if !allowed(prop, op) {
		return Term{}, fmt.Errorf("%w: %s takes %s, not %s", ErrFilter, prop, opList(prop), op)
	}
	t := Term{Property: prop, Op: op}
	p.skipSpace()
	if prop == "loggedDateTime" {
		t.Time, err = p.dateTime()
	} else {
		t.Value, err = p.str()
	}
	return t, err
}

// function reads contains(prop,'v') or startswith(prop,'v'); name is read.
func (p *parser) function(name string) (Term, error) {
	op := Op(strings.ToLower(name))
	if op != Contains && op != StartsWith {
		return Term{}, fmt.Errorf("%w: function %q is not supported (contains, startswith)", ErrFilter, name)
	}
	p.pos++ // '('
	p.skipSpace()
	prop, err := property(p.word())
	if err != nil {
		return Term{}, err
	}
	if !allowed(prop, op) {
		return Term{}, fmt.Errorf("%w: %s takes %s, not %s", ErrFilter, prop, opList(prop), op)
	}
	if err := p.expect(','); err != nil {
		return Term{}, err
	}
	p.skipSpace()
	v, err := p.str()
	if err != nil {
		return Term{}, err
	}
	if err := p.expect(')'); err != nil {
		return Term{}, err
	}
	return Term{Property: prop, Op: op, Value: v}, nil
}

func property(w string) (string, error) {
	if w == "" {
		return "", fmt.Errorf("%w: expected a property", ErrFilter)
	}
	prop, ok := canonical[strings.ToLower(w)]
	if !ok {
		return "", fmt.Errorf("%w: property %q cannot be filtered on (networkMessageId, internetMessageId, recipientEmailAddress, senderDetail/fromAddress, senderDetail/mailFromAddress, subject, loggedDateTime)", ErrFilter, w)
	}
	return prop, nil
}

func allowed(prop string, op Op) bool {
	for _, o := range properties[prop] {
		if o == op {
			return true
		}
	}
	return false
}

func opList(prop string) string {
	var s []string
	for _, o := range properties[prop] {
		s = append(s, string(o))
	}
	return strings.Join(s, ", ")
}

// str reads a single-quoted OData string literal; ” is a quote.
func (p *parser) str() (string, error) {
	if p.eof() || p.s[p.pos] != '\'' {
		return "", p.errorf("expected a string in single quotes")
	}
	p.pos++
	var b strings.Builder
	for {
		i := strings.IndexByte(p.s[p.pos:], '\'')
		if i < 0 {
			return "", p.errorf("unterminated string")
		}
		b.WriteString(p.s[p.pos : p.pos+i])
		p.pos += i + 1
		if !p.eof() && p.s[p.pos] == '\'' {
			b.WriteByte('\'')
			p.pos++
			continue
		}
		return b.String(), nil
	}
}

// dateTime reads an OData DateTimeOffset literal (RFC 3339), bare or
// quoted.
func (p *parser) dateTime() (time.Time, error) {
	var lit string
	if !p.eof() && p.s[p.pos] == '\'' {
		s, err := p.str()
		if err != nil {
			return time.Time{}, err
		}
		lit = s
	} else {
		start := p.pos
		for !p.eof() && p.s[p.pos] != ' ' && p.s[p.pos] != '\t' && p.s[p.pos] != ')' {
			p.pos++
		}
		lit = p.s[start:p.pos]
	}
	t, err := time.Parse(time.RFC3339Nano, lit)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is not a date-time such as 2026-12-01T00:00:00Z", ErrFilter, lit)
	}
	return t, nil
}
