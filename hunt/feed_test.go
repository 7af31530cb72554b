package hunt_test

import (
	"context"
	"iter"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/automation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// annotationsOf returns the annotations of the message id's entity, by
// kind.
func annotationsOf(t *testing.T, idx hunt.Store, msgID string) (string, map[hunt.AnnotationKind][]hunt.Annotation) {
	t.Helper()
	var nid string
	for cp, err := range idx.Copies(context.Background(), hunt.Query{Criteria: &mailbox.Criteria{MessageIDs: []string{msgID}}, Removed: true}) {
		require.NoError(t, err)
		nid = cp.Message.NetworkID
	}
	require.NotEmpty(t, nid, "the index holds %s", msgID)
	ent, err := idx.Entity(context.Background(), nid)
	require.NoError(t, err)
	by := map[hunt.AnnotationKind][]hunt.Annotation{}
	for _, a := range ent.Annotations {
		by[a.Kind] = append(by[a.Kind], a)
	}
	return nid, by
}

// TestEngineFeedsIndex: with hunt.RecordActions as the engine's
// AfterAction, the index follows every action the engine runs without
// the embedder recording it: a manual action and its undo, a detection
// rule's action (a detection annotation), automation's action on a
// cluster (a cluster annotation); a failing index does not fail the
// action.
func TestEngineFeedsIndex(t *testing.T) {
	ctx := t.Context()
	ten, users := tenant(t, 4, 3)
	lure := []byte("Message-ID: <lure@evil-campaign.example>\r\nFrom: payroll@evil-campaign.example\r\nTo: " + users[1] + ", " + users[2] +
		"\r\nSubject: payroll\r\nDate: Mon, 2 Nov 2026 11:00:00 +0000\r\n\r\nUpdate at https://evil-campaign.example/pay\r\n")
	_, err := ten.Deliver(ctx, lure, &mock.DeliverOptions{Recipients: []string{users[1], users[2]}})
	require.NoError(t, err)
	idx := openIndex(t)
	_, err = hunt.NewCrawler(ten, idx, &hunt.CrawlerOptions{Retention: -1}).Crawl(ctx)
	require.NoError(t, err)

	e, err := remediation.New(ten, ten, journal.NewMemory(), &remediation.Options{AfterAction: hunt.RecordActions(idx, 0)})
	require.NoError(t, err)

	// A manual action and its undo.
	sel := remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"lure@evil-campaign.example"}}}
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "analyst@corp.example", Selection: sel})
	require.NoError(t, err)
	require.EqualValues(t, 2, rec.Counts.Succeeded)
	folders := func() []string {
		var out []string
		for cp, err := range idx.Copies(ctx, hunt.Query{Criteria: sel.Criteria}) {
			require.NoError(t, err)
			out = append(out, cp.Mailbox+":"+cp.Address.Folder)
		}
		slices.Sort(out)
		return out
	}
	assert.Equal(t, []string{users[1] + ":Junk", users[2] + ":Junk"}, folders(), "the index followed the action")
	_, by := annotationsOf(t, idx, "lure@evil-campaign.example")
	require.Len(t, by[hunt.AnnotateAction], 2, "one action annotation per copy")
	assert.Equal(t, rec.ID, by[hunt.AnnotateAction][0].Record)
	assert.Empty(t, by[hunt.AnnotateDetection], "a manual action is no detection")

	undo, err := e.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)
	assert.Equal(t, []string{users[1] + ":INBOX", users[2] + ":INBOX"}, folders(), "the index followed the undo")
	_, by = annotationsOf(t, idx, "lure@evil-campaign.example")
	assert.Len(t, by[hunt.AnnotateAction], 4)
	assert.True(t, slices.ContainsFunc(by[hunt.AnnotateAction], func(a hunt.Annotation) bool { return a.Record == undo.ID }))

	// A detection rule run over the mail: its action, and the detection.
	set := rules.New(e, &rules.Options{FolderRole: ten.FolderRole, Actor: "rules"})
	t.Cleanup(func() { _ = set.Close(context.Background()) })
	require.NoError(t, set.Add(rules.Rule{Name: "Payroll lure", Criteria: mailbox.Criteria{URLs: []string{"https://evil-campaign.example/pay"}},
		Action: remediation.SoftDelete, Mode: rules.ModeExecute}))
	rrec, err := set.Run(ctx, "Payroll lure")
	require.NoError(t, err)
	require.EqualValues(t, 2, rrec.Counts.Succeeded)
	nid, by := annotationsOf(t, idx, "lure@evil-campaign.example")
	require.Len(t, by[hunt.AnnotateDetection], 1, "one detection per message, not per copy")
	d := by[hunt.AnnotateDetection][0]
	assert.Equal(t, "Payroll lure", d.Name)
	assert.Equal(t, rrec.ID, d.Record)
	assert.Equal(t, "rules", d.Actor)
	assert.Equal(t, nid, d.NetworkID)
	assert.Equal(t, []string{users[1] + ":Recoverable Items", users[2] + ":Recoverable Items"}, folders())

	// Automation on a cluster: the cluster is filed on each member.
	x := cluster.New(nil)
	_, err = x.AddStore(ctx, ten, nil)
	require.NoError(t, err)
	key, err := cluster.URLKey("https://evil.example/login")
	require.NoError(t, err)
	c, err := x.ClusterOf(cluster.SeedKey(key), cluster.KindURL)
	require.NoError(t, err)
	require.NotEmpty(t, c.Members)
	air, err := automation.New(e, automation.Options{Kinds: cluster.KindURL})
	require.NoError(t, err)
	arec, decision, err := air.Remediate(ctx, c)
	require.NoError(t, err)
	require.Equal(t, automation.DecisionExecuted, decision)
	assert.Equal(t, c.Seed.String(), arec.Cluster)
	for _, m := range c.Members {
		_, by := annotationsOf(t, idx, m.MessageID)
		require.Len(t, by[hunt.AnnotateCluster], 1, m.MessageID)
		assert.Equal(t, c.Seed.String(), by[hunt.AnnotateCluster][0].Name)
		assert.Equal(t, arec.ID, by[hunt.AnnotateCluster][0].Record)
		assert.Equal(t, remediation.DecidedByAutomation, by[hunt.AnnotateCluster][0].Actor)
	}

	// A failing callback is logged; the action stands.
	failing, err := remediation.New(ten, ten, journal.NewMemory(), &remediation.Options{
		AfterAction: func(context.Context, *remediation.Record, iter.Seq2[remediation.Outcome, error]) error {
			return hunt.ErrClosed
		}})
	require.NoError(t, err)
	frec, err := failing.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "analyst@corp.example",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"good.example"}}}})
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, frec.Status)
}
