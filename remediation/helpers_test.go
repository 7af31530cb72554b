package remediation_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// msg builds a small message.
func msg(id, from, subject string, to ...string) []byte {
	return []byte("Message-ID: <" + id + ">\r\n" +
		"From: " + from + "\r\n" +
		"To: " + strings.Join(to, ", ") + "\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Hello, please see http://evil.example/login\r\n")
}

// invite builds a message carrying a meeting invite.
func invite(id, from, uid string, to ...string) []byte {
	var att strings.Builder
	for _, t := range to {
		att.WriteString("ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:" + t + "\r\n")
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nSEQUENCE:0\r\nDTSTAMP:20261123T090000Z\r\n" +
		"DTSTART:20261130T100000Z\r\nDTEND:20261130T110000Z\r\nSUMMARY:Payroll update\r\n" +
		"ORGANIZER:mailto:" + from + "\r\n" + att.String() +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	return []byte("Message-ID: <" + id + ">\r\n" +
		"From: " + from + "\r\n" +
		"To: " + strings.Join(to, ", ") + "\r\n" +
		"Subject: Invitation: Payroll update\r\n" +
		"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n" +
		"\r\n" + ics)
}

type fixture struct {
	t      *testing.T
	tenant *mock.Tenant
	users  []string
}

func newFixture(t *testing.T, users ...string) *fixture {
	t.Helper()
	tn := mock.New(nil)
	for _, u := range users {
		require.NoError(t, tn.AddUser(u))
	}
	return &fixture{t: t, tenant: tn, users: users}
}

func (f *fixture) deliver(raw []byte, role mailbox.Role, rcpts ...string) []mailbox.Address {
	f.t.Helper()
	addrs, err := f.tenant.Deliver(context.Background(), raw, &mock.DeliverOptions{Recipients: rcpts, Role: role})
	require.NoError(f.t, err)
	return addrs
}

func (f *fixture) engine(j remediation.Journal, opts *remediation.Options) *remediation.Engine {
	f.t.Helper()
	if j == nil {
		j = journal.NewMemory()
	}
	if opts == nil {
		opts = &remediation.Options{}
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(f.t)
	}
	e, err := remediation.New(f.tenant, f.tenant, j, opts)
	require.NoError(f.t, err)
	return e
}

// where returns, for a message id, "mailbox:folder" of every copy, sorted.
func (f *fixture) where(id string) []string {
	f.t.Helper()
	return where(f.t, f.tenant, id)
}

func where(t testing.TB, st mailbox.Store, id string) []string {
	t.Helper()
	ctx := context.Background()
	mbs, err := st.Mailboxes(ctx)
	require.NoError(t, err)
	var out []string
	for _, mb := range mbs {
		for m, err := range st.Search(ctx, mb, mailbox.Criteria{MessageIDs: []string{id}}) {
			require.NoError(t, err)
			out = append(out, mb+":"+m.Address.Folder)
		}
	}
	slices.Sort(out)
	return out
}

func outcomes(t testing.TB, e *remediation.Engine, id string) []remediation.Outcome {
	t.Helper()
	var out []remediation.Outcome
	for o, err := range e.Outcomes(context.Background(), id) {
		require.NoError(t, err)
		out = append(out, o)
	}
	return out
}

func kinds(os []remediation.Outcome) map[string]int {
	m := map[string]int{}
	for _, o := range os {
		m[o.Kind.String()]++
	}
	return m
}

func testLogger(t testing.TB) *slog.Logger { return testlog.Logger(t, slog.LevelDebug) }

// clock is a settable time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d@evil.example", prefix, i)
	}
	return out
}

// failingJournal is a memory journal that refuses every write from the
// first Append carrying an entry fail accepts, as a process killed, or a
// disk filled, at that moment.
type failingJournal struct {
	*journal.Memory
	fail func(remediation.Entry) bool
	mu   sync.Mutex
	dead bool
}

func (j *failingJournal) Append(ctx context.Context, es ...remediation.Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.dead {
		return errors.New("journal unavailable")
	}
	for _, e := range es {
		if j.fail(e) {
			j.dead = true
			return errors.New("journal unavailable")
		}
	}
	return j.Memory.Append(ctx, es...)
}
