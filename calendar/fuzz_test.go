package calendar_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eradicate-dev/eradicate/calendar"
)

// fuzzSeeds are the calendar parts of testdata plus hand-made quirks.
func fuzzSeeds(f *testing.F) [][]byte {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	var seeds [][]byte
	for _, n := range names {
		_, part := testdataInvite(f, filepath.Base(n))
		seeds = append(seeds, part.raw)
	}
	seeds = append(seeds,
		itip("REQUEST", "s1", org, 3, "x", "RRULE:FREQ=SECONDLY;COUNT=2000000000", "EXDATE:20300101T000000Z,bogus"),
		ics(cal(vtz("Sarajevo, Skopje, Warsaw, Zagreb"), vevent("UID:s2", "DTSTART;TZID=Sarajevo, Skopje, Warsaw, Zagreb:20250101T000000", "RECURRENCE-ID;TZID=\"x\":2025"))...),
		[]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\n ;b\nATTENDEE;CN=\"unterminated:mailto:x\nEND:VEVENT\n"),
		[]byte("BEGIN:VEVENT\r\nUID:\"q\"\r\nX-P;A=\"1\"garbage;B=2:v\r\nEND:VCALENDAR"),
	)
	return seeds
}

// FuzzParseInvite checks that ParseInvite never panics, fails only with
// ErrInvalid, and that what it accepts is a well-formed entry whose text
// decodes again to the same UID.
func FuzzParseInvite(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, "REQUEST")
	}
	f.Fuzz(func(t *testing.T, raw []byte, method string) {
		inv, err := calendar.ParseInvite(raw, method)
		if err != nil {
			if !errors.Is(err, calendar.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if inv.UID == "" || inv.UID != inv.Entry.UID {
			t.Fatalf("UID %q, entry UID %q", inv.UID, inv.Entry.UID)
		}
		if inv.Entry.Master == nil && len(inv.Entry.Overrides) == 0 {
			t.Fatal("an invite without components")
		}
		if inv.Method != strings.ToUpper(inv.Method) {
			t.Fatalf("method %q not upper-cased", inv.Method)
		}
		if len(inv.Entry.Raw) > 4*len(raw)+4096 {
			t.Fatalf("entry text of %d bytes from %d bytes of input", len(inv.Entry.Raw), len(raw))
		}
		again, err := calendar.DecodeEntry(inv.Entry.Raw)
		if err != nil {
			t.Fatalf("the entry text does not decode: %v\n%s", err, inv.Entry.Raw)
		}
		if again.UID != inv.UID {
			t.Fatalf("UID %q became %q", inv.UID, again.UID)
		}
		if bytes.Contains(inv.Entry.Raw, []byte("\nMETHOD:")) {
			t.Fatal("entry text keeps METHOD")
		}
	})
}

// FuzzDecode checks Decode and the Encode round trip of what it returns.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		es, err := calendar.Decode(raw)
		if err != nil {
			if !errors.Is(err, calendar.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range es {
			if e.UID == "" || seen[e.UID] {
				t.Fatalf("empty or repeated UID %q", e.UID)
			}
			seen[e.UID] = true
			b, err := calendar.Encode(e)
			if err != nil {
				if errors.Is(err, calendar.ErrInvalid) {
					continue // e.g. an override whose RECURRENCE-ID could not be read
				}
				t.Fatalf("Encode: %v", err)
			}
			back, err := calendar.DecodeEntry(b)
			if err != nil {
				t.Fatalf("Encode output does not decode: %v\n%s", err, b)
			}
			if back.UID != e.UID {
				t.Fatalf("UID %q became %q", e.UID, back.UID)
			}
		}
	})
}

// TestHostileInput runs inputs meant to exhaust time or memory; each must
// end (the test's timeout is the bound) with a result or ErrInvalid.
func TestHostileInput(t *testing.T) {
	bigParam := "ATTENDEE;CN=\"" + strings.Repeat("x", 1<<20) + "\":mailto:a@b.c"
	manyParams := "ATTENDEE" + strings.Repeat(";X=1", 200_000) + ":mailto:a@b.c"
	manyExdates := "EXDATE:" + strings.TrimSuffix(strings.Repeat("20300101T000000Z,", 200_000), ",")
	manyAttendees := make([]string, 0, 50_000)
	for range 50_000 {
		manyAttendees = append(manyAttendees, "ATTENDEE:mailto:a@b.c")
	}
	longFolded := "SUMMARY:" + strings.Repeat("a\r\n b", 300_000)
	tests := map[string][]byte{
		"unbounded recurrence": itip("REQUEST", "h1", org, 0, "x", "RRULE:FREQ=SECONDLY;INTERVAL=1"),
		"huge COUNT":           itip("REQUEST", "h2", org, 0, "x", "RRULE:FREQ=SECONDLY;COUNT=4000000000"),
		"one megabyte param":   itip("REQUEST", "h3", org, 0, "x", bigParam),
		"many parameters":      itip("REQUEST", "h4", org, 0, "x", manyParams),
		"many EXDATEs":         itip("REQUEST", "h5", org, 0, "x", manyExdates),
		"many attendees":       itip("REQUEST", "h6", org, 0, "x", manyAttendees...),
		"long folded line":     itip("REQUEST", "h7", org, 0, "x", longFolded),
		"timezone rule FREQ=SECONDLY": ics(cal([]string{"BEGIN:VTIMEZONE", "TZID:evil", "BEGIN:STANDARD", "DTSTART:00010101T000000",
			"TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "RRULE:FREQ=SECONDLY", "END:STANDARD", "END:VTIMEZONE"},
			vevent("UID:h8", "DTSTART;TZID=evil:99991231T235959"))...),
		"unterminated quote": ics(cal(vevent("UID:h9", "ATTENDEE;CN=\""+strings.Repeat("y", 100_000)+":mailto:a@b.c"))...),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			inv, err := calendar.ParseInvite(raw, "")
			if err != nil {
				if !errors.Is(err, calendar.ErrInvalid) {
					t.Fatalf("error does not wrap ErrInvalid: %v", err)
				}
				return
			}
			if inv.UID == "" {
				t.Fatal("no UID")
			}
			if inv.Entry.Master != nil && len(inv.Entry.Master.ExDates) > 2000 {
				t.Fatalf("%d EXDATEs kept; the cap is 2000", len(inv.Entry.Master.ExDates))
			}
		})
	}
}

// TestFuzzCorpusFilesExist keeps the seeds honest: testdata must hold
// the copied invites.
func TestFuzzCorpusFilesExist(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(names) < 4 {
		t.Fatalf("testdata invites: %v %v", names, err)
	}
	if _, err := os.Stat(filepath.Join("testdata", "ATTRIBUTION")); err != nil {
		t.Fatal(err)
	}
}
