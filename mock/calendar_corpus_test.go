package mock_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/internal/testenv/corpus"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// inviteManifest is what MANIFEST.jsonl says of an invite file.
type inviteManifest struct {
	File     string  `json:"file"`
	Method   *string `json:"cal_method"`
	UID      *string `json:"uid"`
	Sequence *string `json:"sequence"`
}

// corpusInvites returns the manifest lines of every file under invites/,
// sorted by file.
func corpusInvites(t *testing.T) (string, []inviteManifest) {
	t.Helper()
	dir := corpus.Dir(t)
	f, err := os.Open(filepath.Join(dir, "MANIFEST.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var out []inviteManifest
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m inviteManifest
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		if strings.HasPrefix(m.File, "invites/") {
			out = append(out, m)
		}
	}
	require.NoError(t, sc.Err())
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	require.GreaterOrEqual(t, len(out), 90, "the corpus holds about 100 invites")
	return dir, out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// firstInvite parses path and returns its parsed message and the invite of
// its first calendar part that has a METHOD, or of its first part.
func firstInvite(t *testing.T, path string) (*mailbox.Parsed, *calendar.Invite) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	p, _ := mailbox.Parse(raw)
	require.NotNil(t, p)
	require.NotEmpty(t, p.Calendars, "%s: no calendar part found", path)
	var first *calendar.Invite
	for i, c := range p.Calendars {
		inv, err := calendar.ParseInvite(c.Raw, c.Method)
		require.NoError(t, err, "%s part %d", path, i)
		require.NotEmpty(t, inv.UID)
		if first == nil || first.Method == "" && inv.Method != "" {
			first = inv
		}
	}
	return p, first
}

// TestInviteCorpusParses parses every calendar part of every invite in
// the corpus and checks what MANIFEST.jsonl recorded for it.
func TestInviteCorpusParses(t *testing.T) {
	dir, invites := corpusInvites(t)
	for _, m := range invites {
		t.Run(strings.TrimPrefix(m.File, "invites/"), func(t *testing.T) {
			_, inv := firstInvite(t, filepath.Join(dir, m.File))
			assert.Equal(t, str(m.Method), inv.Method)
			assert.Equal(t, str(m.UID), inv.UID)
			if m.Sequence != nil {
				seq, err := strconv.Atoi(*m.Sequence)
				require.NoError(t, err)
				assert.Equal(t, seq, inv.Sequence)
			}
			e := inv.Entry
			require.True(t, e.Master != nil || len(e.Overrides) > 0)
			dec, err := calendar.DecodeEntry(e.Raw)
			require.NoError(t, err, "the entry text the invite gives must decode again")
			assert.Equal(t, inv.UID, dec.UID)
		})
	}
}

// newCorpusTenant returns a tenant with the given users.
func newCorpusTenant(t *testing.T, users ...string) *mock.Tenant {
	t.Helper()
	tn := mock.New(&mock.Options{Logger: calLogger(t)})
	for _, u := range users {
		require.NoError(t, tn.AddUser(u))
	}
	return tn
}

// TestInviteCorpusDeliverRequests delivers each REQUEST of the corpus to
// three users and checks that each got exactly one invite-provenance
// entry of the invite's UID, naming the message.
func TestInviteCorpusDeliverRequests(t *testing.T) {
	dir, invites := corpusInvites(t)
	users := []string{"ann@tenant.example", "ben@tenant.example", "cat@tenant.example"}
	n := 0
	for _, m := range invites {
		if str(m.Method) != calendar.MethodRequest {
			continue
		}
		n++
		t.Run(strings.TrimPrefix(m.File, "invites/"), func(t *testing.T) {
			ctx := context.Background()
			raw, err := os.ReadFile(filepath.Join(dir, m.File))
			require.NoError(t, err)
			tn := newCorpusTenant(t, users...)
			addrs, err := tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: users})
			require.NoError(t, err)
			require.Len(t, addrs, 3)
			require.Empty(t, tn.InviteErrors())
			p, inv := firstInvite(t, filepath.Join(dir, m.File))
			if !isIMIP(p) {
				// An .ics attachment without a Content-Type method is
				// a file, not an iMIP invitation (RFC 6047 section
				// 2.4): delivery leaves it to the user, who may import
				// it.
				for i, u := range users {
					got, err := tn.Find(ctx, u, calendar.Query{UID: inv.UID})
					require.NoError(t, err)
					require.Empty(t, got, "%s: an attached file is not processed on delivery", u)
					imp, err := tn.ImportICS(ctx, u, addrs[i], "")
					require.NoError(t, err)
					require.Len(t, imp, 1)
					assert.Equal(t, calendar.ProvenanceImported, imp[0].Provenance.Kind)
				}
				return
			}
			for _, u := range users {
				got, err := tn.Find(ctx, u, calendar.Query{UID: inv.UID})
				require.NoError(t, err)
				require.Len(t, got, 1, "%s: one entry per recipient", u)
				assert.Equal(t, calendar.ProvenanceInvite, got[0].Provenance.Kind)
				assert.Equal(t, imipproc.InviteMessageID(p), got[0].Provenance.MessageID)
				assert.Equal(t, inv.Organizer, got[0].Provenance.Organizer)
				assert.Equal(t, inv.UID, got[0].Provenance.SeriesUID)
				assert.Equal(t, mock.DefaultCalendarID, got[0].Calendar)
				if got[0].Master != nil && strings.Contains(string(got[0].Raw), "BEGIN:VEVENT") {
					assert.Equal(t, "TENTATIVE", got[0].Master.Status)
					for _, a := range got[0].Master.Attendees {
						if a.Email == u {
							assert.Equal(t, "NEEDS-ACTION", a.PartStat)
						}
					}
				}
				// The hard-delete rule removes exactly that entry.
				rep, err := calendar.RemoveInviteEntries(ctx, tn, u, inv.Series(imipproc.InviteMessageID(p)))
				require.NoError(t, err)
				assert.Len(t, rep.Removed, 1)
				assert.Empty(t, rep.Kept)
			}
		})
	}
	assert.GreaterOrEqual(t, n, 60, "REQUESTs in the corpus")
}

// isIMIP reports whether p carries an iMIP part: an inline calendar part,
// or an attached one whose Content-Type names a method.
func isIMIP(p *mailbox.Parsed) bool {
	for _, c := range p.Calendars {
		if !c.Attachment || c.Method != "" {
			return true
		}
	}
	return false
}

// chainStep is one message of an invite chain and the action it must have.
type chainStep struct {
	file   string
	action calendar.Action
}

// TestInviteCorpusChains delivers the REQUEST -> update -> CANCEL chains
// of the corpus in order and checks each step's action and the final
// state of the entry.
func TestInviteCorpusChains(t *testing.T) {
	dir := corpus.Dir(t)
	const (
		created   = calendar.ActionCreated
		updated   = calendar.ActionUpdated
		cancelled = calendar.ActionCancelled
		stale     = calendar.ActionStale
		noEntry   = calendar.ActionNoEntry
	)
	tests := []struct {
		name      string
		steps     []chainStep
		status    string // final master status
		seq       int    // final master SEQUENCE
		summary   string
		exdates   int
		overrides []string // statuses of the overrides, in time order
	}{
		{
			name:   "exchange request then cancel",
			steps:  []chainStep{{"calmailproc/test-01-1.eml", created}, {"calmailproc/test-01-2.eml", cancelled}},
			status: "CANCELLED", seq: 1,
		},
		{
			name: "exchange occurrence cancelled, another moved",
			steps: []chainStep{{"calmailproc/test-03-1.eml", created}, {"calmailproc/test-03-2.eml", cancelled},
				{"calmailproc/test-03-3.eml", updated}},
			status: "TENTATIVE", seq: 0, summary: "Test 3", overrides: []string{"TENTATIVE", "CANCELLED"},
		},
		{
			name: "exchange updates out of order",
			steps: []chainStep{{"calmailproc/test-07-1.eml", created}, {"calmailproc/test-07-2.eml", updated},
				{"calmailproc/test-07-3.eml", updated}, {"calmailproc/test-07-4.eml", stale}, {"calmailproc/test-07-5.eml", stale}},
			status: "TENTATIVE", seq: 4, summary: "Test 7",
		},
		{
			name: "exchange occurrence updates and cancels, then a series update",
			steps: []chainStep{{"calmailproc/test-17-1.eml", created}, {"calmailproc/test-17-2.eml", updated},
				{"calmailproc/test-17-3.eml", updated}, {"calmailproc/test-17-4.eml", cancelled}, {"calmailproc/test-17-5.eml", cancelled},
				{"calmailproc/test-17-6.eml", updated}, {"calmailproc/test-17-7.eml", updated}, {"calmailproc/test-17-0.eml", updated}},
			status: "TENTATIVE", seq: 5, summary: "Test 17", exdates: 2, overrides: []string{"TENTATIVE", "TENTATIVE"},
		},
		{
			name:   "exchange newest occurrence first",
			steps:  []chainStep{{"calmailproc/test-17-0.eml", created}, {"calmailproc/test-17-5.eml", cancelled}, {"calmailproc/test-17-1.eml", updated}},
			status: "TENTATIVE", seq: 0, summary: "Test 17", overrides: []string{"TENTATIVE", "CANCELLED"},
		},
		{
			name:   "cancel before the request",
			steps:  []chainStep{{"calmailproc/test-11-1.eml", noEntry}, {"calmailproc/test-11-2.eml", created}},
			status: "TENTATIVE", summary: "Test 11",
		},
		{
			name:   "horde update without sequence",
			steps:  []chainStep{{"calmailproc/test-04-1.eml", created}, {"calmailproc/test-04-2.eml", updated}},
			status: "TENTATIVE", summary: "Test 4",
		},
		{
			name: "bluemind new update cancel",
			steps: []chainStep{{"bluemind/bm.invite.new.eml", created}, {"bluemind/bm.invite.update.eml", updated},
				{"bluemind/bm.invite.cancel.eml", cancelled}},
			status: "CANCELLED", seq: 1,
		},
		{
			name: "bluemind task new update cancel",
			steps: []chainStep{{"bluemind/bm.task.invite.eml", created}, {"bluemind/bm.task.update.eml", updated},
				{"bluemind/bm.task.cancel.eml", cancelled}},
			status: "CANCELLED", seq: 1,
		},
		{
			name: "outlook for mac new update cancel",
			steps: []chainStep{{"bluemind/outlook.invite.new.eml", created}, {"bluemind/outlook.invite.update.eml", updated},
				{"bluemind/outlook.invite.cancel.eml", cancelled}},
			status: "CANCELLED", seq: 1,
		},
		{
			name: "thunderbird single event, late lower-sequence cancel",
			steps: []chainStep{{"thunderbird/single-event.eml", created}, {"thunderbird/update-minor.eml", updated},
				{"thunderbird/update-major.eml", updated}, {"thunderbird/cancel-single-event.eml", stale}},
			status: "TENTATIVE", seq: 2, summary: "Single Event",
		},
		{
			name: "thunderbird single event cancelled",
			steps: []chainStep{{"thunderbird/single-event.eml", created}, {"thunderbird/update-minor.eml", updated},
				{"thunderbird/cancel-single-event.eml", cancelled}},
			status: "CANCELLED", seq: 1,
		},
		{
			name: "thunderbird repeating event with exception, cancelled",
			steps: []chainStep{{"thunderbird/repeat-event.eml", created}, {"thunderbird/repeat-update-minor.eml", updated},
				{"thunderbird/exception-minor.eml", updated}, {"thunderbird/cancel-repeat-event.eml", cancelled}},
			status: "CANCELLED", seq: 1, overrides: []string{"CANCELLED"},
		},
		{
			name:   "thunderbird repeating event with major exception",
			steps:  []chainStep{{"thunderbird/repeat-event.eml", created}, {"thunderbird/exception-major.eml", updated}},
			status: "TENTATIVE", seq: 0, summary: "Repeat Event", overrides: []string{"TENTATIVE"},
		},
	}
	const user = "dana@tenant.example"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tn := newCorpusTenant(t, user)
			var uid, organizer, creator string
			for i, st := range tc.steps {
				raw, err := os.ReadFile(filepath.Join(dir, "invites", st.file))
				require.NoError(t, err)
				_, err = tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: []string{user}})
				require.NoError(t, err)
				evs := tn.InviteEvents()
				require.Len(t, evs, i+1, "step %d (%s): one calendar part processed", i, st.file)
				ev := evs[i]
				require.NoError(t, ev.Err, st.file)
				assert.Equal(t, st.action, ev.Action, "step %d (%s): %s", i, st.file, ev.Reason)
				p, inv := firstInvite(t, filepath.Join(dir, "invites", st.file))
				uid, organizer = inv.UID, inv.Organizer
				if st.action == created {
					// Delivery names a message without a Message-ID by its invite.
					creator = imipproc.InviteMessageID(p)
				}
			}
			got, err := tn.Find(ctx, user, calendar.Query{UID: uid})
			require.NoError(t, err)
			require.Len(t, got, 1)
			e := got[0]
			require.NotNil(t, e.Master)
			assert.Equal(t, tc.status, e.Master.Status)
			assert.Equal(t, tc.seq, e.Master.Sequence)
			if tc.summary != "" {
				assert.Equal(t, tc.summary, e.Master.Summary)
			}
			assert.Len(t, e.Master.ExDates, tc.exdates)
			var statuses []string
			for _, o := range e.Overrides {
				statuses = append(statuses, o.Status)
			}
			assert.Equal(t, tc.overrides, statuses, "override statuses in time order")
			assert.Equal(t, calendar.ProvenanceInvite, e.Provenance.Kind)

			// Hard-deleting the message that created the entry removes
			// it, whichever message last updated it.
			require.NotEmpty(t, creator)
			rep, err := calendar.RemoveInviteEntries(ctx, tn, user, calendar.Series{UID: uid, Organizer: organizer, MessageID: creator})
			require.NoError(t, err)
			require.Len(t, rep.Removed, 1)
			got, err = tn.Find(ctx, user, calendar.Query{UID: uid})
			require.NoError(t, err)
			assert.Empty(t, got)
		})
	}
}

// TestInviteCorpusReplies delivers real REPLYs to the organizer, whose
// calendar holds the meeting they created, and checks the attendee's
// answer lands in it.
func TestInviteCorpusReplies(t *testing.T) {
	dir := corpus.Dir(t)
	tests := []struct {
		request, reply, partstat string
	}{
		{"calmailproc/test-05-1.eml", "calmailproc/test-05-2.eml", "ACCEPTED"},
		{"calmailproc/test-06-1.eml", "calmailproc/test-06-2.eml", "DECLINED"},
	}
	for _, tc := range tests {
		t.Run(tc.reply, func(t *testing.T) {
			ctx := context.Background()
			_, req := firstInvite(t, filepath.Join(dir, "invites", tc.request))
			_, rep := firstInvite(t, filepath.Join(dir, "invites", tc.reply))
			require.Equal(t, calendar.MethodReply, rep.Method)
			require.NotEmpty(t, rep.Attendees)
			organizer := req.Organizer
			tn := newCorpusTenant(t, organizer)
			// The organizer's own copy of the meeting.
			own := req.Entry
			own.Calendar, own.Provenance = mock.DefaultCalendarID, calendar.Provenance{Kind: calendar.ProvenanceUser}
			_, err := tn.Put(ctx, organizer, own)
			require.NoError(t, err)

			raw, err := os.ReadFile(filepath.Join(dir, "invites", tc.reply))
			require.NoError(t, err)
			_, err = tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: []string{organizer}})
			require.NoError(t, err)
			evs := tn.InviteEvents()
			require.Len(t, evs, 1)
			require.NoError(t, evs[0].Err)
			assert.Equal(t, calendar.ActionReplyApplied, evs[0].Action, evs[0].Reason)

			got, err := tn.Find(ctx, organizer, calendar.Query{UID: req.UID})
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, calendar.ProvenanceUser, got[0].Provenance.Kind, "a reply keeps the organizer's entry theirs")
			var found bool
			for _, a := range got[0].Master.Attendees {
				if a.Email == rep.Attendees[0].Email {
					found = true
					assert.Equal(t, tc.partstat, a.PartStat)
				}
			}
			assert.True(t, found, "the replying attendee %s is in the entry", rep.Attendees[0].Email)
		})
	}
}
