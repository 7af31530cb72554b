package calendar_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mock"
)

// mimePart is a text/calendar part of a test message.
type mimePart struct {
	method string
	raw    []byte
}

// testdataInvite reads testdata/name and returns its Message-ID and its
// first text/calendar part (the calendar package does not read mail; the
// tests use go-message directly).
func testdataInvite(t testing.TB, name string) (string, mimePart) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	ent, err := message.Read(bytes.NewReader(b))
	require.NoError(t, err)
	mid := strings.Trim(ent.Header.Get("Message-Id"), "<> ")
	var found *mimePart
	err = ent.Walk(func(_ []int, e *message.Entity, err error) error {
		if err != nil || found != nil {
			return err
		}
		mt, params, _ := e.Header.ContentType()
		if mt != "text/calendar" {
			return nil
		}
		body, err := io.ReadAll(e.Body)
		if err != nil {
			return err
		}
		found = &mimePart{method: params["method"], raw: body}
		return nil
	})
	require.NoError(t, err)
	require.NotNil(t, found, "%s: no text/calendar part", name)
	if mid == "" {
		mid = name + "@testdata.invalid"
	}
	return mid, *found
}

// parseTestdata parses the invite of testdata/name.
func parseTestdata(t testing.TB, name string) (string, *calendar.Invite) {
	t.Helper()
	mid, part := testdataInvite(t, name)
	inv, err := calendar.ParseInvite(part.raw, part.method)
	require.NoError(t, err, name)
	return mid, inv
}

// newTenant returns an in-memory tenant with the given users.
func newTenant(t testing.TB, users ...string) *mock.Tenant {
	t.Helper()
	tn := mock.New(nil)
	for _, u := range users {
		require.NoError(t, tn.AddUser(u))
	}
	return tn
}

// ics joins lines with CRLF.
func ics(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// request builds an iTIP message of one VEVENT.
func itip(method, uid, organizer string, seq int, summary string, extra ...string) []byte {
	lines := []string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:" + method,
		"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20300101T000000Z", "SEQUENCE:" + itoa(seq),
		"SUMMARY:" + summary, "ORGANIZER;CN=Org:mailto:" + organizer,
	}
	if !hasPrefix(extra, "DTSTART") {
		lines = append(lines, "DTSTART:20300506T093000Z", "DTEND:20300506T103000Z")
	}
	lines = append(lines, extra...)
	lines = append(lines, "END:VEVENT", "END:VCALENDAR")
	return ics(lines...)
}

func hasPrefix(lines []string, p string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
