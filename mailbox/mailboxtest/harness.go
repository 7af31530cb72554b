package mailboxtest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/conformance"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Harness is what a backend hands the suite for one case.
type Harness struct {
	// Store is the backend under test.
	Store mailbox.Store
	// Owners are at least three owners of mailboxes that exist in Store
	// and hold no messages.
	Owners []string

	// Seed stores raw as a new copy at loc in owner's mailbox and returns
	// its address. nil means Store.Append with nil options. A backend
	// whose messages must arrive another way overrides it.
	Seed func(ctx context.Context, owner string, loc mailbox.Location, raw []byte) (mailbox.Address, error)
	// ChangeUIDValidity makes the UIDVALIDITY of folder in owner's mailbox
	// change while its messages stay. nil skips the cases that need it.
	ChangeUIDValidity func(t *testing.T, owner, folder string)
	// CreateFolder creates an ordinary folder (no role) in owner's
	// mailbox. nil skips the parts of cases that need it.
	CreateFolder func(t *testing.T, owner, name string)

	// Concurrency is the number of goroutines of the concurrency case;
	// 0 means 8.
	Concurrency int
	// BatchSize is the number of copies of the large-batch case; 0 means
	// 500.
	BatchSize int
	// Skip names cases the backend cannot pass, by "Group/Case" (for
	// example "Move/RepeatedAddress"), with the reason; each is skipped
	// with its reason in the test log. Prefer a hook or a fix to a skip.
	Skip map[string]string
}

// Run runs the conformance suite against the store newHarness returns. It
// calls newHarness once per case, with the case's *testing.T.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	conformance.Run(t, groups(), newHarness, newEnv, func(h *Harness) map[string]string { return h.Skip })
}

// env is one case's view of the harness, with helpers.
type env struct {
	*Harness
	ctx context.Context
	// tag is unique to the case; it is in every subject and Message-ID.
	tag string
	n   int
}

// newEnv checks h and returns the case's view of it.
func newEnv(t *testing.T, h *Harness) *env {
	require.NotNil(t, h.Store, "the harness has no store")
	require.GreaterOrEqual(t, len(h.Owners), 3, "the harness needs at least three owners")
	return &env{Harness: h, ctx: t.Context(), tag: fmt.Sprintf("mbt%08x", rand.Uint32())}
}

// msg describes a test message.
type msg struct {
	key        string // part of the Message-ID; unique within the case
	from       string // header From, e.g. "Alice <alice@example.com>"
	returnPath string // P1 sender, "" for none
	to, cc     []string
	subject    string // the tag is prepended
	date       time.Time
	body       string
	attName    string // "" for no attachment
	attData    []byte
}

// id returns the Message-ID of m in e, without angle brackets.
func (e *env) id(key string) string {
	return key + "." + e.tag + "@mailboxtest.example"
}

// raw builds the RFC 5322 form of m, with CRLF line endings.
func (e *env) raw(m msg) []byte {
	if m.key == "" {
		e.n++
		m.key = fmt.Sprintf("m%d", e.n)
	}
	if m.from == "" {
		m.from = "Sender <sender@example.org>"
	}
	if len(m.to) == 0 {
		m.to = []string{e.Owners[0]}
	}
	if m.date.IsZero() {
		m.date = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	}
	if m.subject == "" {
		m.subject = "message " + m.key
	}
	if m.body == "" {
		m.body = "Hello,\r\nthis is message " + m.key + ".\r\n"
	}
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	if m.returnPath != "" {
		h("Return-Path", "<"+m.returnPath+">")
	}
	h("From", m.from)
	h("To", strings.Join(m.to, ", "))
	if len(m.cc) > 0 {
		h("Cc", strings.Join(m.cc, ", "))
	}
	h("Subject", "["+e.tag+"] "+m.subject)
	h("Date", m.date.Format(time.RFC1123Z))
	h("Message-ID", "<"+e.id(m.key)+">")
	h("MIME-Version", "1.0")
	if m.attName == "" {
		h("Content-Type", "text/plain; charset=utf-8")
		b.WriteString("\r\n" + m.body)
		return []byte(b.String())
	}
	boundary := "b-" + e.tag
	h("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n" + m.body)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: application/octet-stream\r\n")
	b.WriteString(`Content-Disposition: attachment; filename="` + m.attName + "\"\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(m.attData)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--" + boundary + "--\r\n")
	return []byte(b.String())
}

// seed stores m at loc in owner's mailbox and checks the address.
func (e *env) seed(t *testing.T, owner string, loc mailbox.Location, m msg) (mailbox.Address, []byte) {
	t.Helper()
	raw := e.raw(m)
	return e.seedRaw(t, owner, loc, raw), raw
}

func (e *env) seedRaw(t *testing.T, owner string, loc mailbox.Location, raw []byte) mailbox.Address {
	t.Helper()
	var a mailbox.Address
	var err error
	if e.Seed != nil {
		a, err = e.Seed(e.ctx, owner, loc, raw)
	} else {
		a, err = e.Store.Append(e.ctx, owner, loc, raw, nil)
	}
	require.NoError(t, err, "seeding %s of %s", loc, owner)
	require.True(t, strings.EqualFold(a.Mailbox, owner), "address %s is not in mailbox %s", a, owner)
	require.NotEmpty(t, a.Folder, "address %s has no folder", a)
	require.NotZero(t, a.UIDValidity, "address %s has no UIDVALIDITY", a)
	require.NotZero(t, a.UID, "address %s has no UID", a)
	return a
}

// seedN stores n plain messages at loc and returns their addresses.
func (e *env) seedN(t *testing.T, owner string, loc mailbox.Location, n int) []mailbox.Address {
	t.Helper()
	out := make([]mailbox.Address, n)
	for i := range out {
		out[i], _ = e.seed(t, owner, loc, msg{})
	}
	return out
}

// search collects the results of a search that must succeed.
func (e *env) search(t *testing.T, owner string, c mailbox.Criteria) []mailbox.Message {
	t.Helper()
	var out []mailbox.Message
	for m, err := range e.Store.Search(e.ctx, owner, c) {
		require.NoError(t, err, "search %+v", c)
		out = append(out, m)
	}
	return out
}

// searchErr returns the error of a search that must fail at once.
func (e *env) searchErr(t *testing.T, ctx context.Context, owner string, c mailbox.Criteria) error {
	t.Helper()
	var errs []error
	hits := 0
	for _, err := range e.Store.Search(ctx, owner, c) {
		if err != nil {
			errs = append(errs, err)
		} else {
			hits++
		}
	}
	require.Zero(t, hits, "a refused search yielded messages")
	require.Len(t, errs, 1, "a refused search must yield exactly one error")
	return errs[0]
}

// all is a criteria that matches every message of the case.
func (e *env) all() mailbox.Criteria {
	return mailbox.Criteria{Subject: e.tag}
}

// keys returns the sorted keys (Message-ID prefixes) of msgs.
func (e *env) keys(msgs []mailbox.Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		id := mailbox.NormalizeMessageID(m.MessageID)
		suffix := "." + strings.ToLower(e.tag) + "@mailboxtest.example"
		out = append(out, strings.TrimSuffix(id, suffix))
	}
	slices.Sort(out)
	return out
}

// addrs returns the addresses of msgs.
func addrs(msgs []mailbox.Message) []mailbox.Address {
	out := make([]mailbox.Address, len(msgs))
	for i, m := range msgs {
		out[i] = m.Address
	}
	return out
}

// requireFetch checks that addr holds exactly raw.
func (e *env) requireFetch(t *testing.T, addr mailbox.Address, raw []byte) {
	t.Helper()
	got, err := e.Store.Fetch(e.ctx, addr)
	require.NoError(t, err, "fetch %s", addr)
	require.Equal(t, string(raw), string(got), "fetch %s", addr)
}

// requireGone checks that addr names no copy.
func (e *env) requireGone(t *testing.T, addr mailbox.Address) {
	t.Helper()
	_, err := e.Store.Fetch(e.ctx, addr)
	require.ErrorIs(t, err, mailbox.ErrNotFound, "fetch %s", addr)
}

// folderOf returns the name of the folder of role r in owner's mailbox, as
// the store reports it, by storing a probe message there.
func (e *env) folderOf(t *testing.T, owner string, r mailbox.Role) string {
	t.Helper()
	a, _ := e.seed(t, owner, mailbox.In(r), msg{subject: "probe"})
	return a.Folder
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// lower returns ss lower-cased.
func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

func sortedStrings(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

// mustFetch returns the raw message at addr.
func mustFetch(t *testing.T, e *env, addr mailbox.Address) []byte {
	t.Helper()
	raw, err := e.Store.Fetch(e.ctx, addr)
	require.NoError(t, err, "fetch %s", addr)
	return raw
}

func isNotFound(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }
