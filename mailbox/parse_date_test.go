package mailbox

import (
	"net/mail"
	"reflect"
	"testing"
)

var dateSeeds = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 02 Jan 2006 15:04:05 +0000",
	"mon, 02 JAN 2006 15:04:05 +0000",
	"Fri, 29 Feb 2024 23:59:59 +1400",
	"Thu, 29 Feb 2023 10:00:00 +0000",
	"2 Jan 2006 15:04 -0700",
	"Tue, 1 Jul 2003 10:52:37 +0200 (CEST)",
	"Tue, 1 Jul 2003 10:52:37 +0200 (CEST) trailing",
	"Tue, 1 Jul 2003 10:52:37 +0200 ((nested))",
	"Tue,  1 Jul  2003  10:52:37  +0200",
	"Tue, 1 Jul 03 10:52:37 +0200",
	"Tue, 1 Jul 2003 9:52:37 +0200",
	"Tue, 1 Jul 2003 10:52:37.25 +0200",
	"Tue, 1 Jul 2003 10:52:37 GMT",
	"Tue, 1 Jul 2003 24:00:00 +0200",
	"Tue, 31 Jun 2003 10:00:00 +0200",
	"Tuesday, 1 Jul 2003 10:52:37 +0200",
	"Tue, 001 Jul 2003 10:52:37 +0200",
	"Tue, 1 Jul 20031 10:52:37 +0200",
	"Tue, 1 Jul 2003 10:52:37 +02000",
	"Tue, 1 Jul 2003 10:52:37 +2400",
	"Sun, 10 Mar 2024 02:30:00 -0500",
}

// TestFastDate checks that the common forms take the fast path, and that
// it gives what net/mail gives.
func TestFastDate(t *testing.T) {
	for _, v := range []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 02 Jan 2006 15:04:05 +0000",
		"2 Jan 2006 15:04 -0700",
		"Tue, 1 Jul 2003 10:52:37 +0200 (CEST)",
		"Fri, 29 Feb 2024 23:59:59 +1400",
	} {
		got, ok := fastDate(v)
		if !ok {
			t.Errorf("fastDate(%q) not ok", v)
			continue
		}
		want, err := mail.ParseDate(v)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("fastDate(%q) = %v, net/mail %v (%v)", v, got, want, err)
		}
	}
	for _, v := range []string{"Thu, 29 Feb 2023 10:00:00 +0000", "Tue, 1 Jul 2003 10:52:37 GMT", "Tuesday, 1 Jul 2003 10:52:37 +0200"} {
		if _, ok := fastDate(v); ok {
			t.Errorf("fastDate(%q) ok; it is for the slow path", v)
		}
	}
	if got := parseDate("Thu, 29 Feb 2023 10:00:00 +0000"); !got.IsZero() {
		t.Errorf("29 February 2023 read as %v", got)
	}
}

// FuzzFastDate checks that wherever the fast path reads a Date, net/mail
// reads the same time in the same location.
func FuzzFastDate(f *testing.F) {
	for _, s := range dateSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := fastDate(v)
		if !ok {
			return
		}
		want, err := mail.ParseDate(v)
		if err != nil {
			t.Fatalf("fastDate(%q) = %v, net/mail fails: %v", v, got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fastDate(%q) = %v, net/mail %v", v, got, want)
		}
	})
}

func BenchmarkParseDate(b *testing.B) {
	v := "Mon, 02 Jan 2006 15:04:05 -0700"
	b.Run("fast", func(b *testing.B) {
		for range b.N {
			parseDate(v)
		}
	})
	b.Run("net-mail", func(b *testing.B) {
		for range b.N {
			_, _ = mail.ParseDate(v)
		}
	})
}
