package imapstore_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// TestFetchManyBatchesDovecot reads 1,200 messages of a folder on Dovecot
// with FetchMany: a few UID FETCH commands of many messages each, never
// one per message, and every message's bytes as Fetch returns them.
func TestFetchManyBatchesDovecot(t *testing.T) {
	d := startDovecot(t, nil)
	owner := d.newUsers(t, 1)[0]
	rng := rand.New(rand.NewPCG(9, 10))
	var raws [][]byte
	for k := range 1200 {
		raws = append(raws, huntMessage(rng, owner, k))
	}
	require.NoError(t, d.srv.WriteMaildir(owner, "INBOX", raws))

	var traffic servertest.Buffer
	s := d.store(t, []string{owner}, func(c *imapstore.Config) { c.DebugWriter = &traffic })
	all := collect(t, s, owner, mailbox.Criteria{Recipients: []string{owner}, Folders: []string{"INBOX"}})
	require.Len(t, all, len(raws))
	addrs := make([]mailbox.Address, len(all))
	for i, m := range all {
		addrs[i] = m.Address
	}
	rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })

	traffic.Reset()
	got := map[mailbox.Address][]byte{}
	require.NoError(t, s.FetchMany(t.Context(), addrs, func(a mailbox.Address, raw []byte, err error) error {
		require.NoError(t, err, "%s", a)
		_, dup := got[a]
		require.False(t, dup, "%s reported twice", a)
		got[a] = append([]byte(nil), raw...)
		return nil
	}))
	fetches := contentFetch.FindAllString(traffic.String(), -1)
	assert.NotEmpty(t, fetches)
	assert.LessOrEqual(t, len(fetches), 8, "messages read in batches")
	t.Logf("%d messages in %d UID FETCH commands", len(addrs), len(fetches))
	require.Len(t, got, len(addrs))
	for _, a := range addrs[:50] {
		raw, err := s.Fetch(t.Context(), a)
		require.NoError(t, err)
		require.Equal(t, string(raw), string(got[a]), "%s", a)
	}
}
