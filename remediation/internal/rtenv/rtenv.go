// Package rtenv is the test environment shared by the tests of the
// detection rules and of automation: a mock tenant with four users, a
// phishing campaign and a benign message to deliver to them, and an
// engine over it with a settable clock.
package rtenv

import (
	"context"
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

// Logger returns a logger writing to t's log at debug level.
func Logger(t testing.TB) *slog.Logger { return testlog.Logger(t, slog.LevelDebug) }

// Users returns the mailboxes of the test tenant.
func Users() []string {
	return []string{"ann@corp.example", "ben@corp.example", "cat@corp.example", "dan@corp.example"}
}

// invoice is the malicious attachment of the test campaigns.
const invoice = "<html><body><h1>Invoice 2291</h1><p>Open to view your payment details.</p>" +
	"<script>location='http://pay.evil.example/login'</script></body></html>"

// Phish returns a campaign message: a link and an HTML "invoice"
// attached.
func Phish(id string, to ...string) []byte {
	return []byte("Message-ID: <" + id + ">\r\n" +
		"From: billing@evil.example\r\n" +
		"To: " + strings.Join(to, ", ") + "\r\n" +
		"Subject: Invoice overdue\r\n" +
		"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Your invoice is attached. Pay at http://pay.evil.example/login\r\n" +
		"--b\r\nContent-Type: text/html; name=\"invoice.html\"\r\nContent-Disposition: attachment; filename=\"invoice.html\"\r\n\r\n" +
		invoice + "\r\n--b--\r\n")
}

// Benign returns an ordinary message.
func Benign(id string, to ...string) []byte {
	return []byte("Message-ID: <" + id + ">\r\n" +
		"From: colleague@corp.example\r\n" +
		"To: " + strings.Join(to, ", ") + "\r\n" +
		"Subject: Lunch on Friday\r\n" +
		"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Shall we meet at noon? Menu: https://canteen.corp.example/menu\r\n")
}

// AttachmentSHA returns the SHA-256 of the campaign's attachment as
// the parser computes it.
func AttachmentSHA(t testing.TB) string {
	t.Helper()
	p, err := mailbox.Parse(Phish("x@evil.example", Users()[0]))
	require.NoError(t, err)
	require.Len(t, p.Attachments, 1)
	return p.Attachments[0].SHA256
}

// Clock is a settable, goroutine-safe time source.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Env is a tenant with the test users and an engine over it.
type Env struct {
	// T is the test the Env belongs to.
	T *testing.T
	// Tenant holds the users' mailboxes and calendars.
	Tenant *mock.Tenant
	// Engine acts on Tenant, with Clock as its clock.
	Engine *remediation.Engine
	// Clock is the engine's clock.
	Clock *Clock
}

// New returns an Env with the users of [Users], an engine over a memory
// journal with a test logger and a Clock set to 2026-11-23 12:00 UTC.
// opts may be nil.
func New(t *testing.T, opts *remediation.Options) *Env {
	t.Helper()
	tn := mock.New(nil)
	for _, u := range Users() {
		require.NoError(t, tn.AddUser(u))
	}
	clk := &Clock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	if opts == nil {
		opts = &remediation.Options{}
	}
	opts.Logger = Logger(t)
	opts.Now = clk.Now
	e, err := remediation.New(tn, tn, journal.NewMemory(), opts)
	require.NoError(t, err)
	return &Env{T: t, Tenant: tn, Engine: e, Clock: clk}
}

// Deliver delivers raw to the tenant.
func (v *Env) Deliver(raw []byte, opts *mock.DeliverOptions) []mailbox.Address {
	v.T.Helper()
	addrs, err := v.Tenant.Deliver(context.Background(), raw, opts)
	require.NoError(v.T, err)
	return addrs
}

// Folders returns "mailbox:folder" of every copy of the message id,
// sorted.
func (v *Env) Folders(id string) []string {
	v.T.Helper()
	var out []string
	for _, mb := range Users() {
		for m, err := range v.Tenant.Search(context.Background(), mb, mailbox.Criteria{MessageIDs: []string{id}}) {
			require.NoError(v.T, err)
			out = append(out, mb+":"+m.Address.Folder)
		}
	}
	slices.Sort(out)
	return out
}

// In returns "mailbox:folder" for each of the users in folder.
func In(folder string, users ...string) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u + ":" + folder
	}
	slices.Sort(out)
	return out
}

// Records returns the records of source, oldest first.
func (v *Env) Records(src remediation.Source) []*remediation.Record {
	v.T.Helper()
	var out []*remediation.Record
	for r, err := range v.Engine.Query(context.Background(), remediation.Filter{Sources: []remediation.Source{src}}) {
		require.NoError(v.T, err)
		out = append(out, r)
	}
	return out
}
