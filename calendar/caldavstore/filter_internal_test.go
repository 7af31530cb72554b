package caldavstore

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/internal/caldavmem"
	"github.com/eradicate-dev/eradicate/internal/testenv/radicale"
)

// The server-side filters must narrow (a hard delete across many
// calendars must not download every event), while the store still
// verifies what comes back.
func TestServerFilterNarrows(t *testing.T) {
	users := map[string]string{"dave@example.com": "dave-pw"}
	cases := []struct {
		name  string
		store func(t *testing.T) *Store
	}{
		{"inprocess", func(t *testing.T) *Store {
			srv := caldavmem.Start(t, users)
			s, err := New(srv.URL, PerUser(map[string]Credential{"dave@example.com": {"dave@example.com", "dave-pw"}}), &Options{AllowInsecure: true, ProvenanceKey: []byte("filter test key")})
			require.NoError(t, err)
			return s
		}},
		{"radicale", func(t *testing.T) *Store {
			srv := radicale.Start(t, users)
			s, err := New(srv.URL, Admin(radicale.AdminUser, srv.AdminPassword), &Options{AllowInsecure: true, Home: HomeUnder("/"), ProvenanceKey: []byte("filter test key")})
			require.NoError(t, err)
			return s
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := tc.store(t)
			_, err := s.EnsureCalendar(ctx, "dave@example.com", "calendar", "")
			require.NoError(t, err)
			start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			for i := range 10 {
				e := calendar.Entry{Calendar: "calendar", UID: fmt.Sprintf("uid-%d@example.com", i),
					Master:     &calendar.Occurrence{Summary: "s", Start: start, End: start.Add(time.Hour)},
					Provenance: calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: fmt.Sprintf("msg-%d@example.com", i)}}
				_, err := s.Put(ctx, "dave@example.com", e)
				require.NoError(t, err)
			}
			ss, err := s.session(ctx, "dave@example.com")
			require.NoError(t, err)
			calPath := ss.home + "calendar/"
			byUID, err := s.query(ctx, ss, calPath, ical.PropUID, "uid-3@example.com")
			require.NoError(t, err)
			assert.Len(t, byUID, 1)
			byMID, err := s.query(ctx, ss, calPath, PropProvenance, messageIDFilterText("MSG-7@example.com"))
			require.NoError(t, err)
			require.Len(t, byMID, 1)
			assert.Equal(t, "uid-7@example.com", uidOf(byMID[0].cal))
		})
	}
}

func TestProvenanceEncoding(t *testing.T) {
	p := calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "A b@c", Organizer: "o@x", Method: "REQUEST", SeriesUID: "s", Attachment: "f;,.ics"}
	v := encodeProvenance(p, "uid", nil)
	assert.Equal(t, "v=1&kind=invite&message-id=A+b%40c&organizer=o%40x&method=REQUEST&series-uid=s&attachment=f%3B%2C.ics&match=a+b%40c&sig=", v)
	assert.Equal(t, p, decodeProvenance(v, "uid", nil))

	key := []byte("k")
	signed := encodeProvenance(p, "uid", key)
	assert.Equal(t, p, decodeProvenance(signed, "uid", key))
	assert.Equal(t, calendar.Provenance{}, decodeProvenance(signed, "other-uid", key), "a signature binds the UID")
	assert.Equal(t, calendar.Provenance{}, decodeProvenance(v, "uid", key), "unsigned with a key")

	for _, bad := range []string{"", "v=2&kind=invite", "v=1&kind=evil", "v=1", "%zz"} {
		assert.Equal(t, calendar.Provenance{}, decodeProvenance(bad, "uid", nil), bad)
	}
}

func TestObjectName(t *testing.T) {
	cases := []struct{ uid, want string }{
		{"abc-123@example.com", "abc-123@example.com.ics"},
		{"../../etc", "sha256-"},
		{".hidden", "sha256-"},
		{"a/b", "sha256-"},
		{"a b", "sha256-"},
	}
	for _, tc := range cases {
		got := ObjectName(tc.uid)
		assert.Contains(t, got, tc.want, tc.uid)
		assert.NoError(t, checkName("entry id", got))
	}
	assert.NotEqual(t, ObjectName("A/B"), ObjectName("a/b"))
}

// FuzzProvenance: decoding never panics, and whatever fields are encoded
// decode to the same provenance (with and without a key).
func FuzzProvenance(f *testing.F) {
	f.Add("invite", "a@b", "o@x", "REQUEST", "uid", "f.ics", "v=1&kind=invite&message-id=a%40b&sig=")
	f.Add("imported", "\"q;x\"@b", "", "", "", "R\u00e9union, 1&2=3;.ics", "%zz&&==")
	f.Fuzz(func(t *testing.T, kind, mid, org, method, series, att, raw string) {
		_ = decodeProvenance(raw, series, nil)
		_ = decodeProvenance(raw, series, []byte("k"))
		p := calendar.Provenance{Kind: calendar.ProvenanceKind(kind), MessageID: mid, Organizer: org, Method: method, SeriesUID: series, Attachment: att}
		switch p.Kind {
		case calendar.ProvenanceInvite, calendar.ProvenanceImported, calendar.ProvenanceUser:
		default:
			return
		}
		withPrev := p
		withPrev.CreatedBy = mid + org
		withPrev.Previous = &calendar.Revision{MessageID: method, Method: series, Raw: []byte(raw)}
		for _, p := range []calendar.Provenance{p, withPrev} {
			for _, key := range [][]byte{nil, []byte("key")} {
				v := encodeProvenance(p, "uid", key)
				if strings.ContainsAny(v, ";,\\\r\n") {
					t.Fatalf("value needs iCalendar escaping: %q", v)
				}
				if got := decodeProvenance(v, "uid", key); !got.Equal(p) {
					t.Fatalf("round trip: got %+v, want %+v", got, p)
				}
			}
		}
	})
}

// A successful answer longer than the bound fails to read with
// ErrResponseTooLarge; one within it reads whole.
func TestBoundedBody(t *testing.T) {
	read := func(body string, left int64) (string, error) {
		b := &boundedBody{rc: io.NopCloser(strings.NewReader(body)), left: left, what: "REPORT /x/"}
		out, err := io.ReadAll(b)
		return string(out), err
	}
	got, err := read("0123456789", 10)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", got)
	_, err = read("0123456789A", 10)
	require.ErrorIs(t, err, ErrResponseTooLarge)
}
