package mock

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInviteEventsRingKeepsTheLast(t *testing.T) {
	tn := New(nil)
	ctx := context.Background()
	total := maxInviteEvents + 5
	for i := range total {
		ev := InviteEvent{Part: i}
		if i%1000 == 0 {
			ev.Err = errors.New("bad")
		}
		tn.recordInvite(ctx, ev)
	}
	evs := tn.InviteEvents()
	require.Len(t, evs, maxInviteEvents)
	assert.Equal(t, 5, evs[0].Part, "the oldest records are dropped")
	assert.Equal(t, total-1, evs[len(evs)-1].Part)
	for i := 1; i < len(evs); i++ {
		require.Equal(t, evs[i-1].Part+1, evs[i].Part, "oldest first")
	}
	errs := tn.InviteErrors()
	require.Len(t, errs, 10)
	assert.Equal(t, 1000, errs[0].Part)
}
