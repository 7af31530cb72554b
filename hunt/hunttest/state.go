package hunttest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// StateStore is what a store keeps beside the events index so that a
// restarted process resumes where it was: the cluster index's log and the
// detection rules.
type StateStore interface {
	cluster.Log
	rules.Store
	// Close releases the store.
	Close() error
}

// StateHarness is what a store hands [RunState] for one case.
type StateHarness struct {
	// Store is the store under test: open and empty. The suite closes
	// it.
	Store StateStore
	// Reopen opens the store again from where Store keeps it, as a
	// restarted process would; required.
	Reopen func(t *testing.T) (StateStore, error)
}

// RunState runs the conformance cases of the state kept beside the index
// ([cluster.Log], [rules.Store]) against the stores newHarness returns,
// one per case: entries come back byte for byte in the order appended
// (across appends, pages and concurrent writers, and after a reopen), an
// append is not changed by the caller's later writes to its slices, rules
// come back as saved and a save replaces the rules before it, and a done
// ctx or a closed store gives an error.
func RunState(t *testing.T, newHarness func(t *testing.T) *StateHarness) {
	cases := []struct {
		name string
		run  func(t *testing.T, h *StateHarness)
	}{
		{"ClusterEntries/Order", stateEntryOrder},
		{"ClusterEntries/Pages", stateEntryPages},
		{"ClusterEntries/Concurrent", stateEntryConcurrent},
		{"ClusterEntries/Errors", stateEntryErrors},
		{"Rules/SaveLoad", stateRules},
		{"Rules/Errors", stateRuleErrors},
		{"Reopen", stateReopen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			require.NotNil(t, h.Store, "the harness has no store")
			t.Cleanup(func() { h.Store.Close() })
			c.run(t, h)
		})
	}
}

// entries reads every cluster entry of s.
func entries(t *testing.T, ctx context.Context, s cluster.Log) [][]byte {
	t.Helper()
	var out [][]byte
	for e, err := range s.ClusterEntries(ctx) {
		require.NoError(t, err)
		out = append(out, slices.Clone(e))
	}
	return out
}

func stateEntryOrder(t *testing.T, h *StateHarness) {
	ctx := t.Context()
	assert.Empty(t, entries(t, ctx, h.Store), "a new store has no entries")
	require.NoError(t, h.Store.AppendClusterEntries(ctx, nil))
	first := [][]byte{{1}, {}, bytes.Repeat([]byte{0, 0xff, 'a'}, 100_000)}
	second := [][]byte{{0}, []byte("\x00\xc3\x28 not UTF-8")}
	require.NoError(t, h.Store.AppendClusterEntries(ctx, first))
	require.NoError(t, h.Store.AppendClusterEntries(ctx, second))
	first[0][0] = 9 // the store keeps no reference to the caller's slices
	got := entries(t, ctx, h.Store)
	want := [][]byte{{1}, {}, bytes.Repeat([]byte{0, 0xff, 'a'}, 100_000), {0}, []byte("\x00\xc3\x28 not UTF-8")}
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, bytes.Equal(want[i], got[i]), "entry %d", i)
	}
	// Stopping early is allowed.
	for range h.Store.ClusterEntries(ctx) {
		break
	}
}

func stateEntryPages(t *testing.T, h *StateHarness) {
	ctx := t.Context()
	const n = 25_001 // more than a page of any reasonable size
	var batch [][]byte
	for i := range n {
		batch = append(batch, []byte(fmt.Sprint(i)))
		if len(batch) == 5000 || i == n-1 {
			require.NoError(t, h.Store.AppendClusterEntries(ctx, batch))
			batch = nil
		}
	}
	got := entries(t, ctx, h.Store)
	require.Len(t, got, n)
	for i, e := range got {
		if string(e) != fmt.Sprint(i) {
			t.Fatalf("entry %d is %q", i, e)
		}
	}
}

func stateEntryConcurrent(t *testing.T, h *StateHarness) {
	ctx := t.Context()
	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- h.Store.AppendClusterEntries(ctx, [][]byte{[]byte(fmt.Sprintf("%d/%d", w, i)), []byte(fmt.Sprintf("%d/%d+", w, i))})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got := entries(t, ctx, h.Store)
	require.Len(t, got, 2*writers*each)
	next := make([]int, writers)
	for i := 0; i < len(got); i += 2 {
		var w, k int
		_, err := fmt.Sscanf(string(got[i]), "%d/%d", &w, &k)
		require.NoError(t, err)
		assert.Equal(t, next[w], k, "writer %d's entries out of order", w)
		assert.Equal(t, string(got[i])+"+", string(got[i+1]), "an append's entries are kept together")
		next[w] = k + 1
	}
}

func stateEntryErrors(t *testing.T, h *StateHarness) {
	done, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, h.Store.AppendClusterEntries(done, [][]byte{{1}}), context.Canceled)
	for _, err := range h.Store.ClusterEntries(done) {
		assert.ErrorIs(t, err, context.Canceled)
	}
	assert.Empty(t, entries(t, t.Context(), h.Store), "a cancelled append wrote nothing")
	require.NoError(t, h.Store.Close())
	assert.Error(t, h.Store.AppendClusterEntries(t.Context(), [][]byte{{1}}))
	n := 0
	for _, err := range h.Store.ClusterEntries(t.Context()) {
		assert.Error(t, err)
		n++
	}
	assert.Equal(t, 1, n, "a closed store yields one error")
}

// sampleRules are rules with every field set.
func sampleRules() []rules.Rule {
	return []rules.Rule{
		{Name: "block evil", Description: "campaign 7", Severity: remediation.SeverityHigh,
			Criteria: mailbox.Criteria{SenderDomains: []string{"evil.example"}, Subject: "Reset"},
			Action:   remediation.SoftDelete, Mode: rules.ModeExecute, Confirm: true},
		{Name: "rapporter ✉", Criteria: mailbox.Criteria{URLs: []string{"https://evil.example/x"},
			Or: []mailbox.Criteria{{Senders: []string{"a@b.example"}}}},
			Action: remediation.Quarantine, Mode: rules.ModePropose, Disabled: true},
	}
}

func stateRules(t *testing.T, h *StateHarness) {
	ctx := t.Context()
	got, err := h.Store.LoadRules(ctx)
	require.NoError(t, err)
	assert.Empty(t, got, "a new store has no rules")
	want := sampleRules()
	require.NoError(t, h.Store.SaveRules(ctx, want))
	got, err = h.Store.LoadRules(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	// A save replaces what was saved, order included.
	want = []rules.Rule{want[1], want[0]}
	require.NoError(t, h.Store.SaveRules(ctx, want))
	got, err = h.Store.LoadRules(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	require.NoError(t, h.Store.SaveRules(ctx, want[:1]))
	got, err = h.Store.LoadRules(ctx)
	require.NoError(t, err)
	assert.Equal(t, want[:1], got)
	require.NoError(t, h.Store.SaveRules(ctx, nil))
	got, err = h.Store.LoadRules(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func stateRuleErrors(t *testing.T, h *StateHarness) {
	ctx := t.Context()
	require.NoError(t, h.Store.SaveRules(ctx, sampleRules()))
	done, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, h.Store.SaveRules(done, nil), context.Canceled)
	_, err := h.Store.LoadRules(done)
	assert.ErrorIs(t, err, context.Canceled)
	got, err := h.Store.LoadRules(ctx)
	require.NoError(t, err)
	assert.Equal(t, sampleRules(), got, "a cancelled save changed nothing")
	require.NoError(t, h.Store.Close())
	assert.Error(t, h.Store.SaveRules(ctx, nil))
	_, err = h.Store.LoadRules(ctx)
	assert.Error(t, err)
}

func stateReopen(t *testing.T, h *StateHarness) {
	ctx := t.Context()
	require.NotNil(t, h.Reopen, "the harness has no Reopen")
	require.NoError(t, h.Store.AppendClusterEntries(ctx, [][]byte{{1, 2}, {3}}))
	require.NoError(t, h.Store.SaveRules(ctx, sampleRules()))
	require.NoError(t, h.Store.Close())
	s, err := h.Reopen(t)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	assert.Equal(t, [][]byte{{1, 2}, {3}}, entries(t, ctx, s))
	got, err := s.LoadRules(ctx)
	require.NoError(t, err)
	assert.Equal(t, sampleRules(), got)
	// Appends continue after the entries kept.
	require.NoError(t, s.AppendClusterEntries(ctx, [][]byte{{4}}))
	assert.Equal(t, [][]byte{{1, 2}, {3}, {4}}, entries(t, ctx, s))
}
