package remediation_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/diskstore"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

const (
	crashEnvDir    = "ERADICATE_CRASH_DIR"
	crashEnvAction = "ERADICATE_CRASH_ACTION"
	crashEnvAfter  = "ERADICATE_CRASH_AFTER"
	crashEnvStart  = "ERADICATE_CRASH_START" // "1": Start the action, then Wait
	crashUsers     = 12
	crashPerUser   = 10
)

func crashUser(i int) string { return fmt.Sprintf("crash%02d@corp.example", i) }

func crashRequest(a remediation.Action) remediation.Request {
	return remediation.Request{Action: a, Actor: "soc", Confirm: true,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}}}
}

func crashOptions() *remediation.Options {
	return &remediation.Options{BatchSize: 3, Workers: 4}
}

// TestCrashChild is the child process of TestCrashResume; it does nothing
// unless started by it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashResume")
	}
	after, _ := strconv.Atoi(os.Getenv(crashEnvAfter))
	st, err := diskstore.Open(filepath.Join(dir, "mail"))
	require.NoError(t, err)
	j, err := journal.OpenFile(filepath.Join(dir, "journal"), nil)
	require.NoError(t, err)
	opts := crashOptions()
	opts.Progress = func(p remediation.Progress) {
		if p.Done >= int64(after) {
			fmt.Printf("CRASHPOINT %d\n", p.Done)
			os.Stdout.Sync()
			time.Sleep(time.Hour) // the parent kills us here
		}
	}
	e, err := remediation.New(st, nil, j, opts)
	require.NoError(t, err)
	req := crashRequest(remediation.Action(os.Getenv(crashEnvAction)))
	if os.Getenv(crashEnvStart) == "1" {
		rec, err := e.Start(context.Background(), req)
		require.NoError(t, err)
		fmt.Printf("STARTED %s\n", rec.ID)
		_, err = e.Wait(context.Background(), rec.ID)
		fmt.Printf("FINISHED %v\n", err)
		return
	}
	_, err = e.Execute(context.Background(), req)
	fmt.Printf("FINISHED %v\n", err)
}

// TestCrashResume runs an action in a child process with the file journal
// and an on-disk store, SIGKILLs the child in the middle of the action,
// then resumes in this process and checks that nothing was lost and
// nothing was acted on twice. One case begins the action with Start.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := context.Background()
	type crashCase struct {
		action remediation.Action
		after  int
		start  bool
	}
	var cases []crashCase
	for _, action := range []remediation.Action{remediation.SoftDelete, remediation.HardDelete} {
		for _, after := range []int{1, 40, 100} {
			cases = append(cases, crashCase{action, after, false})
		}
	}
	cases = append(cases, crashCase{remediation.SoftDelete, 40, true})
	for _, cc := range cases {
		action, after := cc.action, cc.after
		name := fmt.Sprintf("%s/after=%d", action, after)
		if cc.start {
			name += "/start"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := diskstore.Open(filepath.Join(dir, "mail"))
			require.NoError(t, err)
			for i := range crashUsers {
				u := crashUser(i)
				require.NoError(t, st.AddUser(u))
				for k := range crashPerUser {
					_, err := st.Append(ctx, u, mailbox.In(mailbox.RoleInbox), msg(fmt.Sprintf("c%d@evil.example", k), "billing@evil.example", "Invoice", u), nil)
					require.NoError(t, err)
				}
				// A message that must stay.
				_, err := st.Append(ctx, u, mailbox.In(mailbox.RoleInbox), msg("keep@good.example", "friend@good.example", "Lunch", u), nil)
				require.NoError(t, err)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvAction+"="+string(action), crashEnvAfter+"="+strconv.Itoa(after))
			if cc.start {
				cmd.Env = append(cmd.Env, crashEnvStart+"=1")
			}
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = testlog.New(t)
			require.NoError(t, cmd.Start())
			killed := false
			started := ""
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if id, ok := strings.CutPrefix(line, "STARTED "); ok {
					started = id
				}
				if strings.HasPrefix(line, "CRASHPOINT") {
					t.Logf("child reached %s; killing it", line)
					require.NoError(t, cmd.Process.Kill()) // SIGKILL
					killed = true
					break
				}
				if strings.HasPrefix(line, "FINISHED") {
					break
				}
			}
			_ = cmd.Wait()
			require.True(t, killed, "the child finished before the crash point")

			// Restart.
			j, err := journal.OpenFile(filepath.Join(dir, "journal"), nil)
			require.NoError(t, err)
			defer j.Close()
			e, err := remediation.New(st, nil, j, crashOptions())
			require.NoError(t, err)
			var id string
			for r, err := range e.Query(ctx, remediation.Filter{}) {
				require.NoError(t, err)
				id = r.ID
				assert.Equal(t, remediation.StatusRunning, r.Status, "the journal shows the action unfinished")
			}
			require.NotEmpty(t, id)
			if cc.start {
				assert.Equal(t, started, id, "the id Start returned is the action's")
			}
			recs, err := e.Resume(ctx)
			require.NoError(t, err)
			require.Len(t, recs, 1)
			rec := recs[0]
			assert.Equal(t, remediation.StatusCompleted, rec.Status, rec.Error)
			total := int64(crashUsers * crashPerUser)
			assert.Equal(t, remediation.Counts{Succeeded: total}, rec.Counts)

			// Every copy has exactly one outcome, and it is true.
			seen := map[string]bool{}
			for o, err := range e.Outcomes(ctx, id) {
				require.NoError(t, err)
				key := o.Copy.Mailbox + "|" + o.MessageID
				assert.False(t, seen[key], "two outcomes for %s", key)
				seen[key] = true
				assert.Equal(t, remediation.Succeeded, o.Kind, key)
				if action == remediation.SoftDelete {
					raw, err := st.Fetch(ctx, o.To)
					require.NoError(t, err, "the recorded new address holds the copy")
					assert.Contains(t, string(raw), "<"+o.MessageID+">")
				}
			}
			assert.Len(t, seen, int(total))

			// Nothing lost, nothing twice.
			lost := 0
			defer func() { assert.LessOrEqual(t, lost, 1, "UIDs handed out beyond one per copy") }()
			for i := range crashUsers {
				u := crashUser(i)
				for k := range crashPerUser {
					id := fmt.Sprintf("c%d@evil.example", k)
					var got []string
					for m, err := range st.Search(ctx, u, mailbox.Criteria{MessageIDs: []string{id}}) {
						require.NoError(t, err)
						got = append(got, m.Address.Folder)
					}
					if action == remediation.SoftDelete {
						assert.Equal(t, []string{"Recoverable Items"}, got, "%s %s", u, id)
					} else {
						assert.Empty(t, got, "%s %s", u, id)
					}
				}
				var keep []string
				for m, err := range st.Search(ctx, u, mailbox.Criteria{MessageIDs: []string{"keep@good.example"}}) {
					require.NoError(t, err)
					keep = append(keep, m.Address.Folder)
				}
				assert.Equal(t, []string{"INBOX"}, keep)
				if action == remediation.SoftDelete {
					// Each copy entered the folder once: the UID counter
					// moved by the number of copies, plus at most one
					// UID the kill took between handing it out and the
					// rename (the store works under one lock).
					next, err := os.ReadFile(filepath.Join(dir, "mail", u, "Recoverable%20Items", "next"))
					require.NoError(t, err)
					n, err := strconv.Atoi(strings.TrimSpace(string(next)))
					require.NoError(t, err)
					lost += n - 1 - crashPerUser
				}
			}
		})
	}
}
