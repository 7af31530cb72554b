package pgjournal_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

// processEnv carries the configuration of an engine process (JSON) from
// TestEnginesShareDovecot to TestEngineProcess.
const processEnv = "PGJOURNAL_TEST_ENGINE_PROCESS"

// processConfig configures one engine process.
type processConfig struct {
	URL            string
	Key            string // hex
	Holder         string
	LeaseTimeout   time.Duration
	Addr           string
	MasterUser     string
	MasterPassword string
	Users          []string
	Request        remediation.Request
	Records        int // the records to wait for before exiting
}

// recordSummary is what every engine must agree on about a record.
type recordSummary struct {
	ID         string
	Action     remediation.Action
	Status     remediation.Status
	Incomplete bool
	Counts     remediation.Counts
}

func summarize(t *testing.T, ctx context.Context, e *remediation.Engine) []recordSummary {
	t.Helper()
	var out []recordSummary
	for r, err := range e.Query(ctx, remediation.Filter{}) {
		require.NoError(t, err)
		out = append(out, recordSummary{r.ID, r.Action, r.Status, r.Incomplete, r.Counts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func dovecotStore(t *testing.T, addr, master, password string, users []string) *imapstore.Store {
	t.Helper()
	s, err := imapstore.New(imapstore.Config{
		Addr:      addr,
		Security:  imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: master, Password: imapstore.Password(password)},
		Mailboxes: users,
		Logger:    slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestEngineProcess is one engine process of TestEnginesShareDovecot: it
// runs its request, then resumes what the journal shows unfinished until
// every record is finished, printing its progress and, at the end, the
// records as it sees them, on lines starting with "engine: ".
func TestEngineProcess(t *testing.T) {
	raw := os.Getenv(processEnv)
	if raw == "" {
		t.Skip("an engine process of TestEnginesShareDovecot, run by it")
	}
	var cfg processConfig
	require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
	ctx := context.Background()
	secret, err := hex.DecodeString(cfg.Key)
	require.NoError(t, err)
	key, err := journal.NewKey(secret)
	require.NoError(t, err)
	j, err := pgjournal.Open(ctx, cfg.URL, &pgjournal.Options{Key: key, Holder: cfg.Holder, LeaseTimeout: cfg.LeaseTimeout})
	require.NoError(t, err)
	defer j.Close()
	store := dovecotStore(t, cfg.Addr, cfg.MasterUser, cfg.MasterPassword, cfg.Users)
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, "engine: "+format+"\n", args...)
	}
	opts := engineOptions()
	opts.Progress = func(p remediation.Progress) { say("progress %d", p.Done) }
	e, err := remediation.New(store, nil, j, opts)
	require.NoError(t, err)
	say("started")
	rec, err := e.Execute(ctx, cfg.Request)
	require.NoError(t, err)
	say("executed %s %s", rec.ID, rec.Status)
	finishAll(t, ctx, []*remediation.Engine{e}, cfg.Records)
	b, err := json.Marshal(summarize(t, ctx, e))
	require.NoError(t, err)
	say("records %s", b)
}

// Three engine processes share one Dovecot and one PostgreSQL journal;
// they run the scenario's overlapping requests at once, and the one
// running the hard delete is killed (SIGKILL) half-way. The others finish
// its action once its leases expire: every copy is acted on once, no
// message is left twice in any mailbox, and every engine shows the same
// records.
func TestEnginesShareDovecot(t *testing.T) {
	if os.Getenv(processEnv) != "" {
		t.Skip("in an engine process")
	}
	ctx := context.Background()
	s := scenario{msgs: 30}
	users := map[string]string{}
	for i := range 6 {
		u := fmt.Sprintf("user%02d", i)
		users[u] = "pw-" + u
		s.users = append(s.users, u)
	}
	dv := dovecot.Start(t, &dovecot.Options{Users: users})
	var raws [][]byte
	for i := range s.msgs {
		raws = append(raws, s.raw(i))
	}
	for _, u := range s.users {
		require.NoError(t, dv.WriteMaildir(u, "INBOX", raws))
	}
	pg := postgres.Start(t, nil)
	url := pg.CreateDatabase(t)
	keyHex := hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

	reqs := s.requests()
	type proc struct {
		cmd     *exec.Cmd
		records chan string
		done    chan error
	}
	const victim = 1
	progress := make(chan int, 1024)
	var procs []*proc
	for k := range reqs {
		cfg := processConfig{
			URL: url, Key: keyHex, Holder: fmt.Sprintf("engine-%d", k+1), LeaseTimeout: 2 * time.Second,
			Addr: dv.Addr, MasterUser: dv.MasterUser, MasterPassword: dv.MasterPassword, Users: s.users,
			Request: reqs[k], Records: len(reqs),
		}
		b, err := json.Marshal(cfg)
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^TestEngineProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), processEnv+"="+string(b))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = cmd.Stdout
		p := &proc{cmd: cmd, records: make(chan string, 1), done: make(chan error, 1)}
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		go func() {
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				rest, ok := strings.CutPrefix(line, "engine: ")
				if !ok {
					t.Logf("engine %d: %s", k+1, line)
					continue
				}
				switch {
				case strings.HasPrefix(rest, "progress "):
					if k == victim {
						if n, err := strconv.Atoi(strings.TrimPrefix(rest, "progress ")); err == nil {
							select {
							case progress <- n:
							default:
							}
						}
					}
				case strings.HasPrefix(rest, "records "):
					p.records <- strings.TrimPrefix(rest, "records ")
				default:
					t.Logf("engine %d: %s", k+1, rest)
				}
			}
			p.done <- cmd.Wait()
		}()
		procs = append(procs, p)
	}

	// Kill the victim once its action is under way.
	deadline := time.After(2 * time.Minute)
wait:
	for {
		select {
		case n := <-progress:
			if n >= 8 {
				require.NoError(t, procs[victim].cmd.Process.Kill())
				t.Logf("engine %d killed after %d copies", victim+1, n)
				break wait
			}
		case err := <-procs[victim].done:
			t.Fatalf("the victim ended before it was killed: %v", err)
		case <-deadline:
			t.Fatal("the victim made no progress")
		}
	}
	require.Error(t, <-procs[victim].done, "killed")

	var views []string
	for k, p := range procs {
		if k == victim {
			continue
		}
		select {
		case err := <-p.done:
			require.NoError(t, err, "engine %d", k+1)
		case <-time.After(3 * time.Minute):
			t.Fatalf("engine %d did not finish", k+1)
		}
		select {
		case v := <-p.records:
			views = append(views, v)
		default:
			t.Fatalf("engine %d printed no records", k+1)
		}
	}

	// This process's engine, on the same journal and Dovecot, agrees with
	// the survivors and checks the end state.
	secret, _ := hex.DecodeString(keyHex)
	key, err := journal.NewKey(secret)
	require.NoError(t, err)
	j, err := pgjournal.Open(ctx, url, &pgjournal.Options{Key: key, Holder: "checker"})
	require.NoError(t, err)
	defer j.Close()
	h, err := j.Verify(ctx)
	require.NoError(t, err, "the chain the three engines wrote verifies")
	t.Logf("journal head: %s", h)
	store := dovecotStore(t, dv.Addr, dv.MasterUser, dv.MasterPassword, s.users)
	e, err := remediation.New(store, nil, j, engineOptions())
	require.NoError(t, err)
	mine, err := json.Marshal(summarize(t, ctx, e))
	require.NoError(t, err)
	for k, v := range views {
		require.JSONEq(t, string(mine), v, "survivor %d shows the records as a fresh engine does", k)
	}
	var ids []string
	for i := range s.msgs {
		ids = append(ids, s.msgID(i))
	}
	requireConsistent(t, ctx, s, []*remediation.Engine{e}, func(u string) []mailbox.Message {
		var out []mailbox.Message
		for m, err := range store.Search(ctx, u, mailbox.Criteria{MessageIDs: ids}) {
			require.NoError(t, err)
			out = append(out, m)
		}
		return out
	})
}
