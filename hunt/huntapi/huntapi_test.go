package huntapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/huntapi"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

var users = []string{"alice@corp.example", "bob@corp.example", "carol@corp.example", "dave@corp.example"}

// message is a raw message; hour orders the deliveries (its Date, which
// the crawler takes as the delivery time when there is no Received).
func message(id, from, envFrom, subject string, hour int, to ...string) []byte {
	return fmt.Appendf(nil, "Return-Path: <%s>\r\nMessage-ID: <%s>\r\nFrom: Sender <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 7 Dec 2026 %02d:00:00 +0000\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nPlease see https://evil.example/%s now.\r\n"+
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"%s.bin\"\r\n\r\nthe attachment of %s, long enough to be digested\r\n--b--\r\n",
		envFrom, id, from, strings.Join(to, ", "), subject, hour, id, id, id)
}

// fixture is a mock tenant with a campaign and other mail, crawled into a
// SQLite index.
type fixture struct {
	tenant *mock.Tenant
	store  *sqlstore.Store
	index  *huntapi.Index
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := t.Context()
	ten := mock.New(nil)
	for _, u := range users {
		require.NoError(t, ten.AddUser(u))
	}
	for _, m := range []struct {
		raw []byte
		to  []string
	}{
		{message("invoice-1@evil.example", "billing@evil.example", "bounce@evil.example", "Your invoice 42", 9, users[0], users[1], users[2]), users[:3]},
		{message("invoice-2@evil.example", "billing@evil.example", "bounce@evil.example", "Your INVOICE 43", 11, users[0], users[3]), []string{users[0], users[3]}},
		{message("lunch@corp.example", "bob@corp.example", "bob@corp.example", "Re: lunch", 10, users[0]), []string{users[0]}},
		{message("news@good.example", "news@good.example", "bounce@evil.example", "It's news", 8, users[2]), []string{users[2]}},
	} {
		_, err := ten.Deliver(ctx, m.raw, &mock.DeliverOptions{Recipients: m.to})
		require.NoError(t, err)
	}
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hunt.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	_, err = hunt.NewCrawler(ten, st, nil).Crawl(ctx)
	require.NoError(t, err)
	return &fixture{tenant: ten, store: st, index: huntapi.New(st)}
}

// copies names entries by Message-ID and recipient, in the order given.
func copies(es []api.AnalyzedEmail) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.NetworkMessageID+" "+e.RecipientEmailAddress)
	}
	return out
}

func TestAnalyzedEmails(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	inv1 := func(rcpts ...int) []string {
		var out []string
		for _, r := range rcpts {
			out = append(out, "invoice-1@evil.example "+users[r])
		}
		return out
	}
	for _, tc := range []struct {
		filter string
		top    int
		want   []string // in order: newest first, then by mailbox
	}{
		{"networkMessageId eq 'invoice-1@evil.example'", 0, inv1(0, 1, 2)},
		{"internetMessageId eq '<INVOICE-1@evil.example>'", 0, inv1(0, 1, 2)},
		{"networkMessageId eq 'invoice-1@evil.example'", 2, inv1(0, 1)},
		{"networkMessageId eq 'invoice-1@evil.example' and recipientEmailAddress eq 'Bob@Corp.Example'", 0, inv1(1)},
		{"senderDetail/fromAddress eq 'billing@evil.example'", 0, []string{
			"invoice-2@evil.example " + users[0], "invoice-2@evil.example " + users[3],
			"invoice-1@evil.example " + users[0], "invoice-1@evil.example " + users[1], "invoice-1@evil.example " + users[2]}},
		// The envelope sender only: the news message's P1 is the campaign's.
		{"senderDetail/mailFromAddress eq 'bounce@evil.example' and recipientEmailAddress eq 'carol@corp.example'", 0, []string{
			"invoice-1@evil.example " + users[2], "news@good.example " + users[2]}},
		{"senderDetail/fromAddress eq 'bounce@evil.example'", 0, nil},
		{"contains(subject,'invoice') and recipientEmailAddress eq 'alice@corp.example'", 0, []string{
			"invoice-2@evil.example " + users[0], "invoice-1@evil.example " + users[0]}},
		{"subject eq 'your invoice 42'", 0, inv1(0, 1, 2)},
		{"subject eq 'invoice 42'", 0, nil},
		{"startswith(subject,'Re:')", 0, []string{"lunch@corp.example " + users[0]}},
		{"subject eq 'It''s news'", 0, []string{"news@good.example " + users[2]}},
		{"contains(subject,'invoice') and loggedDateTime ge 2026-12-07T10:00:00Z", 0, []string{
			"invoice-2@evil.example " + users[0], "invoice-2@evil.example " + users[3]}},
		{"contains(subject,'invoice') and loggedDateTime lt 2026-12-07T11:00:00Z and loggedDateTime ge 2026-12-07T09:00:00Z", 0, inv1(0, 1, 2)},
		{"contains(subject,'invoice') and loggedDateTime gt 2026-12-07T11:00:00Z", 0, nil},
		{"recipientEmailAddress eq 'dave@corp.example'", 0, []string{"invoice-2@evil.example " + users[3]}},
		{"networkMessageId eq 'invoice-1@evil.example' and internetMessageId eq 'invoice-2@evil.example'", 0, nil},
	} {
		got, err := f.index.AnalyzedEmails(ctx, api.IndexQuery{Filter: tc.filter, Top: tc.top})
		require.NoError(t, err, tc.filter)
		assert.Equal(t, tc.want, copies(got), tc.filter)
	}

	// An entry in full.
	got, err := f.index.AnalyzedEmails(ctx, api.IndexQuery{Filter: "recipientEmailAddress eq 'dave@corp.example'"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	e := got[0]
	assert.Equal(t, "invoice-2@evil.example", e.NetworkMessageID)
	assert.Equal(t, "<invoice-2@evil.example>", e.InternetMessageID)
	assert.Equal(t, "Your INVOICE 43", e.Subject)
	assert.Equal(t, time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC), e.LoggedDateTime)
	assert.Equal(t, &api.AnalyzedEmailSender{FromAddress: "billing@evil.example", DisplayName: "Sender", MailFromAddress: "bounce@evil.example"}, e.SenderDetail)
	assert.Equal(t, &api.AnalyzedEmailDelivery{Location: "inbox_folder", Folder: "INBOX"}, e.LatestDelivery)
	assert.Equal(t, e.LatestDelivery, e.OriginalDelivery)
	assert.Positive(t, e.Size)
	assert.Empty(t, e.URLs, "a list leaves URLs out")

	one, err := f.index.AnalyzedEmail(ctx, e.ID)
	require.NoError(t, err)
	assert.Equal(t, e.ID, one.ID)
	assert.Equal(t, []api.AnalyzedEmailURL{{URL: "https://evil.example/invoice-2@evil.example"}}, one.URLs)
	require.Len(t, one.Attachments, 1)
	assert.Equal(t, "invoice-2@evil.example.bin", one.Attachments[0].FileName)
	assert.Len(t, one.Attachments[0].SHA256, 64)

	for _, id := range []string{"", "x", e.ID + "0", strings.Replace(e.ID, ".", "", 1), "00000000-0000-8000-8000-000000000000." + strings.SplitN(e.ID, ".", 2)[1]} {
		_, err := f.index.AnalyzedEmail(ctx, id)
		assert.ErrorIs(t, err, remediation.ErrNotFound, id)
	}
}

func TestAnalyzedEmailsFollowsMoves(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	list := func() api.AnalyzedEmail {
		got, err := f.index.AnalyzedEmails(ctx, api.IndexQuery{Filter: "recipientEmailAddress eq 'dave@corp.example'"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		return got[0]
	}
	before := list()
	cs, err := f.tenant.Copies(users[3])
	require.NoError(t, err)
	require.Len(t, cs, 1)
	_, err = f.tenant.Move(ctx, []mailbox.Address{cs[0].Address}, mailbox.In(mailbox.RoleJunk))
	require.NoError(t, err)
	_, err = hunt.NewCrawler(f.tenant, f.store, nil).Crawl(ctx, users[3])
	require.NoError(t, err)
	after := list()
	assert.Equal(t, before.ID, after.ID, "the id of a copy stays when it moves")
	assert.Equal(t, "junkFolder", after.LatestDelivery.Location)
	assert.Equal(t, &api.AnalyzedEmailDelivery{Folder: "INBOX"}, after.OriginalDelivery)
}

func TestAnalyzedEmailsRefuses(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		q    api.IndexQuery
		says string
	}{
		{api.IndexQuery{}, "must name at least one"},
		{api.IndexQuery{Filter: "loggedDateTime ge 2026-12-01T00:00:00Z"}, "a time range alone"},
		{api.IndexQuery{Filter: "subject eq 'a' or subject eq 'b'"}, `"or" is not supported`},
		{api.IndexQuery{Filter: "subject eq 'a' and contains(subject,'b')"}, "twice"},
		{api.IndexQuery{Filter: "recipientEmailAddress eq 'nobody'"}, "not an address"},
		{api.IndexQuery{Filter: "networkMessageId eq '<>'"}, "empty"},
		{api.IndexQuery{Filter: "subject eq 'a'", Top: huntapi.MaxTop + 1}, "$top must be between"},
	} {
		_, err := f.index.AnalyzedEmails(t.Context(), tc.q)
		require.ErrorIs(t, err, remediation.ErrInvalidRequest, tc.q.Filter)
		assert.Contains(t, err.Error(), tc.says, tc.q.Filter)
	}
}

// TestHuntThenRemediate: through the HTTP API, a SOC lists a campaign's
// copies from the index, remediates exactly those with Graph's remediate,
// and after the next crawl the index shows them gone from the inboxes.
func TestHuntThenRemediate(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	engine, err := remediation.New(f.tenant, f.tenant, journal.NewMemory(), &remediation.Options{
		Narrower: &hunt.Narrower{Index: f.store, MaxAge: time.Hour}})
	require.NoError(t, err)
	tok, err := api.NewToken()
	require.NoError(t, err)
	auth, err := api.NewTokens([]api.Token{{Name: "soc", SHA256: api.HashToken(tok), Roles: []api.Role{api.RoleAnalyst}}})
	require.NoError(t, err)
	h, err := api.New(engine, api.Options{Auth: auth, Index: f.index})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() { _ = h.Shutdown(context.Background()) }()
	call := func(method, path, body string) (int, map[string]any, http.Header) {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var v map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return resp.StatusCode, v, resp.Header
	}
	list := "/v1.0/security/collaboration/analyzedEmails?$top=10&$filter=" + url.QueryEscape("senderDetail/fromAddress eq 'billing@evil.example' and contains(subject,'invoice 42')")
	status, body, _ := call("GET", list, "")
	require.Equal(t, http.StatusOK, status, body)
	values := body["value"].([]any)
	require.Len(t, values, 3)
	var found []map[string]any
	for _, v := range values {
		e := v.(map[string]any)
		found = append(found, map[string]any{"networkMessageId": e["networkMessageId"], "recipientEmailAddress": e["recipientEmailAddress"]})
		st, one, _ := call("GET", "/v1.0/security/collaboration/analyzedEmails/"+url.PathEscape(e["id"].(string)), "")
		require.Equal(t, http.StatusOK, st, one)
		assert.Equal(t, e["recipientEmailAddress"], one["recipientEmailAddress"])
		assert.NotEmpty(t, one["attachments"])
	}

	// Anything outside the subset is a 400 in Graph's error shape.
	status, body, _ = call("GET", "/security/collaboration/analyzedEmails?$filter="+url.QueryEscape("threatTypes eq 'phish'"), "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "BadRequest", body["error"].(map[string]any)["code"])
	assert.Contains(t, body["error"].(map[string]any)["message"], "cannot be filtered on")
	status, body, _ = call("GET", "/security/collaboration/analyzedEmails/nope.0123456789abcdef", "")
	assert.Equal(t, http.StatusNotFound, status, body)

	rem, err := json.Marshal(map[string]any{"displayName": "invoice 42", "severity": "high", "action": "moveToDeletedItems", "analyzedEmails": found})
	require.NoError(t, err)
	status, body, hdr := call("POST", "/v1.0/security/collaboration/analyzedEmails/remediate", string(rem))
	require.Equal(t, http.StatusAccepted, status, body)
	loc, ok := strings.CutPrefix(hdr.Get("Location"), srv.URL)
	require.True(t, ok, "an absolute Location on this server: %q", hdr.Get("Location"))
	var rec *remediation.Record
	require.Eventually(t, func() bool {
		st, v, _ := call("GET", loc, "")
		require.Equal(t, http.StatusOK, st, v)
		if !remediation.Status(v["status"].(string)).Final() {
			return false
		}
		rec, err = engine.Get(ctx, v["id"].(string))
		require.NoError(t, err)
		return true
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, remediation.StatusCompleted, rec.Status)
	assert.EqualValues(t, 3, rec.Counts.Succeeded)
	for _, u := range users[:3] {
		cs, err := f.tenant.Copies(u)
		require.NoError(t, err)
		for _, c := range cs {
			if c.MessageID == "invoice-1@evil.example" {
				assert.Equal(t, mailbox.RoleDeleted, c.Role, u)
			}
		}
	}

	// The action's outcomes tell the index where the copies went.
	require.NoError(t, hunt.RecordAction(ctx, f.store, rec, engine.Outcomes(ctx, rec.ID)))
	status, body, _ = call("GET", list, "")
	require.Equal(t, http.StatusOK, status, body)
	require.Len(t, body["value"], 3)
	for _, v := range body["value"].([]any) {
		assert.Equal(t, "deletedFolder", v.(map[string]any)["latestDelivery"].(map[string]any)["location"])
	}
}

// FuzzAnalyzedEmails: any $filter over a real index is answered with
// entries or an invalid-request error (a 400), never another error (a
// 500) or a panic; entries come newest first, no more than $top.
func FuzzAnalyzedEmails(f *testing.F) {
	for _, s := range []string{
		"networkMessageId eq 'invoice-1@evil.example'",
		"senderDetail/fromAddress eq 'billing@evil.example' and contains(subject,'invoice')",
		"recipientEmailAddress eq 'alice@corp.example' and loggedDateTime ge 2026-12-07T10:00:00Z",
		"senderDetail/mailFromAddress eq '@' and subject eq 'x'",
		"startswith(subject,'%') and internetMessageId eq '<a>'",
	} {
		f.Add(s, 5)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, filter string, top int) {
		got, err := fx.index.AnalyzedEmails(context.Background(), api.IndexQuery{Filter: filter, Top: top % (huntapi.MaxTop + 2)})
		if err != nil {
			if !errors.Is(err, remediation.ErrInvalidRequest) {
				t.Fatalf("%q: %v is not an invalid request", filter, err)
			}
			return
		}
		if len(got) > max(top%(huntapi.MaxTop+2), huntapi.DefaultTop) {
			t.Fatalf("%q: %d entries for $top %d", filter, len(got), top)
		}
		for i := 1; i < len(got); i++ {
			if got[i].LoggedDateTime.After(got[i-1].LoggedDateTime) {
				t.Fatalf("%q: not newest first", filter)
			}
		}
	})
}
