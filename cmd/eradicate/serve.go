package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/huntapi"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/rules"
	"github.com/eradicate-dev/eradicate/tap"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "eradicate.toml", "the configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if cfg.LogLevel != "" {
		if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return fmt.Errorf("config: log_level: %w", err)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	mail, cal, closeStores, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStores()

	j, closeJournal, err := openJournal(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeJournal()
	if h, ok := headOf(ctx, j); ok {
		log.Info("journal head", "head", h.String())
	}

	eo := &remediation.Options{Logger: log, BlastRadius: cfg.Engine.BlastRadius, Workers: cfg.Engine.Workers,
		EvidenceOnHardDelete: cfg.Engine.EvidenceOnHardDelete}
	var index *sqlstore.Store
	if cfg.Hunt != nil {
		if err := os.MkdirAll(filepath.Dir(cfg.Hunt.Index), 0o700); err != nil {
			return err
		}
		if index, err = sqlstore.OpenSQLite(ctx, cfg.Hunt.Index, nil); err != nil {
			return fmt.Errorf("config: [hunt] index: %w", err)
		}
		defer index.Close()
		// The engine tells the index what each action did as it ends;
		// keepIndex still reads the journal for actions of other engines
		// that share it (recording one twice keeps one).
		eo.AfterAction = hunt.RecordActions(index, 0)
		if cfg.Hunt.Narrow {
			n := &hunt.Narrower{Index: index, MaxAge: cfg.Hunt.MaxAge}
			if st, ok := mail.(mailbox.FolderStater); ok {
				n.Stater = st
			}
			eo.Narrower = n
		}
	}
	switch cfg.Engine.FourEyes {
	case "", "default":
	case "all":
		eo.FourEyes = remediation.FourEyesAll
	case "off":
		eo.FourEyes = remediation.FourEyesOff
	default:
		return fmt.Errorf("config: engine.four_eyes %q: default, all or off", cfg.Engine.FourEyes)
	}
	engine, err := remediation.New(mail, cal, j, eo)
	if err != nil {
		return err
	}
	auth, err := cfg.authenticator()
	if err != nil {
		return err
	}
	ao := api.Options{Auth: auth, Logger: log, RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, BaseURL: cfg.ExternalURL}
	if index != nil {
		ao.Index = huntapi.New(index)
	}
	if cfg.Tap != nil {
		// The tap indexes every delivered message; the API reads the
		// clusters.
		// clusters. With [hunt], what the index learns is kept beside the
		// events index and replayed at start, so that automation resumes
		// with the campaigns it saw.
		co := &cluster.Options{BoilerplateSubjects: cfg.Cluster.BoilerplateSubjects, Logger: log}
		if index != nil {
			start := time.Now()
			if ao.Clusters, err = cluster.Open(ctx, index, co); err != nil {
				return fmt.Errorf("cluster index in %s: %w", cfg.Hunt.Index, err)
			}
			defer ao.Clusters.Flush(context.Background())
			log.Info("cluster index rebuilt", "file", cfg.Hunt.Index, "took", time.Since(start).Round(time.Millisecond))
		} else {
			ao.Clusters = cluster.New(co)
		}
	}
	switch {
	case cfg.RulesFile == "" && index != nil:
		// The events index keeps the rules; the set saves every change.
		if ao.Rules, err = rules.Open(ctx, engine, &rules.Options{Logger: log, Store: index}); err != nil {
			return fmt.Errorf("detection rules in %s: %w", cfg.Hunt.Index, err)
		}
		log.Info("detection rules loaded", "rules", len(ao.Rules.Rules()), "file", cfg.Hunt.Index)
	default:
		ao.Rules = rules.New(engine, &rules.Options{Logger: log})
	}
	defer ao.Rules.Close(context.Background())
	if cfg.RulesFile != "" {
		saved, err := loadRules(cfg.RulesFile)
		if err != nil {
			return err
		}
		for _, r := range saved {
			if err := ao.Rules.Add(r); err != nil {
				return fmt.Errorf("rules file %s: %w", cfg.RulesFile, err)
			}
		}
		path := cfg.RulesFile
		ao.SaveRules = func(list []rules.Rule) error { return saveRules(path, list) }
		log.Info("detection rules loaded", "rules", len(saved), "file", path)
	} else if index == nil {
		log.Warn("neither rules_file nor [hunt] is set: detection rules are kept in memory only")
	}
	h, err := api.New(engine, ao)
	if err != nil {
		return err
	}
	var tp *tap.Server
	var air *autoResponder
	if cfg.Tap != nil {
		tr := tap.NewRules(engine, ao.Rules, nil)
		var rec tap.Recorder = tr
		if cfg.Automation != nil {
			if air, err = newAutoResponder(engine, cfg.Automation, tr, ao.Clusters, log); err != nil {
				return err
			}
			rec = air
		}
		var events hunt.Store // nil unless [hunt] is configured (not a nil *sqlstore.Store)
		if index != nil {
			events = index
		}
		if tp, err = newTap(cfg.Tap, tr, rec, ao.Clusters, events, mail, cal, log); err != nil {
			return err
		}
		tln, err := net.Listen("tcp", cfg.Tap.Listen)
		if err != nil {
			return err
		}
		go func() {
			if err := tp.Serve(tln); err != nil {
				log.Error("tap", "error", err)
			}
		}()
		log.Info("tap serving", "addr", tln.Addr().String(), "downstream", cfg.Tap.Downstream)
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if srv.TLSConfig, err = cfg.clientTLS(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Finish what a crash or restart interrupted, beside serving.
	resumed := make(chan struct{})
	go func() {
		defer close(resumed)
		recs, err := engine.Resume(ctx)
		for _, r := range recs {
			log.Info("resumed", "id", r.ID, "status", r.Status)
		}
		if err != nil {
			log.Error("resume", "error", err)
		}
	}()

	// Keep the index up to date: the engine's finished actions, then a
	// crawl, every crawl interval.
	indexed := make(chan struct{})
	if index != nil {
		go func() {
			defer close(indexed)
			keepIndex(ctx, cfg.Hunt, engine, mail, index, log)
		}()
	} else {
		close(indexed)
	}

	// Automation, the resumption of other processes' actions, the
	// journal's head in the log, and compaction, beside serving.
	var background sync.WaitGroup
	if air != nil {
		background.Add(1)
		go func() { defer background.Done(); air.run(ctx) }()
	}
	if engine.Shared() {
		// Another process's actions are finished here when it stopped
		// without finishing them (once its leases expired).
		every := 30 * time.Second
		if cfg.Postgres != nil && cfg.Postgres.LeaseTimeout > 0 {
			every = cfg.Postgres.LeaseTimeout
		}
		background.Add(1)
		go func() { defer background.Done(); resumeEvery(ctx, every, engine, log) }()
	}
	if _, sealed := headOf(ctx, j); sealed {
		background.Add(1)
		go func() { defer background.Done(); logHeads(ctx, headInterval, j, log) }()
	}
	if cfg.Compact != nil {
		background.Add(1)
		go func() { defer background.Done(); compactEvery(ctx, cfg.Compact, engine, j, log) }()
	}

	errc := make(chan error, 1)
	go func() {
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			log.Info("serving", "url", scheme+"://"+ln.Addr().String())
			errc <- srv.Serve(ln)
		}
	}()
	if cfg.TLSCert != "" {
		log.Info("serving", "url", "https://"+ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if tp != nil {
		if err := tp.Shutdown(sctx); err != nil {
			log.Warn("tap shutdown", "error", err)
		}
	}
	err = srv.Shutdown(sctx)
	if herr := h.Shutdown(sctx); herr != nil {
		log.Warn("actions still running were stopped; they resume at the next start", "error", herr)
	}
	if eerr := engine.Close(sctx); eerr != nil {
		log.Warn("actions still running were stopped; they resume at the next start", "error", eerr)
	}
	<-resumed
	<-indexed
	background.Wait()
	if h, ok := headOf(context.Background(), j); ok {
		log.Info("journal head", "head", h.String())
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// openStores opens the mail and calendar stores the config names.
func openStores(ctx context.Context, cfg *serveConfig, log *slog.Logger) (mailbox.Store, calendar.Store, func(), error) {
	if cfg.Mock != nil {
		t := mock.New(nil)
		for _, u := range cfg.Mock.Users {
			if err := t.AddUser(u); err != nil {
				return nil, nil, nil, fmt.Errorf("mock: %w", err)
			}
		}
		if cfg.Mock.Seed != "" {
			n := 0
			// Messages in the seed folder go to the inboxes, those in its
			// quarantine folder to quarantine (as a filter holds them on
			// delivery).
			for _, where := range []struct {
				dir  string
				role mailbox.Role
			}{{cfg.Mock.Seed, mailbox.RoleInbox}, {filepath.Join(cfg.Mock.Seed, "quarantine"), mailbox.RoleQuarantine}} {
				files, err := filepath.Glob(filepath.Join(where.dir, "*.eml"))
				if err != nil {
					return nil, nil, nil, err
				}
				for _, f := range files {
					raw, err := os.ReadFile(f)
					if err != nil {
						return nil, nil, nil, err
					}
					if _, err := t.Deliver(ctx, raw, &mock.DeliverOptions{Role: where.role}); err != nil {
						return nil, nil, nil, fmt.Errorf("mock: seeding %s: %w", f, err)
					}
					n++
				}
			}
			log.Info("mock tenant seeded", "messages", n)
		}
		return t, t, func() {}, nil
	}
	ic := imapstore.Config{
		Addr:               cfg.IMAP.Addr,
		Master:             &imapstore.MasterUser{User: cfg.IMAP.MasterUser, Password: imapstore.Password(cfg.IMAP.MasterPassword)},
		Mailboxes:          cfg.IMAP.Mailboxes,
		CreateAdminFolders: cfg.IMAP.CreateAdminFolders,
		QuarantineFolder:   cfg.IMAP.QuarantineFolder,
		RecoverableFolder:  cfg.IMAP.RecoverableFolder,
		EvidenceFolder:     cfg.IMAP.EvidenceFolder,
		Logger:             log,
	}
	switch strings.ToLower(cfg.IMAP.Security) {
	case "", "tls":
		ic.Security = imapstore.SecurityTLS
	case "starttls":
		ic.Security = imapstore.SecurityStartTLS
	case "insecure":
		loop, err := loopback(cfg.IMAP.Addr)
		if err != nil || !loop {
			return nil, nil, nil, fmt.Errorf("config: [imap] security = \"insecure\" needs a loopback addr, not %q", cfg.IMAP.Addr)
		}
		ic.Security = imapstore.SecurityInsecure
	default:
		return nil, nil, nil, fmt.Errorf("config: [imap] security %q: tls, starttls or insecure", cfg.IMAP.Security)
	}
	store, err := imapstore.New(ic)
	if err != nil {
		return nil, nil, nil, err
	}
	closeAll := func() { _ = store.Close() }
	if cfg.CalDAV == nil {
		return store, nil, closeAll, nil
	}
	key, _ := hex.DecodeString(cfg.CalDAV.ProvenanceKey) // validated
	prefix := cfg.CalDAV.HomePrefix
	if prefix == "" {
		prefix = "/"
	}
	cs, err := caldavstore.New(cfg.CalDAV.URL, caldavstore.Admin(cfg.CalDAV.AdminUser, cfg.CalDAV.AdminPassword),
		&caldavstore.Options{ProvenanceKey: key, Home: caldavstore.HomeUnder(prefix), AllowInsecure: cfg.CalDAV.AllowInsecure, Logger: log})
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return store, cs, closeAll, nil
}

// newTap builds the delivery tap the config describes: d (the detection
// rules) decides, rec records, and messages go on to the mail server.
// Each message feeds the cluster index x and, when index is not nil, is
// recorded in the events index as pending in its recipients' mailboxes
// until a crawl finds it.
func newTap(tc *tapConfig, d tap.Decider, rec tap.Recorder, x *cluster.Index, index hunt.Store, mail mailbox.Store, cal calendar.Store, log *slog.Logger) (*tap.Server, error) {
	opts := tap.Options{Decider: d, Recorder: rec, Logger: log, Indexers: []tap.Indexer{tap.ClusterIndexer(x)}}
	if index != nil {
		opts.Indexers = append(opts.Indexers, tap.AnnounceIndexer(hunt.Pending{Index: index}))
	}
	if tc.Downstream == "append" {
		opts.Downstream = tap.Append(mail)
	} else {
		opts.Downstream = tap.NewLMTP("tcp", tc.Downstream, nil)
	}
	if tc.TempFail {
		opts.OnFailure = tap.TempFail
	}
	if tc.ProcessInvites {
		if cal == nil {
			return nil, errors.New("config: [tap] process_invites needs a calendar store ([caldav])")
		}
		opts.Invites = tap.IMIP(imipproc.New(mail, cal, &imipproc.Options{Logger: log}))
	}
	return tap.New(opts)
}

// keepIndex keeps the events index up to date until ctx is done: every
// crawl interval, it tells the index what the finished actions in the
// journal did (hunt.RecordAction: this engine's own actions are recorded as
// they end, through Options.AfterAction; this pass catches those of other
// engines sharing the journal, and any whose recording failed), then crawls
// every mailbox. The first pass runs at once.
func keepIndex(ctx context.Context, hc *huntConfig, engine *remediation.Engine, mail mailbox.Store, index hunt.Store, log *slog.Logger) {
	crawler := hunt.NewCrawler(mail, index, &hunt.CrawlerOptions{Retention: hc.Retention, Logger: log})
	recorded := map[string]bool{}
	for {
		n, err := recordActions(ctx, engine, index, recorded)
		if n > 0 {
			log.Info("actions recorded in the index", "actions", n)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("recording actions in the index", "error", err)
		}
		start := time.Now()
		st, err := crawler.Crawl(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("crawl", "error", err)
		}
		log.Info("crawled", "mailboxes", st.Mailboxes, "unchanged", st.Unchanged, "fetched", st.Fetched,
			"moved", st.Moved, "removed", st.Removed, "expired", st.Expired, "took", time.Since(start).Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(hc.CrawlInterval):
		}
	}
}

// recordActions records in the index the finished actions not recorded
// yet (recorded, by id) and returns how many it recorded. An action that
// fails to record is tried again at the next pass.
func recordActions(ctx context.Context, engine *remediation.Engine, index hunt.Store, recorded map[string]bool) (int, error) {
	var todo []*remediation.Record
	for rec, err := range engine.Query(ctx, remediation.Filter{}) {
		if err != nil {
			return 0, err
		}
		if !recorded[rec.ID] && rec.Status.Final() && !rec.Incomplete {
			todo = append(todo, rec)
		}
	}
	n := 0
	var errs []error
	for _, rec := range todo {
		if err := hunt.RecordAction(ctx, index, rec, engine.Outcomes(ctx, rec.ID)); err != nil {
			errs = append(errs, fmt.Errorf("action %s: %w", rec.ID, err))
			continue
		}
		recorded[rec.ID] = true
		n++
	}
	return n, errors.Join(errs...)
}
