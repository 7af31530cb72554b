package pgjournal_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

// scenario is the mail and the three overlapping requests of the tests of
// engines that share one journal: message i is from evil.example when i
// is even, has "Invoice" in its subject when i is a multiple of 3, and is
// named by Message-ID when i is a multiple of 5. The first request
// soft-deletes mail from evil.example, the second hard-deletes invoices,
// the third soft-deletes the named messages.
type scenario struct {
	users []string
	msgs  int
}

func (s scenario) msgID(i int) string { return fmt.Sprintf("m%03d@campaign.example", i) }

func (s scenario) raw(i int) []byte {
	from, subject := "news@good.example", "Newsletter"
	if i%2 == 0 {
		from = "billing@evil.example"
	}
	if i%3 == 0 {
		subject = "Invoice overdue"
	}
	return fmt.Appendf(nil, "Message-ID: <%s>\r\nFrom: %s\r\nTo: undisclosed-recipients:;\r\nSubject: %s %d\r\n"+
		"Date: Mon, 07 Dec 2026 06:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nmessage %d\r\n",
		s.msgID(i), from, subject, i, i)
}

func (s scenario) requests() [3]remediation.Request {
	var named []string
	for i := 0; i < s.msgs; i += 5 {
		named = append(named, s.msgID(i))
	}
	req := func(a remediation.Action, c mailbox.Criteria) remediation.Request {
		return remediation.Request{Action: a, Actor: "soc", Confirm: true, Selection: remediation.Selection{Criteria: &c}}
	}
	return [3]remediation.Request{
		req(remediation.SoftDelete, mailbox.Criteria{SenderDomains: []string{"evil.example"}}),
		req(remediation.HardDelete, mailbox.Criteria{Subject: "Invoice"}),
		req(remediation.SoftDelete, mailbox.Criteria{MessageIDs: named}),
	}
}

// want says where message i ends up: "" (purged), or the role of the
// one folder holding it.
func (s scenario) want(i int) mailbox.Role {
	switch {
	case i%3 == 0:
		return ""
	case i%2 == 0 || i%5 == 0:
		return mailbox.RoleRecoverable
	}
	return mailbox.RoleInbox
}

// tenant returns a mock tenant of users mailboxes, each holding every
// message of s, and adds the users to s.
func (s *scenario) tenant(t *testing.T, users int) *mock.Tenant {
	t.Helper()
	tn := mock.New(nil)
	for i := range users {
		u := fmt.Sprintf("user%02d@corp.example", i)
		require.NoError(t, tn.AddUser(u))
		s.users = append(s.users, u)
	}
	for i := range s.msgs {
		_, err := tn.Deliver(context.Background(), s.raw(i), &mock.DeliverOptions{Recipients: s.users})
		require.NoError(t, err)
	}
	return tn
}

// engineOptions are the options of every engine of the tests: small
// batches and few workers, so that the actions overlap in time.
func engineOptions() *remediation.Options {
	return &remediation.Options{FourEyes: remediation.FourEyesOff, Workers: 3, BatchSize: 4}
}

// finishAll calls Resume on the engines until every record each shows is
// finished (an action of an engine that ended half-way is taken up once
// its leases expire), or fails after a minute.
func finishAll(t *testing.T, ctx context.Context, engines []*remediation.Engine, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.Resume(ctx); err != nil && !errors.Is(err, remediation.ErrBusy) {
					t.Errorf("Resume: %v", err)
				}
			}()
		}
		wg.Wait()
		done := true
		for _, e := range engines {
			n := 0
			for r, err := range e.Query(ctx, remediation.Filter{}) {
				require.NoError(t, err)
				n++
				if !r.Status.Final() || r.Incomplete {
					done = false
				}
			}
			if n != want {
				done = false
			}
		}
		if done {
			return
		}
		require.False(t, time.Now().After(deadline), "the actions did not finish within a minute")
		time.Sleep(200 * time.Millisecond)
	}
}

// requireConsistent checks the end state: every engine shows the same
// finished records; each record's counts are those of its outcomes; no
// copy has two outcomes in one action; every message is where the
// requests put it, once, and was acted on once.
func requireConsistent(t *testing.T, ctx context.Context, s scenario, engines []*remediation.Engine, copies func(user string) []mailbox.Message) {
	t.Helper()
	type summary struct {
		ID         string
		Action     remediation.Action
		Status     remediation.Status
		Incomplete bool
		Counts     remediation.Counts
	}
	var first []summary
	for k, e := range engines {
		var got []summary
		for r, err := range e.Query(ctx, remediation.Filter{}) {
			require.NoError(t, err)
			got = append(got, summary{r.ID, r.Action, r.Status, r.Incomplete, r.Counts})
		}
		sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
		if k == 0 {
			first = got
			continue
		}
		require.Equal(t, first, got, "engine %d shows the records as engine 0 does", k)
	}
	require.Len(t, first, 3)

	// succeeded[user][message-id] counts the copies moved or purged, by
	// soft deletes and by the hard delete.
	soft := map[string]map[string]int{}
	hard := map[string]map[string]int{}
	for _, sum := range first {
		require.Equal(t, remediation.StatusCompleted, sum.Status, "%+v", sum)
		var c remediation.Counts
		seen := map[mailbox.Address]bool{}
		for o, err := range engines[0].Outcomes(ctx, sum.ID) {
			require.NoError(t, err)
			require.False(t, o.Retry, "no copy failed, so none was retried")
			require.False(t, seen[o.Copy], "%s: the copy %s has two outcomes", sum.ID, o.Copy)
			seen[o.Copy] = true
			switch o.Kind {
			case remediation.Succeeded:
				c.Succeeded++
				m := soft
				if sum.Action == remediation.HardDelete {
					m = hard
				}
				if m[o.Copy.Mailbox] == nil {
					m[o.Copy.Mailbox] = map[string]int{}
				}
				m[o.Copy.Mailbox][o.MessageID]++
			case remediation.AlreadyInDestination:
				c.AlreadyInDestination++
			case remediation.NotFound:
				c.NotFound++
			case remediation.Failed:
				c.Failed++
			case remediation.Skipped:
				c.Skipped++
			}
		}
		require.Equal(t, sum.Counts, c, "%s: the record's counts are its outcomes'", sum.ID)
	}

	for _, u := range s.users {
		where := map[string][]mailbox.Message{}
		for _, m := range copies(u) {
			where[m.MessageID] = append(where[m.MessageID], m)
		}
		for i := range s.msgs {
			id := s.msgID(i)
			got := where[id]
			switch want := s.want(i); want {
			case "":
				require.Empty(t, got, "%s %s is purged", u, id)
				require.Equal(t, 1, hard[u][id], "%s %s: purged once", u, id)
			default:
				require.Len(t, got, 1, "%s %s: one copy, no duplicate", u, id)
				require.Equal(t, want, got[0].Role, "%s %s is in %s", u, id, want)
				n := 0
				if want == mailbox.RoleRecoverable {
					n = 1
				}
				require.Equal(t, n, soft[u][id], "%s %s: soft-deleted %d times", u, id, n)
			}
		}
	}
}

// crashJournal is a journal of an engine that dies: after the first
// crashAfter appends, every call blocks until unblock is closed (and then
// fails), its leases are no longer renewed, and none is released, as
// when the process is killed.
type crashJournal struct {
	*pgjournal.Journal
	crashAfter int

	mu      sync.Mutex
	appends int
	crashed chan struct{} // closed at the crash
	unblock chan struct{}
	once    sync.Once
}

// stop lets the calls blocked since the crash return.
func (c *crashJournal) stop() { c.once.Do(func() { close(c.unblock) }) }

var errCrashed = errors.New("the engine's process was killed")

func newCrashJournal(j *pgjournal.Journal, after int) *crashJournal {
	return &crashJournal{Journal: j, crashAfter: after, crashed: make(chan struct{}), unblock: make(chan struct{})}
}

// dead blocks a call made after the crash until the test ends.
func (c *crashJournal) dead() bool {
	select {
	case <-c.crashed:
		<-c.unblock
		return true
	default:
		return false
	}
}

func (c *crashJournal) Append(ctx context.Context, entries ...remediation.Entry) error {
	if c.dead() {
		return errCrashed
	}
	err := c.Journal.Append(ctx, entries...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.appends++; c.appends == c.crashAfter {
		close(c.crashed)
		go c.Journal.Close() // stops renewing the leases, releases none
	}
	return err
}

func (c *crashJournal) TryAcquire(ctx context.Context, keys ...string) ([]string, error) {
	if c.dead() {
		return nil, errCrashed
	}
	return c.Journal.TryAcquire(ctx, keys...)
}

func (c *crashJournal) Release(ctx context.Context, keys ...string) error {
	if c.dead() {
		return errCrashed
	}
	return c.Journal.Release(ctx, keys...)
}

func (c *crashJournal) Follow(ctx context.Context, mark string, fn func(remediation.Entry) error) (string, bool, error) {
	if c.dead() {
		return "", false, errCrashed
	}
	return c.Journal.Follow(ctx, mark, fn)
}

// Three engines in this process share the mock tenant and one PostgreSQL
// journal; they run the scenario's overlapping requests at once, and the
// one running the hard delete dies half-way. The others finish its action
// once its leases expire.
func TestEnginesShareMock(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	ctx := context.Background()
	s := scenario{msgs: 30}
	tn := s.tenant(t, 12)
	tn.SetLatency(time.Millisecond) // the actions overlap

	const leaseTimeout = 1500 * time.Millisecond
	open := func(holder string) *pgjournal.Journal {
		j, err := pgjournal.Open(ctx, url, &pgjournal.Options{Key: testKey(t), Holder: holder, LeaseTimeout: leaseTimeout})
		require.NoError(t, err)
		t.Cleanup(func() { j.Close() })
		return j
	}
	victim := newCrashJournal(open("engine-2"), 8)
	t.Cleanup(victim.stop)
	journals := []remediation.Journal{open("engine-1"), victim, open("engine-3")}
	var engines []*remediation.Engine
	for _, j := range journals {
		e, err := remediation.New(tn, nil, j, engineOptions())
		require.NoError(t, err)
		engines = append(engines, e)
	}

	reqs := s.requests()
	var wg sync.WaitGroup
	for k, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Execute(ctx, reqs[k])
			if k != 1 && err != nil { // the victim fails when unblocked
				t.Errorf("engine %d: %v", k, err)
			}
		}()
	}
	select {
	case <-victim.crashed:
	case <-time.After(time.Minute):
		t.Fatal("the victim engine never reached its crash point")
	}
	survivors := []*remediation.Engine{engines[0], engines[2]}
	// The victim's action is unfinished, half-way: the survivors see it
	// running, with some of its copies done.
	var hardID string
	for r, err := range engines[0].Query(ctx, remediation.Filter{}) {
		require.NoError(t, err)
		if r.Action == remediation.HardDelete {
			hardID = r.ID
			require.Equal(t, remediation.StatusRunning, r.Status)
			t.Logf("the victim died with %d copies of %s done", r.Counts.Succeeded+r.Counts.NotFound, r.ID)
		}
	}
	require.NotEmpty(t, hardID, "the victim's record reached the journal")
	finishAll(t, ctx, survivors, 3)

	// A fresh engine on the journal sees what the survivors see.
	late, err := remediation.New(tn, nil, open("engine-4"), engineOptions())
	require.NoError(t, err)
	requireConsistent(t, ctx, s, append(survivors, late), func(u string) []mailbox.Message {
		ms, err := tn.Copies(u)
		require.NoError(t, err)
		return ms
	})
	victim.stop()
	wg.Wait()
}
