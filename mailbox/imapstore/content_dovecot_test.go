package imapstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// contentFetch matches the commands that read whole messages.
var contentFetch = regexp.MustCompile(`(?m)^T\d+ UID FETCH \S+ \([A-Z0-9. ]*BODY\.PEEK\[\]\)`)

// TestContentBatchesDovecot hunts a URL and an attachment in a folder of
// 1,200 messages on Dovecot. The contents must be read in a few UID
// FETCH commands of many messages each, never one per message, and the
// hits found exactly; with a subject as well, only the messages whose
// header passes have their contents read.
func TestContentBatchesDovecot(t *testing.T) {
	d := startDovecot(t, nil)
	owner := d.newUsers(t, 1)[0]
	rng := rand.New(rand.NewPCG(7, 8))
	var raws [][]byte
	for k := range 1200 {
		raws = append(raws, huntMessage(rng, owner, k))
	}
	raws = append(raws[:600], append([][]byte{
		htmlMessage(owner, "url-hit@x.example", "Your account", `<a href="`+huntURL+`">verify</a>`),
		attachmentMessage(owner, "att-hit@x.example", "Invoice", "See attached.\r\n", "invoice.exe", huntPayload),
	}, raws[600:]...)...)
	require.NoError(t, d.srv.WriteMaildir(owner, "INBOX", raws))

	var traffic servertest.Buffer
	s := d.store(t, []string{owner}, func(c *imapstore.Config) { c.DebugWriter = &traffic })
	sum := sha256.Sum256(huntPayload)
	for _, tc := range []struct {
		c       mailbox.Criteria
		want    string
		subject string
		max     int // content FETCH commands
	}{
		{mailbox.Criteria{URLs: []string{huntURL}}, "url-hit@x.example", "Your account", 8},
		{mailbox.Criteria{AttachmentSHA256: []string{hex.EncodeToString(sum[:])}}, "att-hit@x.example", "Invoice", 8},
		{mailbox.Criteria{URLs: []string{huntURL}, Subject: "your account"}, "url-hit@x.example", "Your account", 1},
	} {
		traffic.Reset()
		got := collect(t, s, owner, tc.c)
		require.Len(t, got, 1, "%+v", tc.c)
		assert.Equal(t, tc.want, got[0].MessageID)
		assert.Equal(t, tc.subject, got[0].Subject, "the header is read with the content")
		assert.Equal(t, owner, got[0].Address.Mailbox)
		assert.NotZero(t, got[0].Address.UIDValidity)
		assert.NotZero(t, got[0].Size)
		fetches := contentFetch.FindAllString(traffic.String(), -1)
		assert.NotEmpty(t, fetches)
		assert.LessOrEqual(t, len(fetches), tc.max, "contents read in batches: %+v", tc.c)
		t.Logf("%+v: %d content fetches", tc.c, len(fetches))
	}
}
