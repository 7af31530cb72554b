package tap_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/tap"
)

// announcements records what an Announcer was told.
type announcements struct {
	mu     sync.Mutex
	owners [][]string
	from   []string
	at     []time.Time
	ids    []string
}

func (a *announcements) Announce(_ context.Context, owners []string, from string, at time.Time, p *mailbox.Parsed) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.owners = append(a.owners, owners)
	a.from = append(a.from, from)
	a.at = append(a.at, at)
	a.ids = append(a.ids, p.MessageID)
	return nil
}

// TestAnnounceIndexer: each message the tap receives is announced with
// the owners of its recipients, the envelope sender and the time the tap
// read it, before it is delivered (under TempFail).
func TestAnnounceIndexer(t *testing.T) {
	down := startFakeLMTP(t)
	a := &announcements{}
	owner := func(rcpt string) (string, error) {
		addr, err := tap.BareAddress(rcpt)
		local, _, _ := strings.Cut(addr, "@")
		return local, err
	}
	_, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), Owner: owner, OnFailure: tap.TempFail,
		Indexers: []tap.Indexer{tap.AnnounceIndexer(a)}})
	before := time.Now()
	res, err := send(t, addr, "bounce@sender.test", []string{"alice@corp.test", "bob@corp.test"}, message("a1@sender.test", "hello", "hi"))
	require.NoError(t, err)
	for rc, e := range res {
		require.Nil(t, e, rc)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	require.Len(t, a.ids, 1)
	assert.Equal(t, "a1@sender.test", a.ids[0])
	assert.Equal(t, []string{"alice", "bob"}, a.owners[0])
	assert.Equal(t, "bounce@sender.test", a.from[0])
	assert.False(t, a.at[0].Before(before.Truncate(time.Second)), "received at %v", a.at[0])
}
