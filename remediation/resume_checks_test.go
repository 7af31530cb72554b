package remediation_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A running hard delete in the journal (a crash, or a journal written by
// an earlier version or another process) is checked before Resume runs it
// again, as a fresh one is: criteria that name only a recipient select
// the recipient's whole mailbox and are refused, and a selection above the
// blast radius needs Confirm. Either way it fails closed: nothing is
// purged.
func TestResumeRunningHardDeleteChecksSelectionAndLimit(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]*mailbox.Criteria{
		"recipient only": {Recipients: []string{alice}},
		"above limit":    {SenderDomains: []string{"evil.example"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, alice)
			for i := range 50 {
				f.deliver(msg(fmt.Sprintf("hd-%d@evil.example", i), "billing@evil.example", "Invoice", alice), "", alice)
			}
			j := journal.NewMemory()
			now := time.Now()
			require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{
				ID: "run-1", Source: remediation.SourceManual, Action: remediation.HardDelete, Actor: "analyst", DecidedBy: "analyst",
				Status: remediation.StatusRunning, Created: now, Decided: now, Started: now,
				Selection: remediation.Selection{Criteria: c},
			}}))
			e := f.engine(j, &remediation.Options{BlastRadius: 10})
			recs, err := e.Resume(ctx)
			require.Error(t, err)
			if name == "recipient only" {
				require.ErrorIs(t, err, mailbox.ErrMatchesEverything)
			} else {
				require.ErrorIs(t, err, remediation.ErrNeedsConfirmation)
			}
			require.Len(t, recs, 1)
			assert.Equal(t, remediation.StatusFailed, recs[0].Status)
			assert.False(t, recs[0].Incomplete, "refused for good, not left to resume again")
			copies, err := f.tenant.Copies(alice)
			require.NoError(t, err)
			assert.Len(t, copies, 50, "nothing purged")
			g, err := f.engine(j, &remediation.Options{BlastRadius: 10}).Get(ctx, "run-1")
			require.NoError(t, err)
			assert.Equal(t, remediation.StatusFailed, g.Status, "the refusal is journaled")
		})
	}
}

// An incomplete soft delete of 8 copies whose selection grew meanwhile is
// resumed within the blast radius counting what it did already: grown to
// 48 (or to 11, the 5 left being fewer than the limit of 10) it is
// refused and moves nothing more; grown to 9 it finishes.
func TestResumeIncompleteSoftDeleteCountsDoneAgainstLimit(t *testing.T) {
	ctx := context.Background()
	for _, grown := range []int{48, 11, 9} {
		t.Run(fmt.Sprint(grown), func(t *testing.T) {
			f := newFixture(t, alice)
			for i := range 8 {
				f.deliver(msg(fmt.Sprintf("sd-%d@evil.example", i), "billing@evil.example", "Invoice", alice), "", alice)
			}
			opts := &remediation.Options{BlastRadius: 10, Workers: 1}
			e := f.engine(nil, opts)
			// The move of the last 2 copies fails: the action ends
			// incomplete with 6 moved.
			f.tenant.InjectOp(mock.OpMove, mock.Fault{Mode: mock.FaultPartial, K: 6})
			r, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc",
				Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}}})
			require.Error(t, err)
			require.True(t, r.Incomplete)
			require.Equal(t, remediation.Counts{Succeeded: 6, Failed: 2}, r.Counts)
			f.tenant.ClearFaults()
			for i := 8; i < grown; i++ {
				f.deliver(msg(fmt.Sprintf("sd-%d@evil.example", i), "billing@evil.example", "Invoice", alice), "", alice)
			}

			recs, err := e.Resume(ctx)
			require.Len(t, recs, 1)
			inbox := 0
			copies, cerr := f.tenant.Copies(alice)
			require.NoError(t, cerr)
			for _, c := range copies {
				if c.Address.Folder == mock.FolderInbox {
					inbox++
				}
			}
			if grown > 10 {
				require.ErrorIs(t, err, remediation.ErrNeedsConfirmation)
				assert.Equal(t, remediation.StatusPartial, recs[0].Status)
				assert.Equal(t, int64(6), recs[0].Counts.Succeeded, "nothing more moved")
				assert.Equal(t, grown-6, inbox)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
			assert.Equal(t, remediation.Counts{Succeeded: int64(grown)}, recs[0].Counts)
			assert.Zero(t, inbox)
		})
	}
}

// A resumed action with RemoveInvites whose interrupted batch is redone
// counts the copy once: the redo's outcomes are flushed by the calendar
// step, and the copy's new address must still count as handled, not be
// found again at the destination as "already there".
func TestResumeRemoveInvitesCountsRedoneCopyOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(invite("ri-1@evil.example", "ceo@evil.example", "uid-ri", alice), "", alice)
	require.Len(t, entries(t, f, alice, "uid-ri"), 1)
	j := journal.NewMemory()
	e := f.engine(j, nil)
	// The move fails as a whole: its intent stays in flight.
	f.tenant.FailOp(mock.OpMove, nil)
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true, Selection: byID("ri-1@evil.example")})
	require.Error(t, err)
	require.True(t, r.Incomplete)
	f.tenant.ClearFaults()

	recs, err := f.engine(j, nil).Resume(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
	assert.Equal(t, remediation.Counts{Succeeded: 1}, recs[0].Counts, "one copy, counted once")
	assert.Equal(t, []string{alice + ":" + mock.FolderRecoverable}, f.where("ri-1@evil.example"))
	assert.Empty(t, entries(t, f, alice, "uid-ri"))
	g, err := f.engine(j, nil).Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Succeeded: 1}, g.Counts, "and so in the journal")
}

// renumberingStore renumbers a folder (a new UIDVALIDITY, as a server that
// rebuilt its index) just before the first Move or Expunge, so that the
// addresses the engine selected are stale when it acts on them.
type renumberingStore struct {
	*mock.Tenant
	owner, folder string
	once          sync.Once
}

func (s *renumberingStore) renumber() {
	s.once.Do(func() {
		if err := s.ResetUIDValidity(s.owner, s.folder); err != nil {
			panic(err)
		}
	})
}

func (s *renumberingStore) Move(ctx context.Context, addrs []mailbox.Address, to mailbox.Location) ([]mailbox.Moved, error) {
	s.renumber()
	return s.Tenant.Move(ctx, addrs, to)
}

func (s *renumberingStore) Expunge(ctx context.Context, addrs []mailbox.Address) ([]error, error) {
	s.renumber()
	return s.Tenant.Expunge(ctx, addrs)
}

// A folder renumbered between selection and action does not leave the
// phish behind a completed action: the engine finds the message again by
// its Message-ID (and size) in that folder and acts on it.
func TestRenumberedFolderBetweenSelectionAndAction(t *testing.T) {
	ctx := context.Background()
	for _, a := range []remediation.Action{remediation.SoftDelete, remediation.HardDelete} {
		for _, picked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/picked=%v", a, picked), func(t *testing.T) {
				f := newFixture(t, alice)
				f.deliver(msg("keep-1@good.example", "friend@good.example", "Lunch", alice), "", alice)
				addrs := f.deliver(msg("rn-1@evil.example", "billing@evil.example", "Invoice", alice), "", alice)
				f.deliver(msg("keep-2@good.example", "friend@good.example", "Dinner", alice), "", alice)
				st := &renumberingStore{Tenant: f.tenant, owner: alice, folder: mock.FolderInbox}
				e, err := remediation.New(st, st, journal.NewMemory(), &remediation.Options{Logger: testLogger(t)})
				require.NoError(t, err)
				sel := byID("rn-1@evil.example")
				if picked {
					sel = remediation.Selection{Copies: addrs}
				}
				r, err := e.Execute(ctx, remediation.Request{Action: a, Actor: "soc", Selection: sel})
				require.NoError(t, err)
				assert.Equal(t, remediation.StatusCompleted, r.Status, r.Error)
				assert.Equal(t, remediation.Counts{Succeeded: 1}, r.Counts)
				want := []string{alice + ":" + mock.FolderRecoverable}
				if a == remediation.HardDelete {
					want = nil
				}
				assert.Equal(t, want, f.where("rn-1@evil.example"), "acted on under its new UID")
				assert.Equal(t, []string{alice + ":" + mock.FolderInbox}, f.where("keep-1@good.example"))
				assert.Equal(t, []string{alice + ":" + mock.FolderInbox}, f.where("keep-2@good.example"))
			})
		}
	}
}

// A copy picked by address in a folder renumbered before the action
// cannot be told from the others: it is reported failed, and the action
// is not completed, rather than "not found" with the message still there.
func TestRenumberedFolderPickedCopyIsNotCompleted(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	addrs := f.deliver(msg("rp-1@evil.example", "billing@evil.example", "Invoice", alice), "", alice)
	require.NoError(t, f.tenant.ResetUIDValidity(alice, mock.FolderInbox))
	r, err := f.engine(nil, nil).Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc",
		Selection: remediation.Selection{Copies: addrs}})
	require.ErrorIs(t, err, mailbox.ErrUIDValidity)
	assert.NotEqual(t, remediation.StatusCompleted, r.Status)
	assert.Equal(t, remediation.Counts{Failed: 1}, r.Counts)
	assert.Equal(t, []string{alice + ":" + mock.FolderInbox}, f.where("rp-1@evil.example"))
}
