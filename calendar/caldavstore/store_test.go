package caldavstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/internal/caldavmem"
	"github.com/eradicate-dev/eradicate/internal/testenv/radicale"
)

// owners of every test server; each has the calendars "calendar" and
// "work".
// testKey is the provenance key of the stores the tests make.
var testKey = []byte("caldavstore test provenance key")

var owners = map[string]string{
	"alice@example.com": "alice-secret-1",
	"bob@example.com":   "bob-secret-2",
	"carol@example.com": "carol-secret-3",
}

// env is a store over one server with calendars for every owner, plus
// what a test needs to reach the server another way.
type env struct {
	store *caldavstore.Store
	url   string
	// raw PUTs text as the owner would with a plain client.
	raw func(t *testing.T, owner, cal, name string, body []byte)
	// opts rebuilds a store with other options or credentials.
	newStore func(t *testing.T, creds caldavstore.CredentialProvider, opts *caldavstore.Options) *caldavstore.Store
}

func perUserCreds() caldavstore.CredentialProvider {
	m := map[string]caldavstore.Credential{}
	for u, p := range owners {
		m[u] = caldavstore.Credential{Username: u, Password: p}
	}
	return caldavstore.PerUser(m)
}

func setupCalendars(t testing.TB, s *caldavstore.Store) {
	t.Helper()
	for u := range owners {
		for _, c := range []string{"calendar", "work"} {
			_, err := s.EnsureCalendar(context.Background(), u, c, strings.ToUpper(c[:1])+c[1:])
			require.NoError(t, err)
		}
	}
}

func rawPut(t *testing.T, url, user, pass string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "PUT %s", url)
}

// memEnv: the in-process go-webdav server, per-user credentials, homes
// found by discovery.
func memEnv(t *testing.T, opts *caldavstore.Options) env {
	srv := caldavmem.Start(t, owners)
	mk := func(t *testing.T, creds caldavstore.CredentialProvider, o *caldavstore.Options) *caldavstore.Store {
		oo := caldavstore.Options{}
		if o != nil {
			oo = *o
		}
		oo.AllowInsecure = true
		if len(oo.ProvenanceKey) == 0 && !oo.UnsignedProvenance {
			oo.ProvenanceKey = testKey
		}
		s, err := caldavstore.New(srv.URL, creds, &oo)
		require.NoError(t, err)
		return s
	}
	s := mk(t, perUserCreds(), opts)
	setupCalendars(t, s)
	return env{
		store: s, url: srv.URL, newStore: mk,
		raw: func(t *testing.T, owner, cal, name string, body []byte) {
			rawPut(t, strings.TrimSuffix(srv.URL, "/")+caldavmem.Home(owner)+cal+"/"+name, owner, owners[owner], body)
		},
	}
}

// radicaleEnv: a real Radicale, one admin credential, Radicale's layout.
func radicaleEnv(t *testing.T, opts *caldavstore.Options) env {
	srv := radicale.Start(t, owners)
	mk := func(t *testing.T, creds caldavstore.CredentialProvider, o *caldavstore.Options) *caldavstore.Store {
		oo := caldavstore.Options{}
		if o != nil {
			oo = *o
		}
		oo.AllowInsecure = true
		if oo.Home == nil {
			oo.Home = caldavstore.HomeUnder("/")
		}
		if len(oo.ProvenanceKey) == 0 && !oo.UnsignedProvenance {
			oo.ProvenanceKey = testKey
		}
		s, err := caldavstore.New(srv.URL, creds, &oo)
		require.NoError(t, err)
		return s
	}
	s := mk(t, caldavstore.Admin(radicale.AdminUser, srv.AdminPassword), opts)
	setupCalendars(t, s)
	return env{
		store: s, url: srv.URL, newStore: mk,
		raw: func(t *testing.T, owner, cal, name string, body []byte) {
			rawPut(t, srv.URL+owner+"/"+cal+"/"+name, owner, owners[owner], body)
		},
	}
}

var envs = []struct {
	name string
	new  func(t *testing.T, opts *caldavstore.Options) env
}{
	{"inprocess", memEnv},
	{"radicale", radicaleEnv},
}

func forEachEnv(t *testing.T, opts *caldavstore.Options, f func(t *testing.T, e env)) {
	for _, en := range envs {
		t.Run(en.name, func(t *testing.T) {
			f(t, en.new(t, opts))
		})
	}
}

func event(uid, summary string, seq int) calendar.Entry {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return calendar.Entry{
		Calendar:  "calendar",
		UID:       uid,
		Organizer: "mallory@evil.example",
		Master: &calendar.Occurrence{
			Sequence: seq, Summary: summary, Start: start, End: start.Add(time.Hour), Status: "TENTATIVE",
			Organizer: "mallory@evil.example",
			Attendees: []calendar.Attendee{{Email: "alice@example.com", PartStat: "NEEDS-ACTION"}},
		},
	}
}

func TestProvenanceRoundTrip(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		cases := []struct {
			name string
			prov calendar.Provenance
		}{
			{"invite", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "Inv.1+x@Evil.Example", Organizer: "mallory@evil.example", Method: "REQUEST", SeriesUID: "series-1@evil.example"}},
			{"imported with odd file name", calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: `"quoted;local"@evil.example`, Attachment: "Réunion, 1&2=3;.ics"}},
			{"user", calendar.Provenance{Kind: calendar.ProvenanceUser}},
			{"unknown", calendar.Provenance{}},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				en := event("round-trip-"+string(rune('a'+i))+"@evil.example", "Round trip", 0)
				en.Provenance = tc.prov
				put, err := e.store.Put(ctx, "alice@example.com", en)
				require.NoError(t, err)
				assert.Equal(t, tc.prov, put.Provenance)
				assert.NotEmpty(t, put.ID)

				got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: en.UID})
				require.NoError(t, err)
				require.Len(t, got, 1)
				assert.Equal(t, tc.prov, got[0].Provenance)
				assert.Equal(t, put.ID, got[0].ID)
				assert.Equal(t, "calendar", got[0].Calendar)
				require.NotNil(t, got[0].Master)
				assert.Equal(t, "Round trip", got[0].Master.Summary)
				assert.Equal(t, "mallory@evil.example", got[0].Organizer)

				if tc.prov.MessageID != "" {
					byMID, err := e.store.Find(ctx, "alice@example.com", calendar.Query{MessageID: "<" + strings.ToUpper(tc.prov.MessageID) + ">"})
					require.NoError(t, err)
					require.Len(t, byMID, 1)
					assert.Equal(t, en.UID, byMID[0].UID)
				}
			})
		}
	})
}

// Radicale compares text as case-insensitive substrings, go-webdav as
// case-sensitive substrings; the store must return exact matches only.
func TestFindIsExact(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		items := []struct{ uid, mid string }{
			{"team-sync@example.com", "m1@example.org"},
			{"TEAM-SYNC@example.com", "M1@example.org.evil"},
			{"team-sync@example.com.evil", "xm1@example.org"},
			{"team-sync@example.co", "m1@example.or"},
		}
		for i, it := range items {
			en := event(it.uid, "exact", 0)
			if i%2 == 1 {
				en.Calendar = "work"
			}
			en.Provenance = calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: it.mid}
			_, err := e.store.Put(ctx, "bob@example.com", en)
			require.NoError(t, err)
		}
		for _, it := range items {
			got, err := e.store.Find(ctx, "bob@example.com", calendar.Query{UID: it.uid})
			require.NoError(t, err)
			require.Len(t, got, 1, "UID %q", it.uid)
			assert.Equal(t, it.uid, got[0].UID)

			got, err = e.store.Find(ctx, "bob@example.com", calendar.Query{MessageID: it.mid})
			require.NoError(t, err)
			require.Len(t, got, 1, "message id %q", it.mid)
			assert.Equal(t, it.uid, got[0].UID)
		}
		// Message ids match case-insensitively: "M1@EXAMPLE.ORG" is m1@example.org only.
		got, err := e.store.Find(ctx, "bob@example.com", calendar.Query{MessageID: "M1@EXAMPLE.ORG"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "team-sync@example.com", got[0].UID)

		none, err := e.store.Find(ctx, "bob@example.com", calendar.Query{UID: "team-sync"})
		require.NoError(t, err)
		assert.Empty(t, none)
		assert.NotNil(t, none)

		_, err = e.store.Find(ctx, "bob@example.com", calendar.Query{})
		assert.ErrorIs(t, err, calendar.ErrEmptyQuery)
	})
}

func TestPutReplacesSameUID(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		first, err := e.store.Put(ctx, "carol@example.com", event("series@evil.example", "v1", 0))
		require.NoError(t, err)
		second, err := e.store.Put(ctx, "carol@example.com", event("series@evil.example", "v2", 1))
		require.NoError(t, err)
		assert.Equal(t, first.ID, second.ID)
		got, err := e.store.Find(ctx, "carol@example.com", calendar.Query{UID: "series@evil.example"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "v2", got[0].Master.Summary)
		assert.Equal(t, 1, got[0].Master.Sequence)
	})
}

func TestDeleteIsIdempotent(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		put, err := e.store.Put(ctx, "alice@example.com", event("gone@evil.example", "gone", 0))
		require.NoError(t, err)
		require.NoError(t, e.store.Delete(ctx, "alice@example.com", "calendar", put.ID, ""))
		require.NoError(t, e.store.Delete(ctx, "alice@example.com", "calendar", put.ID, ""), "deleting a gone object")
		require.NoError(t, e.store.Delete(ctx, "alice@example.com", "no-such-calendar", put.ID, ""), "deleting in a gone calendar")
		got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: "gone@evil.example"})
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.Error(t, e.store.Delete(ctx, "alice@example.com", "calendar", "../bob@example.com", ""))
	})
}

func TestErrors(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		t.Run("wrong password keeps 401 and hides the password", func(t *testing.T) {
			const bad = "not-the-password-42"
			s := e.newStore(t, caldavstore.PerUser(map[string]caldavstore.Credential{
				"alice@example.com": {Username: "alice@example.com", Password: bad},
			}), nil)
			_, err := s.Calendars(ctx, "alice@example.com")
			require.Error(t, err)
			var he *caldavstore.HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
			assert.NotContains(t, err.Error(), bad)
			_, err = s.Put(ctx, "alice@example.com", event("x@y", "x", 0))
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
			assert.NotContains(t, err.Error(), bad)
		})
		t.Run("missing calendar", func(t *testing.T) {
			en := event("nocal@evil.example", "x", 0)
			en.Calendar = "no-such-calendar"
			_, err := e.store.Put(ctx, "alice@example.com", en)
			assert.ErrorIs(t, err, calendar.ErrNotFound)
			en.ID = "given.ics"
			_, err = e.store.Put(ctx, "alice@example.com", en)
			assert.ErrorIs(t, err, calendar.ErrNotFound)
		})
		t.Run("unknown owner", func(t *testing.T) {
			_, err := e.store.Calendars(ctx, "nobody@example.com")
			assert.ErrorIs(t, err, calendar.ErrNoOwner)
			_, err = e.store.Calendars(ctx, "../alice@example.com")
			assert.ErrorIs(t, err, calendar.ErrNoOwner)
		})
		t.Run("cancelled context", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := e.store.Find(cctx, "alice@example.com", calendar.Query{UID: "x"})
			assert.ErrorIs(t, err, context.Canceled)
			_, err = e.store.Put(cctx, "alice@example.com", event("x@y", "x", 0))
			assert.ErrorIs(t, err, context.Canceled)
		})
		t.Run("UID mismatch", func(t *testing.T) {
			en := event("a@evil.example", "x", 0)
			raw, err := calendar.Encode(en)
			require.NoError(t, err)
			en.UID = "b@evil.example"
			en.Raw = raw
			_, err = e.store.Put(ctx, "alice@example.com", en)
			assert.ErrorIs(t, err, calendar.ErrInvalid)
		})
	})
}

const plainObject = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Some Client//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:mine\r\nORGANIZER:mailto:mallory@evil.example\r\n%sEND:VEVENT\r\nEND:VCALENDAR\r\n"

func TestProvenanceFromOtherClients(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	forEachEnv(t, &caldavstore.Options{ProvenanceKey: key}, func(t *testing.T, e env) {
		ctx := t.Context()
		// An object a calendar program wrote: no provenance property.
		e.raw(t, "alice@example.com", "calendar", "plain.ics", []byte(strings.ReplaceAll(
			strings.Replace(plainObject, "%s", "plain@evil.example", 1), "%s", "")))
		// An object whose author forged the property (an attacker's .ics imported by a client).
		forged := "X-ERADICATE-PROVENANCE:v=1&kind=invite&message-id=evil%40evil.example&match=evil%40evil.example&sig=\r\n"
		e.raw(t, "alice@example.com", "calendar", "forged.ics", []byte(strings.Replace(
			strings.Replace(plainObject, "%s", "forged@evil.example", 1), "%s", forged, 1)))

		for _, uid := range []string{"plain@evil.example", "forged@evil.example"} {
			got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: uid})
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, calendar.ProvenanceUnknown, got[0].Provenance.Kind, uid)
		}
		got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{MessageID: "evil@evil.example"})
		require.NoError(t, err)
		assert.Empty(t, got, "a forged, unsigned property must not select the entry")

		// The same forged text given to Put as Raw: the property is replaced.
		en := calendar.Entry{Calendar: "work", Raw: []byte(strings.Replace(
			strings.Replace(plainObject, "%s", "forged2@evil.example", 1), "%s", forged, 1))}
		put, err := e.store.Put(ctx, "alice@example.com", en)
		require.NoError(t, err)
		assert.Equal(t, calendar.ProvenanceUnknown, put.Provenance.Kind)
		assert.NotContains(t, string(put.Raw), "X-ERADICATE-PROVENANCE")

		// Without the key the signed property is read; with another key it is not.
		signed := event("signed@evil.example", "s", 0)
		signed.Provenance = calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "s@evil.example"}
		_, err = e.store.Put(ctx, "alice@example.com", signed)
		require.NoError(t, err)
		other := e.newStore(t, perUserCreds(), &caldavstore.Options{ProvenanceKey: []byte("another key")})
		got, err = other.Find(ctx, "alice@example.com", calendar.Query{UID: "signed@evil.example"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, calendar.ProvenanceUnknown, got[0].Provenance.Kind)
	})
}

func TestNew(t *testing.T) {
	cases := []struct {
		name     string
		endpoint string
		creds    caldavstore.CredentialProvider
		opts     *caldavstore.Options
		want     error
	}{
		{"http refused", "http://cal.example.com/", perUserCreds(), nil, caldavstore.ErrInsecure},
		{"admin needs home", "https://cal.example.com/", caldavstore.Admin("admin", "pw"), &caldavstore.Options{ProvenanceKey: testKey}, caldavstore.ErrNeedHome},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := caldavstore.New(tc.endpoint, tc.creds, tc.opts)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	_, err := caldavstore.New("https://admin:pw@cal.example.com/", perUserCreds(), nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw@")
	s, err := caldavstore.New("https://cal.example.com/", caldavstore.Admin("admin", "pw"), &caldavstore.Options{Home: caldavstore.HomeUnder("/"), ProvenanceKey: testKey})
	require.NoError(t, err)
	assert.NotNil(t, s)
}

func TestCredentialRedaction(t *testing.T) {
	c := caldavstore.Credential{Username: "admin", Password: "hunter2"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		assert.NotContains(t, s, "hunter2")
		assert.Contains(t, s, "admin")
	}
	_, err := caldavstore.PerUser(nil).Credential(context.Background(), "x@example.com")
	assert.True(t, errors.Is(err, calendar.ErrNoOwner))
}

// With per-user credentials and no Options.Home the store finds each
// owner's home by discovery (current-user-principal, calendar-home-set).
func TestDiscovery(t *testing.T) {
	cases := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"inprocess", func(t *testing.T) string { return memEnv(t, nil).url }},
		{"radicale", func(t *testing.T) string { return radicaleEnv(t, nil).url }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := caldavstore.New(tc.url(t), perUserCreds(), &caldavstore.Options{AllowInsecure: true, ProvenanceKey: testKey})
			require.NoError(t, err)
			for u := range owners {
				cals, err := s.Calendars(t.Context(), u)
				require.NoError(t, err)
				assert.Equal(t, []calendar.Info{{ID: "calendar", Name: "Calendar"}, {ID: "work", Name: "Work"}}, cals, u)
				def, err := s.DefaultCalendar(t.Context(), u)
				require.NoError(t, err)
				assert.Equal(t, "calendar", def)
			}
			_, err = s.Calendars(t.Context(), "nobody@example.com")
			assert.ErrorIs(t, err, calendar.ErrNoOwner)
		})
	}
}

func TestPutRawAndExplicitID(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		raw := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Evil//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:raw-1@evil.example\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:raw\r\nORGANIZER:mailto:Mallory@Evil.Example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		put, err := e.store.Put(ctx, "carol@example.com", calendar.Entry{Calendar: "work", ID: "chosen-name.ics", Raw: []byte(raw),
			Provenance: calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: "raw@evil.example", Attachment: "invite.ics"}})
		require.NoError(t, err)
		assert.Equal(t, "chosen-name.ics", put.ID)
		assert.Equal(t, "raw-1@evil.example", put.UID)
		assert.Equal(t, "mallory@evil.example", put.Organizer)
		assert.NotContains(t, string(put.Raw), "METHOD:", "a calendar resource has no METHOD")
		assert.Contains(t, string(put.Raw), "DTSTAMP:", "DTSTAMP is added")

		got, err := e.store.Find(ctx, "carol@example.com", calendar.Query{MessageID: "raw@evil.example"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "work", got[0].Calendar)
		assert.Equal(t, "chosen-name.ics", got[0].ID)
		assert.Equal(t, calendar.ProvenanceImported, got[0].Provenance.Kind)

		// A Put by UID replaces the object where it is, under its name.
		again := got[0]
		again.ID = ""
		again.Provenance = calendar.Provenance{Kind: calendar.ProvenanceUser}
		put2, err := e.store.Put(ctx, "carol@example.com", again)
		require.NoError(t, err)
		assert.Equal(t, "chosen-name.ics", put2.ID)
		got, err = e.store.Find(ctx, "carol@example.com", calendar.Query{UID: "raw-1@evil.example"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, calendar.ProvenanceUser, got[0].Provenance.Kind)
	})
}

// Put of a new UID never replaces an object of another UID that holds the
// name ObjectName gives it: another client's object named like the UID,
// or a UID chosen to hash like another. Both entries stay, each found by
// its UID.
func TestPutNeverReplacesAnotherUID(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		body := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//EN\r\nBEGIN:VEVENT\r\nUID:4f1c2e-other-client-uid\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:user event\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
		e.raw(t, "alice@example.com", "calendar", "standup.ics", body)
		a := event("standup", "invite", 0)
		a.Provenance = calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "evil@evil.example"}
		put, err := e.store.Put(ctx, "alice@example.com", a)
		require.NoError(t, err)
		assert.NotEqual(t, "standup.ics", put.ID)
		for _, uid := range []string{"4f1c2e-other-client-uid", "standup"} {
			got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: uid})
			require.NoError(t, err)
			assert.Len(t, got, 1, uid)
		}

		victimUID := "{Team Sync}+1"
		v := event(victimUID, "victim", 0)
		v.Provenance = calendar.Provenance{Kind: calendar.ProvenanceUser}
		_, err = e.store.Put(ctx, "alice@example.com", v)
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(victimUID))
		look := event("sha256-"+hex.EncodeToString(sum[:]), "look-alike", 0)
		_, err = e.store.Put(ctx, "alice@example.com", look)
		require.NoError(t, err)
		for _, uid := range []string{victimUID, look.UID} {
			got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: uid})
			require.NoError(t, err)
			assert.Len(t, got, 1, uid)
		}
	})
}

// With a ProvenanceKey, a signed provenance property copied into another
// owner's calendar (a client import of the text) reads as unknown there:
// a hard delete of the invite never removes that copy.
func TestSignedProvenanceBoundToOwner(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	forEachEnv(t, &caldavstore.Options{ProvenanceKey: key}, func(t *testing.T, e env) {
		ctx := t.Context()
		src := event("replay@evil.example", "bob's invite", 0)
		src.Provenance = calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "m-bob@evil.example", Method: "REQUEST"}
		put, err := e.store.Put(ctx, "bob@example.com", src)
		require.NoError(t, err)
		got, err := e.store.Find(ctx, "bob@example.com", calendar.Query{MessageID: "m-bob@evil.example"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, calendar.ProvenanceInvite, got[0].Provenance.Kind, "verifies for its owner")

		e.raw(t, "alice@example.com", "work", "imported-by-client.ics", put.Raw)
		got, err = e.store.Find(ctx, "alice@example.com", calendar.Query{UID: "replay@evil.example"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, calendar.ProvenanceUnknown, got[0].Provenance.Kind, "a copy in another owner's calendar does not verify")
	})
}
