package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/automation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
	"github.com/eradicate-dev/eradicate/tap"
)

// openJournal opens the action center the config names: in PostgreSQL
// ([postgres]), in a file (journal), or in memory; sealed with the key of
// journal_key when set. The returned func closes it.
func openJournal(ctx context.Context, cfg *serveConfig, log *slog.Logger) (remediation.Journal, func(), error) {
	var key *journal.Key
	if cfg.JournalKey != "" {
		k, err := journal.ReadKeyFile(cfg.JournalKey)
		if err != nil {
			return nil, nil, fmt.Errorf("config: journal_key: %w", err)
		}
		key = k
	}
	switch {
	case cfg.Postgres != nil:
		pc, err := cfg.Postgres.poolConfig()
		if err != nil {
			return nil, nil, err
		}
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: %w", err)
		}
		j, err := pgjournal.OpenPool(ctx, pool, &pgjournal.Options{Schema: cfg.Postgres.Schema, Key: key,
			Holder: cfg.Postgres.Holder, LeaseTimeout: cfg.Postgres.LeaseTimeout})
		if err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("postgres: %w", err)
		}
		log.Info("action center in PostgreSQL", "schema", cmpOr(cfg.Postgres.Schema, pgjournal.DefaultSchema),
			"holder", j.Holder(), "sealed", key != nil)
		return j, func() { _ = j.Close(); pool.Close() }, nil
	case cfg.Journal != "":
		if err := os.MkdirAll(filepath.Dir(cfg.Journal), 0o700); err != nil {
			return nil, nil, err
		}
		j, err := journal.OpenFile(cfg.Journal, &journal.FileOptions{Key: key})
		if err != nil {
			return nil, nil, err
		}
		log.Info("action center in a file", "journal", cfg.Journal, "sealed", key != nil)
		return j, func() { _ = j.Close() }, nil
	}
	j := journal.NewMemory()
	return j, func() { _ = j.Close() }, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// headOf returns the head of j's chain, when j is sealed.
func headOf(ctx context.Context, j remediation.Journal) (journal.Head, bool) {
	var h journal.Head
	var err error
	switch j := j.(type) {
	case *journal.File:
		h, err = j.Head()
	case *pgjournal.Journal:
		h, err = j.Head(ctx)
	default:
		return h, false
	}
	return h, err == nil
}

// headInterval is how often serve logs the head of a sealed journal's
// chain, when it changed.
const headInterval = time.Minute

// logHeads logs the head of j's chain every interval while it changes,
// until ctx is done: lines to ship off the host, for `eradicate verify
// -heads` to find entries cut off the end.
func logHeads(ctx context.Context, every time.Duration, j remediation.Journal, log *slog.Logger) {
	last, _ := headOf(ctx, j)
	tick(ctx, every, func() {
		if h, ok := headOf(ctx, j); ok && h != last {
			log.Info("journal head", "head", h.String())
			last = h
		}
	})
}

// tick calls fn every interval until ctx is done.
func tick(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

// compactEvery compacts the journal every interval until ctx is done,
// removing the actions that finished more than retention ago (none when
// retention is 0). A journal that cannot be rewritten is said once.
func compactEvery(ctx context.Context, cc *compactConfig, engine *remediation.Engine, j remediation.Journal, log *slog.Logger) {
	if _, ok := j.(remediation.Rewriter); !ok {
		log.Warn("[compact]: this journal cannot be compacted")
		return
	}
	tick(ctx, cc.Interval, func() {
		var before time.Time
		if cc.Retention > 0 {
			before = time.Now().Add(-cc.Retention)
		}
		st, err := engine.Compact(ctx, before)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("journal compaction", "error", err)
			}
			return
		}
		attrs := []any{"removed", st.Removed, "kept", st.Kept, "bytes_before", st.Before, "bytes_after", st.After}
		if h, ok := headOf(ctx, j); ok {
			// The chain starts over: export this head, the earlier ones no
			// longer verify.
			attrs = append(attrs, "head", h.String())
		}
		log.Info("journal compacted", attrs...)
	})
}

// resumeEvery resumes, every interval until ctx is done, the actions no
// engine sharing the journal is working on: those of a process that
// stopped before finishing them, once its leases expired.
func resumeEvery(ctx context.Context, every time.Duration, engine *remediation.Engine, log *slog.Logger) {
	tick(ctx, every, func() {
		recs, err := engine.Resume(ctx)
		for _, r := range recs {
			log.Info("resumed", "id", r.ID, "status", r.Status)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("resume", "error", err)
		}
	})
}

// autoResponder runs automation on the clusters of the messages detection
// rules catch at the tap: it is the tap's Recorder, recording through the
// rules' recorder and then queueing the message, whose cluster a worker
// remediates once the cluster index has it.
type autoResponder struct {
	tap.Recorder
	air   *automation.Responder
	index *cluster.Index
	kinds cluster.Kind
	log   *slog.Logger
	queue chan string
}

// autoQueue is how many caught messages wait for automation; more are
// logged and left to people.
const autoQueue = 1024

func newAutoResponder(engine *remediation.Engine, ac *automationConfig, rec tap.Recorder, x *cluster.Index, log *slog.Logger) (*autoResponder, error) {
	o, err := ac.options()
	if err != nil {
		return nil, err
	}
	o.Logger = log
	air, err := automation.New(engine, o)
	if err != nil {
		return nil, fmt.Errorf("config: [automation]: %w", err)
	}
	o = air.Options()
	log.Info("automation on", "kinds", o.Kinds.String(), "action", o.Action, "size_cap", o.SizeCap, "cooldown", o.Cooldown)
	return &autoResponder{Recorder: rec, air: air, index: x, kinds: o.Kinds, log: log, queue: make(chan string, autoQueue)}, nil
}

// Record implements tap.Recorder: a decision naming a rule is the rule's
// verdict on the message, which seeds automation.
func (a *autoResponder) Record(ctx context.Context, d *tap.Delivery, owners []string, why tap.Decision) error {
	err := a.Recorder.Record(ctx, d, owners, why)
	if why.Rule == "" || d.Parsed == nil || d.Parsed.MessageID == "" {
		return err
	}
	select {
	case a.queue <- d.Parsed.MessageID:
	default:
		a.log.Warn("automation: queue full, cluster left to people", "message_id", d.Parsed.MessageID, "rule", why.Rule)
	}
	return err
}

// run remediates the clusters of the queued messages until ctx is done.
func (a *autoResponder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-a.queue:
			a.remediate(ctx, id)
		}
	}
}

func (a *autoResponder) remediate(ctx context.Context, id string) {
	// The tap indexes a message beside delivering it: give the index a
	// moment to have it.
	var c *cluster.Cluster
	var err error
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		c, err = a.index.ClusterOf(cluster.SeedMessage(id), a.kinds)
		if !errors.Is(err, cluster.ErrUnknownSeed) || wait > 5*time.Second {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	if err != nil {
		a.log.Warn("automation: no cluster for the caught message", "message_id", id, "error", err)
		return
	}
	rec, d, err := a.air.Remediate(ctx, c)
	attrs := []any{"message_id", id, "decision", string(d), "messages", len(c.Members)}
	if rec != nil {
		attrs = append(attrs, "action", rec.ID, "status", rec.Status, "succeeded", rec.Counts.Succeeded)
	}
	if err != nil {
		a.log.Error("automation", append(attrs, "error", err)...)
		return
	}
	a.log.Info("automation", attrs...)
}
