package automation_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/automation"
	"github.com/eradicate-dev/eradicate/remediation/internal/rtenv"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// process is one run of eradicate over the tenant: what a process holds
// in memory, opened from what earlier runs left on disk.
type process struct {
	store    *sqlstore.Store
	journal  *journal.File
	engine   *remediation.Engine
	index    *cluster.Index
	rules    *rules.Set
	air      *automation.Responder
	failures atomic.Int64 // failed writes of the cluster log on delivery
}

// onDeliver is the process's delivery hook: the message joins the
// cluster index (written to its log) and the detection rules see it.
func (p *process) onDeliver(ctx context.Context, addr mailbox.Address, msg *mailbox.Parsed) {
	p.index.Add(cluster.Extract(msg), addr)
	if err := p.index.Flush(ctx); err != nil {
		p.failures.Add(1)
	}
	p.rules.OnDeliver(ctx, addr, msg)
}

// close ends the process: nothing it held in memory survives.
func (p *process) close(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, p.index.Flush(ctx))
	require.NoError(t, p.rules.Close(ctx))
	require.NoError(t, p.engine.Close(ctx))
	require.NoError(t, p.journal.Close())
	require.NoError(t, p.store.Close())
}

// restartCase runs the restart scenario over the index store open
// returns: automation sees half a campaign, the process restarts, the rest
// arrives.
func restartCase(t *testing.T, openStore func(t *testing.T) *sqlstore.Store) {
	ctx := context.Background()
	v := newRTEnv(t, nil)
	journalPath := filepath.Join(t.TempDir(), "journal")
	var current atomic.Pointer[process]
	v.Tenant.OnDeliver(func(ctx context.Context, addr mailbox.Address, msg *mailbox.Parsed) {
		if p := current.Load(); p != nil {
			p.onDeliver(ctx, addr, msg)
		}
	})
	start := func() *process {
		p := &process{store: openStore(t)}
		var err error
		p.journal, err = journal.OpenFile(journalPath, nil)
		require.NoError(t, err)
		p.engine, err = remediation.New(v.Tenant, v.Tenant, p.journal, &remediation.Options{Logger: rtenv.Logger(t), Now: v.Clock.Now})
		require.NoError(t, err)
		p.index, err = cluster.Open(ctx, p.store, &cluster.Options{Logger: rtenv.Logger(t)})
		require.NoError(t, err)
		p.rules, err = rules.Open(ctx, p.engine, &rules.Options{Store: p.store, FolderRole: v.Tenant.FolderRole, Logger: rtenv.Logger(t)})
		require.NoError(t, err)
		p.air, err = automation.New(p.engine, automation.Options{Kinds: cluster.KindFile, Logger: rtenv.Logger(t)})
		require.NoError(t, err)
		v.Engine = p.engine
		current.Store(p)
		return p
	}
	invoice := cluster.SeedFile(rtenv.AttachmentSHA(t))
	// remediate is what AIR does on a malicious verdict for the invoice:
	// the file's cluster, from the index in memory, handed to automation.
	remediate := func(p *process) (*remediation.Record, automation.Decision) {
		t.Helper()
		c, err := p.index.ClusterOf(invoice, cluster.KindFile)
		require.NoError(t, err)
		rec, d, err := p.air.Remediate(ctx, c)
		require.NoError(t, err)
		return rec, d
	}
	selected := func(rec *remediation.Record) []string {
		require.NotNil(t, rec)
		require.NotNil(t, rec.Selection.Criteria)
		ids := slices.Clone(rec.Selection.Criteria.MessageIDs)
		slices.Sort(ids)
		return ids
	}
	spoof := func(id string) []byte {
		return []byte("Message-ID: <" + id + ">\r\nFrom: ceo@spoof.example\r\nTo: ann@corp.example\r\n" +
			"Subject: Urgent wire\r\n\r\nPlease wire the funds today.\r\n")
	}
	payroll := func(id string) []byte {
		return []byte("Message-ID: <" + id + ">\r\nFrom: hr@payroll.example\r\nTo: ben@corp.example\r\n" +
			"Subject: Payroll update\r\n\r\nConfirm your bank details.\r\n")
	}

	// The first process: rules are set, half the campaign arrives and
	// automation soft-deletes it; an analyst undoes that.
	p1 := start()
	require.NoError(t, p1.rules.Add(rules.Rule{Name: "CEO spoof", Criteria: mailbox.Criteria{SenderDomains: []string{"spoof.example"}},
		Action: remediation.MoveToJunk, Mode: rules.ModeExecute}))
	require.NoError(t, p1.rules.Add(rules.Rule{Name: "Payroll", Criteria: mailbox.Criteria{SenderDomains: []string{"payroll.example"}},
		Action: remediation.SoftDelete, Mode: rules.ModeExecute}))
	require.NoError(t, p1.rules.Enable("Payroll", false))
	wantRules := p1.rules.Rules()
	for _, id := range campaignIDs[:2] {
		v.Deliver(rtenv.Phish(id, rtenv.Users()...), nil)
	}
	v.Deliver(rtenv.Benign("b1@corp.example", rtenv.Users()...), nil)
	v.Deliver(spoof("s1@spoof.example"), nil)
	assert.Equal(t, []string{"ann@corp.example:" + mock.FolderJunk}, v.Folders("s1@spoof.example"), "the rule fired before the restart")
	rec, d := remediate(p1)
	require.Equal(t, automation.DecisionExecuted, d)
	assert.Equal(t, campaignIDs[:2], selected(rec))
	assert.Equal(t, int64(8), rec.Counts.Succeeded)
	_, err := p1.engine.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()...), v.Folders(campaignIDs[0]))
	indexed := p1.index.Len()
	p1.close(t)
	current.Store(nil)

	// The restart, twenty minutes later: new instances from the same
	// files.
	v.Clock.Advance(20 * time.Minute)
	p2 := start()
	defer p2.close(t)
	assert.Equal(t, indexed, p2.index.Len(), "the cluster index is rebuilt")
	assert.Equal(t, wantRules, p2.rules.Rules(), "the rules are still there")

	// The rest of the campaign arrives, and more mail for the rules.
	v.Deliver(rtenv.Phish(campaignIDs[2], rtenv.Users()...), nil)
	v.Deliver(spoof("s2@spoof.example"), nil)
	v.Deliver(payroll("pay1@payroll.example"), nil)
	assert.Zero(t, p2.failures.Load())
	assert.Equal(t, []string{"ann@corp.example:" + mock.FolderJunk}, v.Folders("s2@spoof.example"), "the rule still fires")
	assert.Equal(t, []string{"ben@corp.example:" + mock.FolderInbox}, v.Folders("pay1@payroll.example"), "the disabled rule is still disabled")

	c, err := p2.index.ClusterOf(invoice, cluster.KindFile)
	require.NoError(t, err)
	var members []string
	for _, m := range c.Members {
		members = append(members, m.MessageID)
	}
	assert.ElementsMatch(t, campaignIDs, members, "the campaign is one cluster across the restart")
	camp, err := p2.index.ClusterOf(cluster.SeedMessage(campaignIDs[2]), cluster.KindCampaign)
	require.NoError(t, err)
	assert.Equal(t, len(campaignIDs), camp.Len(), "the new message joins the members seen before the restart")

	// The one-hour rule holds: only the new member is acted on, the
	// analyst's undo of the first half stands.
	rec, d = remediate(p2)
	require.Equal(t, automation.DecisionExecuted, d)
	assert.Equal(t, campaignIDs[2:], selected(rec))
	assert.Equal(t, rtenv.In(mock.FolderInbox, rtenv.Users()...), v.Folders(campaignIDs[0]))
	assert.Equal(t, rtenv.In(mock.FolderRecoverable, rtenv.Users()...), v.Folders(campaignIDs[2]))
	_, d = remediate(p2)
	assert.Equal(t, automation.DecisionSkippedRecent, d)

	// After the hour, the first half is acted on again.
	v.Clock.Advance(41 * time.Minute)
	rec, d = remediate(p2)
	require.Equal(t, automation.DecisionExecuted, d)
	assert.Equal(t, campaignIDs[:2], selected(rec))
	assert.Equal(t, everyCopyIn(mock.FolderRecoverable), v.campaignWhere())
}

// TestRestartResumes: automation sees half a campaign, the process
// restarts, the rest arrives: the cluster is one, the one-hour rule holds,
// the rules are still there; with the cluster index and the rules kept
// beside the events index in a SQLite file, and the action center in a
// journal file.
func TestRestartResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	restartCase(t, func(t *testing.T) *sqlstore.Store {
		s, err := sqlstore.OpenSQLite(context.Background(), path, nil)
		require.NoError(t, err)
		return s
	})
}

// TestRestartResumesPostgres is TestRestartResumes with the index on a
// real PostgreSQL.
func TestRestartResumesPostgres(t *testing.T) {
	srv := postgres.Start(t, nil)
	dsn := srv.CreateDatabase(t)
	restartCase(t, func(t *testing.T) *sqlstore.Store {
		db, err := sql.Open("pgx", dsn)
		require.NoError(t, err)
		s, err := sqlstore.OpenPostgres(context.Background(), db, nil)
		require.NoError(t, err)
		return s
	})
}
