package pgjournal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

// Journals opened on one schema, as several engines open it, append into
// one sequence: each replays every entry of both, and the chain their
// interleaved appends build verifies.
func TestSharedSchema(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	ctx := context.Background()
	opts := &pgjournal.Options{Key: testKey(t)}
	var js [3]*pgjournal.Journal
	for i := range js {
		j, err := pgjournal.Open(ctx, url, opts)
		require.NoError(t, err)
		defer j.Close()
		js[i] = j
	}
	const writers, each = 6, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := js[w%len(js)]
			for i := range each {
				r := &remediation.Record{ID: fmt.Sprintf("w%d-%03d", w, i)}
				if err := j.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: r}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, j := range js {
		seen := map[string]int{}
		last := map[int]int{}
		for e, err := range j.Replay(ctx) {
			require.NoError(t, err)
			seen[e.Record.ID]++
			var w, i int
			_, err := fmt.Sscanf(e.Record.ID, "w%d-%d", &w, &i)
			require.NoError(t, err)
			require.Equal(t, last[w], i, "writer %d's entries in the order it appended them", w)
			last[w]++
		}
		require.Len(t, seen, writers*each)
		for id, n := range seen {
			require.Equal(t, 1, n, id)
		}
		h, err := j.Verify(ctx)
		require.NoError(t, err)
		require.EqualValues(t, writers*each, h.Entries)
	}
}
