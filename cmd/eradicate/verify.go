package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

// verifyReport is what `eradicate verify` found (its -json output).
type verifyReport struct {
	// Journal is the journal verified: its file, or "postgres:<schema>".
	Journal string `json:"journal"`
	// OK is true when the chain verifies, with every head given.
	OK bool `json:"ok"`
	// Entries is the number of entries the chain covers (when OK).
	Entries uint64 `json:"entries,omitempty"`
	// Head is the chain's head, to export for a later verify (when OK).
	Head string `json:"head,omitempty"`
	// HeadsChecked is the number of exported heads checked to lie on the
	// chain.
	HeadsChecked int `json:"heads_checked"`
	// BrokenAt is the index (from 0) of the first entry that does not
	// verify, for a tampered journal.
	BrokenAt *uint64 `json:"broken_at,omitempty"`
	// Error says what is wrong (when not OK).
	Error string `json:"error,omitempty"`
}

// errChainBroken is verify's error when the journal does not verify: the
// report says why.
var errChainBroken = errors.New("verify: the journal does not verify")

func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: eradicate verify [-config eradicate.toml | -journal FILE -key FILE] [-head H]... [-heads FILE] [-json]

Verifies the action center's tamper-evident chain: every entry's HMAC
against the key (journal_key), and that each head exported earlier (the
"journal head" lines serve logs; -heads takes serve's log as it is, from
its last compaction on) lies on the chain, so that entries cut off the end
are found too. It reads the journal without locking it: serve may
run meanwhile. Exits non-zero when the chain is broken.

`)
		fs.PrintDefaults()
	}
	config := fs.String("config", "eradicate.toml", "the serve config: its journal (or [postgres]) and journal_key")
	file := fs.String("journal", "", "a journal file (a copy, say) instead of the config's")
	keyFile := fs.String("key", "", "the key file, with -journal")
	var heads listFlag
	fs.Var(&heads, "head", "a head exported earlier (repeatable)")
	headsFile := fs.String("heads", "", "a file of heads exported earlier, one a line (a log: other text on the line is skipped)")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("verify: unexpected argument %q", fs.Arg(0))
	}
	var hs []journal.Head
	for _, h := range heads {
		p, err := journal.ParseHead(h)
		if err != nil {
			return fmt.Errorf("verify: -head: %w", err)
		}
		hs = append(hs, p)
	}
	if *headsFile != "" {
		more, err := readHeads(*headsFile)
		if err != nil {
			return err
		}
		hs = append(hs, more...)
	}

	var rep verifyReport
	var head journal.Head
	var err error
	if *file != "" {
		if *keyFile == "" {
			return errors.New("verify: -journal needs -key")
		}
		key, kerr := journal.ReadKeyFile(*keyFile)
		if kerr != nil {
			return fmt.Errorf("verify: %w", kerr)
		}
		rep.Journal = *file
		head, err = journal.VerifyFile(ctx, *file, key, hs...)
	} else {
		cfg, cerr := readConfig(*config)
		if cerr != nil {
			return cerr
		}
		if cfg.JournalKey == "" {
			return fmt.Errorf("verify: %s has no journal_key: the journal is not sealed, there is nothing to verify", *config)
		}
		key, kerr := journal.ReadKeyFile(cfg.JournalKey)
		if kerr != nil {
			return fmt.Errorf("verify: journal_key: %w", kerr)
		}
		switch {
		case cfg.Postgres != nil:
			pc, perr := cfg.Postgres.poolConfig()
			if perr != nil {
				return perr
			}
			rep.Journal = "postgres:" + cmpOr(cfg.Postgres.Schema, pgjournal.DefaultSchema)
			head, err = verifyPostgres(ctx, pc, cfg.Postgres.Schema, key, hs)
		case cfg.Journal != "":
			rep.Journal = cfg.Journal
			head, err = journal.VerifyFile(ctx, cfg.Journal, key, hs...)
		default:
			return fmt.Errorf("verify: %s names no journal file and no [postgres]", *config)
		}
	}
	rep.HeadsChecked = len(hs)
	if err != nil {
		var te *journal.TamperError
		if !errors.As(err, &te) && !errors.Is(err, journal.ErrCorrupt) {
			return fmt.Errorf("verify: %w", err)
		}
		rep.Error = err.Error()
		if te != nil {
			n := te.Entry
			rep.BrokenAt = &n
		}
	} else {
		rep.OK, rep.Entries, rep.Head = true, head.Entries, head.String()
	}
	if *asJSON {
		if err := printJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "journal\t%s\n", rep.Journal)
		if rep.OK {
			fmt.Fprintf(tw, "chain\tok\nentries\t%d\nheads checked\t%d\nhead\t%s\n", rep.Entries, rep.HeadsChecked, rep.Head)
		} else {
			fmt.Fprintf(tw, "chain\tBROKEN\n")
			if rep.BrokenAt != nil {
				fmt.Fprintf(tw, "first bad entry\t%d\n", *rep.BrokenAt)
			}
			fmt.Fprintf(tw, "heads checked\t%d\nerror\t%s\n", rep.HeadsChecked, rep.Error)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if !rep.OK {
		return errChainBroken
	}
	return nil
}

func verifyPostgres(ctx context.Context, pc *pgxpool.Config, schema string, key *journal.Key, heads []journal.Head) (journal.Head, error) {
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return journal.Head{}, fmt.Errorf("postgres: %w", err)
	}
	defer pool.Close()
	j, err := pgjournal.OpenPool(ctx, pool, &pgjournal.Options{Schema: schema, Key: key})
	if err != nil {
		return journal.Head{}, fmt.Errorf("postgres: %w", err)
	}
	defer j.Close()
	return j.Verify(ctx, heads...)
}

// readHeads reads the heads in a file, one a line; lines without one are
// skipped, so that serve's log can be given as it is. A compaction starts
// the chain over: the heads before serve's last "journal compacted" line
// are left out (that line's head is the new chain's).
func readHeads(path string) ([]journal.Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	var hs []journal.Head
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), "eradicate-journal-head") {
			continue
		}
		if strings.Contains(sc.Text(), `msg="journal compacted"`) {
			hs = hs[:0]
		}
		// A structured log quotes the head.
		h, err := journal.ParseHead(strings.ReplaceAll(sc.Text(), `"`, " "))
		if err != nil {
			return nil, fmt.Errorf("verify: %s: %w", path, err)
		}
		hs = append(hs, h)
	}
	return hs, sc.Err()
}
