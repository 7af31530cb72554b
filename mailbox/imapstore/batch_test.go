package imapstore_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// TestBatchedMessageIDSearchDovecot searches 1,000 message ids in one
// criteria against Dovecot, with the client-side match turned off. The
// store must split them across several UID SEARCH commands within the
// line limit, and must drop the messages that Dovecot's substring HEADER
// search adds: ids that contain a wanted id.
func TestBatchedMessageIDSearchDovecot(t *testing.T) {
	d := startDovecot(t, nil)
	owner, ids, want := plantBatch(t, d)

	var traffic servertest.Buffer
	s := d.store(t, []string{owner}, func(c *imapstore.Config) {
		c.DebugWriter = &traffic
		c.ClientMatchMessageIDs = -1
	})
	requireFound(t, collect(t, s, owner, mailbox.Criteria{MessageIDs: ids}), want)

	searches := commands(traffic.String(), `UID SEARCH`)
	examined := map[string]bool{} // a folder with hits may be examined again
	for _, c := range commands(traffic.String(), `EXAMINE`) {
		examined[strings.SplitN(c, " ", 2)[1]] = true
	}
	perFolder := len(searches) / len(examined)
	assert.GreaterOrEqual(t, perFolder, 4, "1,000 ids need at least 4 commands of at most 300")
	for _, c := range searches {
		assert.Less(t, len(c), 64<<10, "a SEARCH within Dovecot's line limit")
		assert.LessOrEqual(t, strings.Count(c, "Message-ID"), 300)
	}
	t.Logf("%d UID SEARCH commands, longest %d bytes", len(searches), longest(searches))
}

// TestClientMatchedMessageIDsDovecot searches the same 1,000 message ids
// with the default configuration: they are matched on the client from one
// Message-ID fetch per folder, no SEARCH sent, and the decoys stay out.
// Below the threshold the server searches.
func TestClientMatchedMessageIDsDovecot(t *testing.T) {
	d := startDovecot(t, nil)
	owner, ids, want := plantBatch(t, d)

	var traffic servertest.Buffer
	s := d.store(t, []string{owner}, func(c *imapstore.Config) { c.DebugWriter = &traffic })
	requireFound(t, collect(t, s, owner, mailbox.Criteria{MessageIDs: ids}), want)
	assert.Empty(t, commands(traffic.String(), `UID SEARCH`), "no server search")
	assert.NotEmpty(t, commands(traffic.String(), `UID FETCH 1:\* \([^)]*BODY\.PEEK\[HEADER\.FIELDS \("Message-ID`))

	// Angle brackets, case and white space do not matter; a decoy id
	// given exactly is found.
	few := []string{" <" + strings.ToUpper(ids[0]) + "> ", "x" + ids[0]}
	many := append(slices.Clone(few), ids[1:imapstore.DefaultClientMatchMessageIDs]...)
	for _, tc := range []struct {
		name string
		ids  []string
	}{{"server", few}, {"client", many}} {
		traffic.Reset()
		got := collect(t, s, owner, mailbox.Criteria{MessageIDs: tc.ids, Subject: "decoy"})
		require.Len(t, got, 1, tc.name)
		assert.Equal(t, "x"+ids[0], got[0].MessageID, tc.name)
		assert.Equal(t, tc.name == "server", len(commands(traffic.String(), `UID SEARCH`)) > 0, tc.name)
	}
}

// plantBatch plants half of 1,000 message ids in INBOX and Junk of a new
// user, with decoys whose ids contain a wanted id.
func plantBatch(t *testing.T, d *dovecotEnv) (owner string, ids []string, want map[string]bool) {
	owner = d.newUsers(t, 1)[0]
	const n = 1000
	id := func(i int) string { return fmt.Sprintf("batch-%04d@campaign.example", i) }
	var inbox, junk [][]byte
	want = map[string]bool{}
	for i := range n {
		ids = append(ids, id(i))
		// Half the wanted ids are planted, in INBOX and Junk.
		if i%2 == 0 {
			raw := rawMessage(id(i), "x@evil.example", owner, "batch")
			if i%10 == 0 {
				junk = append(junk, raw)
			} else {
				inbox = append(inbox, raw)
			}
			want[id(i)] = true
		}
	}
	// Decoys: every one contains a wanted id as a substring.
	for i := 0; i < n; i += 7 {
		inbox = append(inbox,
			rawMessage("x"+id(i), "x@evil.example", owner, "decoy"),
			rawMessage(id(i)+".evil", "x@evil.example", owner, "decoy"),
			rawMessage("re-"+strings.Replace(id(i), "@", ".1@", 1), "x@evil.example", owner, "decoy"))
	}
	require.NoError(t, d.srv.WriteMaildir(owner, "INBOX", inbox))
	require.NoError(t, d.srv.WriteMaildir(owner, "Junk", junk))
	return owner, ids, want
}

// requireFound checks that got holds each wanted id once and nothing else.
func requireFound(t *testing.T, got []mailbox.Message, want map[string]bool) {
	t.Helper()
	found := map[string]bool{}
	for _, m := range got {
		assert.True(t, want[m.MessageID], "unexpected hit %q", m.MessageID)
		assert.False(t, found[m.MessageID], "%q found twice", m.MessageID)
		found[m.MessageID] = true
	}
	assert.Len(t, found, len(want))
}

func longest(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}
