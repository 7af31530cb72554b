package mailbox

import (
	"strings"
	"time"
)

// fastDate reads the Date values nearly all mail carries, RFC 5322
// section 3.3 as mail systems write it: an optional day name and comma,
// a day of one or two digits, a month name, a four-digit year, hh:mm or
// hh:mm:ss, a numeric zone, and optionally one comment ("Mon, 2 Jan 2006
// 15:04:05 -0700 (MST)"), fields separated by spaces. ok is false for
// anything else, which [parseDate] then reads the slow way. Where ok is
// true the result is the one net/mail.ParseDate returns (same instant,
// same location), without its trial of dozens of layouts, each failure
// allocating an error: on a scan of ordinary mail that trial costs more
// than the rest of the header.
func fastDate(v string) (time.Time, bool) {
	i := 0
	spaces := func() bool {
		k := i
		for i < len(v) && v[i] == ' ' {
			i++
		}
		return i > k
	}
	// digits reads exactly n digits.
	digits := func(n int) (int, bool) {
		if len(v)-i < n {
			return 0, false
		}
		x := 0
		for _, c := range []byte(v[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			x = x*10 + int(c-'0')
		}
		i += n
		return x, true
	}
	isDigit := func() bool { return i < len(v) && v[i] >= '0' && v[i] <= '9' }
	name := func(names *[12]string, count int) (int, bool) {
		if len(v)-i < 3 {
			return 0, false
		}
		for k, n := range names[:count] {
			if lowerASCII(v[i]) == lowerASCII(n[0]) && lowerASCII(v[i+1]) == lowerASCII(n[1]) && lowerASCII(v[i+2]) == lowerASCII(n[2]) {
				i += 3
				return k, true
			}
		}
		return 0, false
	}
	if !isDigit() {
		if _, ok := name(&dayNames, 7); !ok || i >= len(v) || v[i] != ',' {
			return time.Time{}, false
		}
		i++
		if !spaces() {
			return time.Time{}, false
		}
	}
	day, ok := digits(1)
	if ok && isDigit() {
		d2, _ := digits(1)
		day = day*10 + d2
	}
	if !ok || !spaces() {
		return time.Time{}, false
	}
	month, ok := name(&monthNames, 12)
	if !ok || !spaces() {
		return time.Time{}, false
	}
	year, ok := digits(4)
	if !ok || !spaces() {
		return time.Time{}, false
	}
	hour, ok := digits(2)
	if !ok || i >= len(v) || v[i] != ':' {
		return time.Time{}, false
	}
	i++
	minute, ok := digits(2)
	if !ok {
		return time.Time{}, false
	}
	sec := 0
	if i < len(v) && v[i] == ':' {
		i++
		if sec, ok = digits(2); !ok {
			return time.Time{}, false
		}
	}
	if !spaces() || i >= len(v) || (v[i] != '+' && v[i] != '-') {
		return time.Time{}, false
	}
	sign := 1
	if v[i] == '-' {
		sign = -1
	}
	i++
	zh, ok1 := digits(2)
	zm, ok2 := digits(2)
	if !ok1 || !ok2 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	// Nothing may follow but white space and one simple comment.
	spaces()
	if i < len(v) {
		if v[i] != '(' || v[len(v)-1] != ')' || strings.ContainsAny(v[i+1:len(v)-1], "()\\\r\n") {
			return time.Time{}, false
		}
	}
	if day < 1 || day > daysIn(time.Month(month+1), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	// As time.Parse does: the local zone when it has the offset at that
	// instant, else a zone fixed at the offset.
	offset := sign * (zh*3600 + zm*60)
	t := time.Date(year, time.Month(month+1), day, hour, minute, sec, 0, time.UTC).Add(-time.Duration(offset) * time.Second)
	if _, off := t.In(time.Local).Zone(); off == offset {
		return t.In(time.Local), true
	}
	return t.In(time.FixedZone("", offset)), true
}

// daysIn returns the number of days of month m in year.
func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// The names fastDate reads, compared case-insensitively as time.Parse
// does; dayNames uses 7 of its 12.
var (
	dayNames   = [12]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
