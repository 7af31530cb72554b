package huntapi_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt/huntapi"
)

func TestParseFilter(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want []huntapi.Term
	}{
		{"", nil},
		{"   ", nil},
		{"networkMessageId eq 'abc@x.example'", []huntapi.Term{{Property: "networkMessageId", Op: huntapi.Eq, Value: "abc@x.example"}}},
		{"recipientEmailAddress eq 'a@b.example' and senderDetail/fromAddress eq 'evil@x.example'", []huntapi.Term{
			{Property: "recipientEmailAddress", Op: huntapi.Eq, Value: "a@b.example"},
			{Property: "senderDetail/fromAddress", Op: huntapi.Eq, Value: "evil@x.example"}}},
		{"contains(subject,'It''s an invoice')", []huntapi.Term{{Property: "subject", Op: huntapi.Contains, Value: "It's an invoice"}}},
		{"startswith( subject , 'Re:' )", []huntapi.Term{{Property: "subject", Op: huntapi.StartsWith, Value: "Re:"}}},
		{"(subject eq 'x') AND loggedDateTime ge 2026-12-01T00:00:00Z", []huntapi.Term{
			{Property: "subject", Op: huntapi.Eq, Value: "x"},
			{Property: "loggedDateTime", Op: huntapi.Ge, Time: at}}},
		{"receivedDateTime lt '2026-12-01T00:00:00Z' and internetMessageId eq '<m@x>'", []huntapi.Term{
			{Property: "loggedDateTime", Op: huntapi.Lt, Time: at},
			{Property: "internetMessageId", Op: huntapi.Eq, Value: "<m@x>"}}},
		{"SUBJECT EQ ''", []huntapi.Term{{Property: "subject", Op: huntapi.Eq, Value: ""}}},
	} {
		got, err := huntapi.ParseFilter(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseFilterRefuses(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{"subject eq 'a' or subject eq 'b'", `"or" is not supported`},
		{"not subject eq 'a'", "property \"not\""},
		{"threatTypes eq 'phish'", "cannot be filtered on"},
		{"subject ne 'a'", `operator "ne"`},
		{"subject ge 'a'", "subject takes eq, contains, startswith, not ge"},
		{"loggedDateTime eq 2026-12-01T00:00:00Z", "loggedDateTime takes ge, gt, le, lt"},
		{"contains(networkMessageId,'a')", "networkMessageId takes eq"},
		{"tolower(subject) eq 'a'", `function "tolower"`},
		{"subject eq 'unterminated", "unterminated string"},
		{"subject eq a", "expected a string"},
		{"loggedDateTime ge yesterday", "not a date-time"},
		{"subject eq 'a' subject eq 'b'", `expected "and"`},
		{"(subject eq 'a'", `expected ')'`},
		{"subject eq 'a' and", "expected a property"},
		{"'x' eq subject", "expected a property"},
		{strings.Repeat("subject eq 'a' and ", 70) + "subject eq 'a'", "more than 64"},
		{strings.Repeat("x", huntapi.MaxFilterLength+1), "longer than"},
	} {
		_, err := huntapi.ParseFilter(tc.in)
		require.Error(t, err, tc.in)
		assert.True(t, errors.Is(err, huntapi.ErrFilter), tc.in)
		assert.Contains(t, err.Error(), tc.says, tc.in)
	}
}

// FuzzParseFilter: whatever the caller sends, ParseFilter returns terms or
// an ErrFilter error, never panics, and every term it returns is of the
// supported subset.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"networkMessageId eq 'a@b'",
		"contains(subject,'x''y') and loggedDateTime ge 2026-12-01T00:00:00Z",
		"((subject eq 'a'))",
		"recipientEmailAddress eq 'a@b' and senderDetail/mailFromAddress eq 'c@d'",
		"loggedDateTime lt '2026-12-01T00:00:00.5+01:00'",
		"subject eq 'a' or x",
	} {
		f.Add(s)
	}
	ops := map[huntapi.Op]bool{huntapi.Eq: true, huntapi.Ge: true, huntapi.Gt: true, huntapi.Le: true, huntapi.Lt: true, huntapi.Contains: true, huntapi.StartsWith: true}
	f.Fuzz(func(t *testing.T, s string) {
		terms, err := huntapi.ParseFilter(s)
		if err != nil {
			if !errors.Is(err, huntapi.ErrFilter) {
				t.Fatalf("%q: error %v does not wrap ErrFilter", s, err)
			}
			return
		}
		for _, tm := range terms {
			if !ops[tm.Op] || tm.Property == "" {
				t.Fatalf("%q: term %+v", s, tm)
			}
			if utf8.ValidString(s) && !utf8.ValidString(tm.Value) {
				t.Fatalf("%q: value %q", s, tm.Value)
			}
			if tm.Property != "loggedDateTime" && !tm.Time.IsZero() {
				t.Fatalf("%q: a string term with a time: %+v", s, tm)
			}
		}
	})
}
