package calendar_test

import (
	"testing"

	"github.com/eradicate-dev/eradicate/calendar"
)

// A UID that is not UTF-8 (hostile or broken text) survives Decode, Encode
// and Decode again byte for byte: the entry written back names the same
// object as the one read.
func TestEncodeKeepsNonUTF8UID(t *testing.T) {
	for _, uid := range []string{"a\xff", "\xed\xa0\x80", "x\x80y;z", "\xc3"} {
		raw := []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:" + escapeUID(uid) +
			"\r\nDTSTART:20300101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
		es, err := calendar.Decode(raw)
		if err != nil || len(es) != 1 {
			t.Fatalf("Decode(UID %q): %v, %d entries", uid, err, len(es))
		}
		if es[0].UID != uid {
			t.Fatalf("Decode read UID %q, want %q", es[0].UID, uid)
		}
		b, err := calendar.Encode(es[0])
		if err != nil {
			t.Fatalf("Encode(UID %q): %v", uid, err)
		}
		back, err := calendar.DecodeEntry(b)
		if err != nil {
			t.Fatalf("DecodeEntry: %v\n%s", err, b)
		}
		if back.UID != uid {
			t.Errorf("UID %q became %q after Encode", uid, back.UID)
		}
	}
}

func escapeUID(s string) string {
	out := ""
	for i := 0; i < len(s); i++ {
		if s[i] == ';' {
			out += `\`
		}
		out += s[i : i+1]
	}
	return out
}
