package automation_test

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/automation"
	"github.com/eradicate-dev/eradicate/remediation/internal/rtenv"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// rtEnv is a tenant with the test users and an engine over it.
type rtEnv struct{ *rtenv.Env }

func newRTEnv(t *testing.T, opts *remediation.Options) *rtEnv {
	return &rtEnv{rtenv.New(t, opts)}
}

// campaignIDs are the messages of the automation tests' campaign: three
// messages with the same invoice attached, each to every user.
var campaignIDs = []string{"p1@evil.example", "p2@evil.example", "p3@evil.example"}

// deliverCampaign delivers the campaign and a benign message.
func (v *rtEnv) deliverCampaign() {
	v.T.Helper()
	for _, id := range campaignIDs {
		v.Deliver(rtenv.Phish(id, rtenv.Users()...), nil)
	}
	v.Deliver(rtenv.Benign("b1@corp.example", rtenv.Users()...), nil)
}

// index builds a cluster index over every mailbox.
func (v *rtEnv) index() *cluster.Index {
	v.T.Helper()
	x := cluster.New(&cluster.Options{Logger: rtenv.Logger(v.T)})
	_, err := x.AddStore(context.Background(), v.Tenant, nil)
	require.NoError(v.T, err)
	return x
}

// fileCluster returns the "similar files" cluster of the invoice.
func (v *rtEnv) fileCluster() *cluster.Cluster {
	v.T.Helper()
	c, err := v.index().ClusterOf(cluster.SeedFile(rtenv.AttachmentSHA(v.T)), cluster.KindFile)
	require.NoError(v.T, err)
	return c
}

func (v *rtEnv) automation(s automation.Options) *automation.Responder {
	v.T.Helper()
	s.Logger = rtenv.Logger(v.T)
	a, err := automation.New(v.Engine, s)
	require.NoError(v.T, err)
	return a
}

// campaignWhere returns where the campaign's copies are.
func (v *rtEnv) campaignWhere() map[string][]string {
	out := map[string][]string{}
	for _, id := range campaignIDs {
		out[id] = v.Folders(id)
	}
	return out
}

func everyCopyIn(folder string) map[string][]string {
	out := map[string][]string{}
	for _, id := range campaignIDs {
		out[id] = rtenv.In(folder, rtenv.Users()...)
	}
	return out
}

func TestAutomationSoftDeletesCluster(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	c := v.fileCluster()
	require.Equal(t, len(campaignIDs), c.Len())
	require.Equal(t, len(campaignIDs)*len(rtenv.Users()), c.CopyCount())

	a := v.automation(automation.Options{Kinds: cluster.KindFile})
	rec, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	require.NotNil(t, rec)
	assert.Equal(t, remediation.SourceAutomation, rec.Source)
	assert.Equal(t, remediation.DecidedByAutomation, rec.DecidedBy)
	assert.Equal(t, "automation", rec.DecidedBy)
	assert.Equal(t, remediation.SoftDelete, rec.Action)
	assert.Equal(t, remediation.StatusCompleted, rec.Status)
	assert.Equal(t, remediation.SeverityHigh, rec.Severity)
	assert.Equal(t, int64(12), rec.Counts.Succeeded)
	assert.Contains(t, rec.Name, "similar files")
	require.NotNil(t, rec.Selection.Criteria)
	assert.ElementsMatch(t, campaignIDs, rec.Selection.Criteria.MessageIDs)
	assert.Equal(t, everyCopyIn(mock.FolderRecoverable), v.campaignWhere())
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()...), v.Folders("b1@corp.example"), "benign mail untouched")

	// Within the hour the same cluster is not acted on again, even when
	// it is built anew.
	v.Clock.Advance(59 * time.Minute)
	rec2, d, err := a.Remediate(ctx, v.fileCluster())
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionSkippedRecent, d)
	assert.Nil(t, rec2)
	require.Len(t, v.Records(remediation.SourceAutomation), 1)

	// Undo restores every copy.
	u, err := v.Engine.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, u.Status)
	assert.Equal(t, int64(12), u.Counts.Succeeded)
	assert.Equal(t, everyCopyIn(mock.FolderInbox), v.campaignWhere())
	got, err := v.Engine.Get(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.UndoneBy)

	// The undo does not make automation redo it within the cooldown ...
	_, d, err = a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionSkippedRecent, d)
	assert.Equal(t, everyCopyIn(mock.FolderInbox), v.campaignWhere())

	// ... but once the hour is over, the cluster is acted on again.
	v.Clock.Advance(time.Minute)
	rec3, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	assert.Equal(t, int64(12), rec3.Counts.Succeeded)
	assert.Equal(t, everyCopyIn(mock.FolderRecoverable), v.campaignWhere())
}

func TestAutomationActsOnNewMembersOnly(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	a := v.automation(automation.Options{Kinds: cluster.KindFile})
	_, d, err := a.Remediate(ctx, v.fileCluster())
	require.NoError(t, err)
	require.Equal(t, automation.DecisionExecuted, d)

	// A new message of the campaign arrives; the cluster grows.
	v.Clock.Advance(10 * time.Minute)
	v.Deliver(rtenv.Phish("p4@evil.example", rtenv.Users()[:2]...), nil)
	c := v.fileCluster()
	require.Equal(t, 4, c.Len())
	rec, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	require.NotNil(t, rec.Selection.Criteria)
	assert.Equal(t, []string{"p4@evil.example"}, rec.Selection.Criteria.MessageIDs)
	assert.Equal(t, int64(2), rec.Counts.Succeeded)
	assert.Equal(t, rtenv.In(mock.FolderRecoverable, rtenv.Users()[:2]...), v.Folders("p4@evil.example"))

	// A cluster of the same campaign from another seed is the same
	// members: nothing to do.
	seed, err := cluster.SeedURL("http://pay.evil.example/login")
	require.NoError(t, err)
	cu, err := v.index().ClusterOf(seed, cluster.KindURL)
	require.NoError(t, err)
	require.Equal(t, 4, cu.Len())
	a2 := v.automation(automation.Options{Kinds: cluster.KindFile | cluster.KindURL})
	_, d, err = a2.Remediate(ctx, cu)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionSkippedRecent, d, "a new Automation recalls the engine's automated actions")
	_, d, err = a.Remediate(ctx, cu)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionSkippedKind, d, "URL clusters are not enabled in a")
}

func TestAutomationOverCap(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		settings automation.Options
		opts     *remediation.Options
	}{
		{"size cap", automation.Options{Kinds: cluster.KindFile, SizeCap: 11}, nil},
		{"engine blast radius below the cap", automation.Options{Kinds: cluster.KindFile}, &remediation.Options{BlastRadius: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newRTEnv(t, tt.opts)
			v.deliverCampaign()
			a := v.automation(tt.settings)
			rec, d, err := a.Remediate(ctx, v.fileCluster())
			require.NoError(t, err)
			assert.Equal(t, automation.DecisionProposedOverCap, d)
			require.NotNil(t, rec)
			assert.Equal(t, remediation.StatusPending, rec.Status)
			assert.Equal(t, remediation.SourceAutomation, rec.Source)
			assert.Empty(t, rec.DecidedBy, "nobody decided yet")
			assert.True(t, rec.Confirm, "approval confirms the blast radius")
			assert.Equal(t, everyCopyIn(mock.FolderInbox), v.campaignWhere(), "nothing moved")

			// Not proposed twice within the hour.
			_, d, err = a.Remediate(ctx, v.fileCluster())
			require.NoError(t, err)
			assert.Equal(t, automation.DecisionSkippedRecent, d)

			done, err := v.Engine.Approve(ctx, rec.ID, "secops@corp.example")
			require.NoError(t, err)
			assert.Equal(t, remediation.StatusCompleted, done.Status)
			assert.Equal(t, "secops@corp.example", done.DecidedBy)
			assert.Equal(t, int64(12), done.Counts.Succeeded)
			assert.Equal(t, everyCopyIn(mock.FolderRecoverable), v.campaignWhere())
		})
	}
}

func TestAutomationUnderCapExecutes(t *testing.T) {
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	a := v.automation(automation.Options{Kinds: cluster.KindFile, SizeCap: 12})
	_, d, err := a.Remediate(context.Background(), v.fileCluster())
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d, "a cluster of exactly the cap runs")
}

func TestAutomationKindNotEnabled(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	for _, kinds := range []cluster.Kind{0, cluster.KindURL, cluster.KindSimilarity | cluster.KindURL} {
		a := v.automation(automation.Options{Kinds: kinds})
		rec, d, err := a.Remediate(ctx, v.fileCluster())
		require.NoError(t, err)
		assert.Equal(t, automation.DecisionSkippedKind, d, "enabled %s", kinds)
		assert.Nil(t, rec)
	}
	assert.Empty(t, v.Records(remediation.SourceAutomation))
	assert.Equal(t, everyCopyIn(mock.FolderInbox), v.campaignWhere())
}

func TestClusterKinds(t *testing.T) {
	fileSeed := cluster.SeedFile("aa")
	urlSeed := cluster.SeedKey(cluster.Key{Kind: cluster.KeyURL, Value: "http://x.example/"})
	msgSeed := cluster.SeedMessage("m@x.example")
	tests := []struct {
		name string
		c    cluster.Cluster
		want cluster.Kind
	}{
		{"carriers of a file hash", cluster.Cluster{Kind: cluster.KindFile, Seed: fileSeed}, cluster.KindFile},
		{"file hash seed in a campaign", cluster.Cluster{Kind: cluster.KindCampaign, Seed: fileSeed}, cluster.KindFile},
		{"same URL seed joined by similarity", cluster.Cluster{Kind: cluster.KindCampaign, Seed: urlSeed, Links: cluster.KindSimilarity},
			cluster.KindURL | cluster.KindSimilarity},
		{"message seed, file links", cluster.Cluster{Kind: cluster.KindCampaign, Seed: msgSeed, Links: cluster.KindFile}, cluster.KindFile},
		{"lone message of a similarity search", cluster.Cluster{Kind: cluster.KindSimilarity, Seed: msgSeed}, cluster.KindSimilarity},
		{"lone message of a campaign search", cluster.Cluster{Kind: cluster.KindCampaign, Seed: msgSeed}, cluster.KindCampaign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, automation.ClusterKinds(&tt.c))
		})
	}
}

func TestAutomationKindDecisions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		enabled cluster.Kind
		links   cluster.Kind
		want    automation.Decision
	}{
		{"file links, files enabled", cluster.KindFile, cluster.KindFile, automation.DecisionExecuted},
		{"file and URL links, files enabled", cluster.KindFile, cluster.KindFile | cluster.KindURL, automation.DecisionSkippedKind},
		{"file and URL links, both enabled", cluster.KindFile | cluster.KindURL, cluster.KindFile | cluster.KindURL, automation.DecisionExecuted},
		{"similarity links, all enabled", cluster.KindCampaign, cluster.KindSimilarity, automation.DecisionExecuted},
		{"similarity links, files and URLs enabled", cluster.KindFile | cluster.KindURL, cluster.KindSimilarity, automation.DecisionSkippedKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newRTEnv(t, nil)
			v.deliverCampaign()
			c := v.fileCluster()
			c.Seed = cluster.SeedMessage(campaignIDs[0])
			c.Kind = cluster.KindCampaign
			c.Links = tt.links
			a := v.automation(automation.Options{Kinds: tt.enabled})
			_, d, err := a.Remediate(ctx, c)
			require.NoError(t, err)
			assert.Equal(t, tt.want, d)
		})
	}
}

func TestAutomationEmpty(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	a := v.automation(automation.Options{Kinds: cluster.KindFile})
	gone := &cluster.Cluster{Kind: cluster.KindFile, Seed: cluster.SeedFile("aa"),
		Members: []cluster.Member{{MessageID: "gone@evil.example"}}}
	for name, c := range map[string]*cluster.Cluster{
		"nil":                 nil,
		"no members":          {Kind: cluster.KindFile, Seed: cluster.SeedFile("aa")},
		"no copy left":        gone,
		"no id and no copies": {Kind: cluster.KindFile, Seed: cluster.SeedFile("aa"), Members: []cluster.Member{{}}},
	} {
		t.Run(name, func(t *testing.T) {
			rec, d, err := a.Remediate(ctx, c)
			require.NoError(t, err)
			assert.Equal(t, automation.DecisionSkippedEmpty, d)
			assert.Nil(t, rec)
		})
	}
	// A member with no copy left is not remembered: when its copies turn
	// up, it is acted on.
	v.Deliver(rtenv.Phish("gone@evil.example", rtenv.Users()[0]), nil)
	_, d, err := a.Remediate(ctx, gone)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	assert.Equal(t, rtenv.In(mock.FolderRecoverable, rtenv.Users()[0]), v.Folders("gone@evil.example"))
	assert.Equal(t, everyCopyIn(mock.FolderInbox), v.campaignWhere())
}

func TestAutomationMembersWithoutMessageID(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	raw := rtenv.Phish("x@evil.example", rtenv.Users()[:2]...)
	raw = raw[len("Message-ID: <x@evil.example>\r\n"):]
	addrs := v.Deliver(raw, nil)
	require.Len(t, addrs, 2)
	c := &cluster.Cluster{Kind: cluster.KindFile, Seed: cluster.SeedFile(rtenv.AttachmentSHA(t)),
		Members: []cluster.Member{{Copies: addrs}, {Copies: addrs[:1]}}}

	a := v.automation(automation.Options{Kinds: cluster.KindFile})
	rec, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	assert.Nil(t, rec.Selection.Criteria)
	assert.Equal(t, addrs, rec.Selection.Copies, "the known copies, once each")
	assert.Equal(t, int64(2), rec.Counts.Succeeded)
	for _, ad := range addrs {
		copies, err := v.Tenant.Copies(ad.Mailbox)
		require.NoError(t, err)
		require.Len(t, copies, 1)
		assert.Equal(t, mock.FolderRecoverable, copies[0].Address.Folder)
	}
	_, d, err = a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionSkippedRecent, d, "remembered by copy address")

	_, err = v.Engine.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)
	for _, ad := range addrs {
		copies, err := v.Tenant.Copies(ad.Mailbox)
		require.NoError(t, err)
		require.Len(t, copies, 1)
		assert.Equal(t, mock.FolderInbox, copies[0].Address.Folder)
	}
}

func TestAutomationCooldownDisabled(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	a := v.automation(automation.Options{Kinds: cluster.KindFile, Cooldown: -1})
	c := v.fileCluster()
	_, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	rec, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	assert.Equal(t, int64(12), rec.Counts.AlreadyInDestination)
}

func TestAutomationEngineFailureIsNotRemembered(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	a := v.automation(automation.Options{Kinds: cluster.KindFile})
	c := v.fileCluster()

	v.Tenant.FailOp(mock.OpMailboxes, nil)
	rec, _, err := a.Remediate(ctx, c)
	require.ErrorIs(t, err, mock.ErrInjected)
	assert.Nil(t, rec)
	v.Tenant.ClearFaults()

	rec, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d, "tried again: nothing was recorded the first time")
	assert.Equal(t, int64(12), rec.Counts.Succeeded)
}

func TestAutomationConcurrent(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	a := v.automation(automation.Options{Kinds: cluster.KindFile})
	c := v.fileCluster()
	const n = 6
	decisions := make([]automation.Decision, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, d, err := a.Remediate(ctx, c)
			assert.NoError(t, err)
			decisions[i] = d
		}()
	}
	wg.Wait()
	count := map[automation.Decision]int{}
	for _, d := range decisions {
		count[d]++
	}
	assert.Equal(t, map[automation.Decision]int{automation.DecisionExecuted: 1, automation.DecisionSkippedRecent: n - 1}, count)
	assert.Len(t, v.Records(remediation.SourceAutomation), 1)
	assert.Equal(t, everyCopyIn(mock.FolderRecoverable), v.campaignWhere())
}

func TestNewAutomation(t *testing.T) {
	v := newRTEnv(t, nil)
	for _, act := range []remediation.Action{remediation.HardDelete, remediation.MoveToJunk, remediation.MoveToDeleted, remediation.Release, "bogus"} {
		t.Run(fmt.Sprint("refuses ", act), func(t *testing.T) {
			_, err := automation.New(v.Engine, automation.Options{Kinds: cluster.KindFile, Action: act})
			require.ErrorIs(t, err, automation.ErrNotAutomatable)
		})
	}
	_, err := automation.New(v.Engine, automation.Options{Kinds: 1 << 6})
	require.ErrorIs(t, err, remediation.ErrInvalidRequest)
	_, err = automation.New(nil, automation.Options{})
	require.ErrorIs(t, err, remediation.ErrInvalidRequest)

	a, err := automation.New(v.Engine, automation.Options{Kinds: cluster.KindURL})
	require.NoError(t, err)
	s := a.Options()
	assert.Equal(t, remediation.SoftDelete, s.Action)
	assert.Equal(t, automation.DefaultSizeCap, s.SizeCap)
	assert.Equal(t, 10000, s.SizeCap)
	assert.Equal(t, time.Hour, s.Cooldown)
	assert.Equal(t, remediation.SeverityHigh, s.Severity)
	assert.Equal(t, cluster.KindURL, s.Kinds)
}

// TestAutomationCooldownSurvivesRestart: the cooldown memory is rebuilt
// from the action center, so a process restarted within the hour does
// not act again on the cluster the previous one soft-deleted and an
// analyst undid.
func TestAutomationCooldownSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal")
	v := newRTEnv(t, nil)
	open := func() (*remediation.Engine, *journal.File) {
		j, err := journal.OpenFile(path, nil)
		require.NoError(t, err)
		e, err := remediation.New(v.Tenant, v.Tenant, j, &remediation.Options{Logger: rtenv.Logger(t), Now: v.Clock.Now})
		require.NoError(t, err)
		return e, j
	}
	e1, j1 := open()
	v.Engine = e1
	v.deliverCampaign()
	c := v.fileCluster()
	rec, d, err := v.automation(automation.Options{Kinds: cluster.KindFile}).Remediate(ctx, c)
	require.NoError(t, err)
	require.Equal(t, automation.DecisionExecuted, d)
	_, err = e1.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)
	require.NoError(t, j1.Close())

	// A new process: a new engine over the same journal, a new Automation.
	v.Clock.Advance(30 * time.Minute)
	e2, j2 := open()
	defer j2.Close()
	v.Engine = e2
	a := v.automation(automation.Options{Kinds: cluster.KindFile})
	rec2, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionSkippedRecent, d)
	assert.Nil(t, rec2)
	assert.Equal(t, everyCopyIn(mock.FolderInbox), v.campaignWhere(), "the analyst's undo stands")

	// After the hour, the cluster is acted on again.
	v.Clock.Advance(31 * time.Minute)
	rec3, d, err := a.Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	assert.Equal(t, int64(12), rec3.Counts.Succeeded)
}

// A cluster with a member without a Message-ID is selected by copies; a
// restarted Automation still recalls the members that have one.
func TestAutomationRecallMixedCluster(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	withID := v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[:2]...), nil)
	raw := rtenv.Phish("x@evil.example", rtenv.Users()[2:]...)
	raw = raw[len("Message-ID: <x@evil.example>\r\n"):]
	noID := v.Deliver(raw, nil)
	c := &cluster.Cluster{Kind: cluster.KindFile, Seed: cluster.SeedFile(rtenv.AttachmentSHA(t)),
		Members: []cluster.Member{{MessageID: "p1@evil.example", Copies: withID}, {Copies: noID}}}
	rec, d, err := v.automation(automation.Options{Kinds: cluster.KindFile}).Remediate(ctx, c)
	require.NoError(t, err)
	require.Equal(t, automation.DecisionExecuted, d)
	require.NotEmpty(t, rec.Selection.Copies, "selected by copies")
	_, err = v.Engine.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)

	v.Clock.Advance(10 * time.Minute)
	_, d, err = v.automation(automation.Options{Kinds: cluster.KindFile}).Remediate(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionSkippedRecent, d)
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()[:2]...), v.Folders("p1@evil.example"), "the analyst's undo stands")
}

// growStore delivers more of the campaign right after the dry run's
// searches, before the action selects again.
type growStore struct {
	*mock.Tenant
	n     atomic.Int32
	after int32
	grow  func()
}

func (s *growStore) Search(ctx context.Context, owner string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	if s.n.Add(1) == s.after+1 {
		s.grow()
	}
	return s.Tenant.Search(ctx, owner, c)
}

// The size cap holds however the campaign grows: copies that arrive
// between the dry run and the action's own count make it a proposal;
// copies that arrive while the action runs are not acted on: it works on
// the copies its count found, without searching again.
func TestAutomationSizeCapHoldsWhileRunning(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		after int32 // searches before the campaign grows
	}{
		{"after the dry run", int32(len(rtenv.Users()))},
		{"while the action runs", int32(2 * len(rtenv.Users()))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newRTEnv(t, nil)
			v.Deliver(rtenv.Phish("p1@evil.example", rtenv.Users()[:2]...), nil)
			c, err := v.index().ClusterOf(cluster.SeedFile(rtenv.AttachmentSHA(t)), cluster.KindFile)
			require.NoError(t, err)
			st := &growStore{Tenant: v.Tenant, after: tc.after}
			st.grow = func() {
				_, _ = v.Tenant.Deliver(context.Background(), rtenv.Phish("p1@evil.example", rtenv.Users()[2:]...), nil)
			}
			e, err := remediation.New(st, v.Tenant, journal.NewMemory(), &remediation.Options{Logger: rtenv.Logger(t), Now: v.Clock.Now, Workers: 1})
			require.NoError(t, err)
			a, err := automation.New(e, automation.Options{Kinds: cluster.KindFile, SizeCap: 3})
			require.NoError(t, err)
			rec, d, err := a.Remediate(ctx, c)
			require.NotNil(t, rec)
			assert.Equal(t, 3, rec.MaxCopies)
			acted := 0
			for _, f := range v.Folders("p1@evil.example") {
				if strings.HasSuffix(f, ":"+mock.FolderRecoverable) {
					acted++
				}
			}
			assert.LessOrEqual(t, acted, 3, "never more than the cap without approval")
			if tc.after == int32(len(rtenv.Users())) {
				require.NoError(t, err)
				assert.Equal(t, automation.DecisionProposedOverCap, d)
				assert.Zero(t, acted)
			} else {
				require.NoError(t, err)
				assert.Equal(t, 2, acted, "the copies counted, not the late ones")
				assert.Equal(t, int64(acted), rec.Counts.Succeeded)
			}
		})
	}
}

// A cluster kind that opts in is quarantined; the others keep the soft
// delete, and the quarantine is undone like any action.
func TestAutomationQuarantineKinds(t *testing.T) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	v.deliverCampaign()
	a := v.automation(automation.Options{Kinds: cluster.KindFile | cluster.KindURL, QuarantineKinds: cluster.KindFile})
	rec, d, err := a.Remediate(ctx, v.fileCluster())
	require.NoError(t, err)
	assert.Equal(t, automation.DecisionExecuted, d)
	require.NotNil(t, rec)
	assert.Equal(t, remediation.Quarantine, rec.Action)
	assert.Contains(t, rec.Name, "quarantine")
	assert.Equal(t, everyCopyIn(mock.FolderQuarantine), v.campaignWhere())
	held, err := v.Engine.Held(ctx, nil)
	require.NoError(t, err)
	require.Len(t, held, len(campaignIDs))
	for _, h := range held {
		require.Len(t, h.Reasons, 1)
		assert.Equal(t, remediation.SourceAutomation, h.Reasons[0].Source)
	}
	_, err = v.Engine.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)
	assert.Equal(t, everyCopyIn(mock.FolderInbox), v.campaignWhere())

	_, err = automation.New(v.Engine, automation.Options{Kinds: cluster.KindFile, QuarantineKinds: 1 << 6})
	require.ErrorIs(t, err, remediation.ErrInvalidRequest)
	q, err := automation.New(v.Engine, automation.Options{Kinds: cluster.KindFile, Action: remediation.Quarantine})
	require.NoError(t, err)
	assert.Equal(t, remediation.Quarantine, q.Options().Action)
}
