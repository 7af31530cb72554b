package pgjournal_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

func TestLeases(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	ctx := context.Background()
	const timeout = 900 * time.Millisecond
	open := func(holder string) *pgjournal.Journal {
		j, err := pgjournal.Open(ctx, url, &pgjournal.Options{Holder: holder, LeaseTimeout: timeout})
		require.NoError(t, err)
		t.Cleanup(func() { j.Close() })
		return j
	}
	a, b := open("a"), open("b")

	try := func(j *pgjournal.Journal, key string) (bool, error) {
		got, err := j.TryAcquire(ctx, key)
		return len(got) == 1, err
	}
	ok, err := try(a, "mailbox:alice")
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, a.Held("mailbox:alice"))
	ok, err = try(b, "mailbox:alice")
	require.NoError(t, err)
	require.False(t, ok, "held by a")
	ok, err = try(a, "mailbox:alice")
	require.NoError(t, err)
	require.True(t, ok, "a holder takes its own lease again")

	// a renews its lease: it outlives the timeout.
	time.Sleep(2 * timeout)
	ok, err = try(b, "mailbox:alice")
	require.NoError(t, err)
	require.False(t, ok, "renewed by a")
	require.True(t, a.Held("mailbox:alice"))

	require.NoError(t, a.Release(ctx, "mailbox:alice"))
	ok, err = try(b, "mailbox:alice")
	require.NoError(t, err)
	require.True(t, ok, "released by a")

	// b ends without releasing, as a killed engine does: its lease
	// expires.
	require.NoError(t, b.Close())
	ok, err = try(a, "mailbox:alice")
	require.NoError(t, err)
	require.False(t, ok, "b's lease has not expired yet")
	time.Sleep(timeout + 200*time.Millisecond)
	ok, err = try(a, "mailbox:alice")
	require.NoError(t, err)
	require.True(t, ok, "b's lease expired")

	// Many holders racing for one lease: one gets it.
	var js []*pgjournal.Journal
	for i := range 4 {
		js = append(js, open(fmt.Sprintf("r%d", i)))
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := try(js[i%len(js)], "mailbox:bob")
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	won := 0
	for _, j := range js {
		if j.Held("mailbox:bob") {
			won++
		}
	}
	require.Equal(t, 1, won, "one holder has the lease")
	require.GreaterOrEqual(t, wins.Load(), int32(1))

	// Several at once: those another holder has are left out.
	got, err := js[0].TryAcquire(ctx, "mailbox:carol", "mailbox:bob", "mailbox:dave", "mailbox:carol")
	require.NoError(t, err)
	want := []string{"mailbox:carol", "mailbox:dave"}
	if js[0].Held("mailbox:bob") {
		want = append(want, "mailbox:bob")
	}
	require.ElementsMatch(t, want, got)
	got, err = js[1].TryAcquire(ctx, "mailbox:dave", "mailbox:erin")
	require.NoError(t, err)
	require.Equal(t, []string{"mailbox:erin"}, got)
	require.NoError(t, js[0].Release(ctx, "mailbox:carol", "mailbox:dave"))
	got, err = js[1].TryAcquire(ctx, "mailbox:dave", "mailbox:carol")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"mailbox:carol", "mailbox:dave"}, got)
}

func TestFollow(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	ctx := context.Background()
	a, err := pgjournal.Open(ctx, url, nil)
	require.NoError(t, err)
	defer a.Close()
	b, err := pgjournal.Open(ctx, url, nil)
	require.NoError(t, err)
	defer b.Close()

	rec := func(id string) remediation.Entry {
		return remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{ID: id}}
	}
	follow := func(mark string) (ids []string, next string, rewritten bool) {
		next, rewritten, err := b.Follow(ctx, mark, func(e remediation.Entry) error {
			ids = append(ids, e.Record.ID)
			return nil
		})
		require.NoError(t, err)
		return ids, next, rewritten
	}
	require.NoError(t, a.Append(ctx, rec("1"), rec("2")))
	ids, mark, rw := follow("")
	require.Equal(t, []string{"1", "2"}, ids)
	require.False(t, rw)
	ids, mark, _ = follow(mark)
	require.Empty(t, ids)
	require.NoError(t, a.Append(ctx, rec("3")))
	require.NoError(t, b.Append(ctx, rec("4")))
	ids, mark, _ = follow(mark)
	require.Equal(t, []string{"3", "4"}, ids)

	_, _, err = a.Rewrite(ctx, func(e *remediation.Entry) bool { return e.Record.ID != "2" })
	require.NoError(t, err)
	ids, _, rw = follow(mark)
	require.True(t, rw, "rewritten since the mark")
	require.Equal(t, []string{"1", "3", "4"}, ids)

	_, _, err = b.Follow(ctx, "junk", func(remediation.Entry) error { return nil })
	require.Error(t, err)
}
