package caldavstore_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
)

// Without a provenance key, any writer to a calendar could forge invite
// provenance: New refuses unless unsigned provenance is chosen explicitly,
// and then warns.
func TestNewWithoutProvenanceKeyFails(t *testing.T) {
	_, err := caldavstore.New("https://cal.example.com/", perUserCreds(), nil)
	require.Error(t, err, "no options, no key")
	assert.ErrorIs(t, err, caldavstore.ErrNoProvenanceKey)
	_, err = caldavstore.New("https://cal.example.com/", perUserCreds(), &caldavstore.Options{})
	assert.ErrorIs(t, err, caldavstore.ErrNoProvenanceKey)

	var logs bytes.Buffer
	s, err := caldavstore.New("https://cal.example.com/", perUserCreds(), &caldavstore.Options{
		UnsignedProvenance: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err, "an explicit choice")
	require.NotNil(t, s)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "UNSIGNED PROVENANCE")

	logs.Reset()
	key := []byte("a secret provenance key, never logged")
	_, err = caldavstore.New("https://cal.example.com/", perUserCreds(), &caldavstore.Options{ProvenanceKey: key,
		UnsignedProvenance: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	assert.Empty(t, logs.String(), "a key wins; nothing to warn about")
	assert.NotContains(t, logs.String(), string(key))
}

// A calendar client (the owner's, a delegate's) writes an entry carrying
// a forged, unsigned provenance property claiming an invite created it: a
// hard delete of the message it names must not remove it.
func TestForgedProvenanceFromCalendarClientNotRemoved(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		forged := "X-ERADICATE-PROVENANCE:v=1&kind=invite&message-id=evil%40evil.example&organizer=mallory%40evil.example" +
			"&method=REQUEST&series-uid=personal%40example.com&created-by=evil%40evil.example&match=evil%40evil.example&sig=\r\n"
		e.raw(t, "alice@example.com", "calendar", "personal.ics", []byte(strings.Replace(
			strings.Replace(plainObject, "%s", "personal@example.com", 1), "%s", forged, 1)))

		rep, err := calendar.RemoveInviteEntries(ctx, e.store, "alice@example.com",
			calendar.Series{UID: "personal@example.com", Organizer: "mallory@evil.example", MessageID: "evil@evil.example"})
		require.NoError(t, err)
		assert.Empty(t, rep.Removed)
		got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: "personal@example.com"})
		require.NoError(t, err)
		require.Len(t, got, 1, "the personal entry stays")
		assert.Equal(t, calendar.ProvenanceUnknown, got[0].Provenance.Kind)
	})
}

// The creator and the previous version are stored, signed: a client that
// changes the stored previous version (to have a revert write its text)
// or the creator invalidates the provenance.
func TestProvenanceCreatorAndPreviousSigned(t *testing.T) {
	forEachEnv(t, nil, func(t *testing.T, e env) {
		ctx := t.Context()
		prevEntry := event("signed-prev@example.com", "before", 0)
		prev, err := calendar.Encode(prevEntry)
		require.NoError(t, err)
		en := event("signed-prev@example.com", "after", 1)
		en.Provenance = calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "upd@evil.example", CreatedBy: "real@corp.example",
			Organizer: "mallory@evil.example", Method: "REQUEST", SeriesUID: "signed-prev@example.com",
			Previous: &calendar.Revision{MessageID: "real@corp.example", Method: "REQUEST", Raw: prev}}
		put, err := e.store.Put(ctx, "alice@example.com", en)
		require.NoError(t, err)
		got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: en.UID})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.True(t, en.Provenance.Equal(got[0].Provenance), "round-trips: %+v", got[0].Provenance)

		for _, tamper := range []struct{ from, to string }{
			{"created-by=real%40corp.example", "created-by=upd%40evil.example"},
			{"prev-message-id=real", "prev-message-id=xreal"},
		} {
			raw := unfold(string(put.Raw))
			require.Contains(t, raw, tamper.from)
			e.raw(t, "alice@example.com", "calendar", put.ID, []byte(strings.ReplaceAll(raw, tamper.from, tamper.to)))
			got, err := e.store.Find(ctx, "alice@example.com", calendar.Query{UID: en.UID})
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, calendar.ProvenanceUnknown, got[0].Provenance.Kind, tamper.to)
		}
	})
}

// unfold undoes iCalendar line folding.
func unfold(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n ", ""), "\r\n\t", "")
}
