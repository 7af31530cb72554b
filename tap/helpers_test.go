package tap_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/tap"
)

// stored is one message a fake mail server accepted for one recipient.
type stored struct {
	From string
	Rcpt string
	Raw  []byte
}

// fakeLMTP is an in-process LMTP mail server: it stores what it accepts,
// refuses the recipients in reject, and waits delay before answering DATA.
type fakeLMTP struct {
	Addr string

	mu     sync.Mutex
	got    []stored
	reject map[string]*smtp.SMTPError
	// rejectFrom refuses MAIL from these senders.
	rejectFrom map[string]*smtp.SMTPError
	delay      time.Duration
	srv        *smtp.Server
}

// startFakeLMTP starts a fake LMTP server; configure, if given, sets up
// its go-smtp server before it serves.
func startFakeLMTP(t testing.TB, configure ...func(*smtp.Server)) *fakeLMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return serveFakeLMTP(t, l, configure...)
}

// serveFakeLMTP serves a fake LMTP server on l.
func serveFakeLMTP(t testing.TB, l net.Listener, configure ...func(*smtp.Server)) *fakeLMTP {
	f := &fakeLMTP{Addr: l.Addr().String(), reject: map[string]*smtp.SMTPError{}, rejectFrom: map[string]*smtp.SMTPError{}}
	f.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &fakeSession{f: f}, nil }))
	f.srv.LMTP = true
	f.srv.Domain = "fake.test"
	f.srv.ErrorLog = nopLogger{}
	for _, c := range configure {
		c(f.srv)
	}
	go func() { _ = f.srv.Serve(l) }()
	t.Cleanup(func() { _ = f.srv.Close() })
	return f
}

func (f *fakeLMTP) stored() []stored {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stored(nil), f.got...)
}

func (f *fakeLMTP) setDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

type fakeSession struct {
	f     *fakeLMTP
	from  string
	rcpts []string
}

func (s *fakeSession) Reset()        { s.from, s.rcpts = "", nil }
func (s *fakeSession) Logout() error { return nil }
func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	s.f.mu.Lock()
	rej := s.f.rejectFrom[from]
	s.f.mu.Unlock()
	if rej != nil {
		return rej
	}
	s.from = from
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.f.mu.Lock()
	rej := s.f.reject[to]
	s.f.mu.Unlock()
	if rej != nil {
		return rej
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	return s.LMTPData(r, nopStatus{})
}

func (s *fakeSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.f.mu.Lock()
	delay := s.f.delay
	s.f.mu.Unlock()
	time.Sleep(delay)
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	for _, rc := range s.rcpts {
		s.f.got = append(s.f.got, stored{From: s.from, Rcpt: rc, Raw: raw})
		status.SetStatus(rc, nil)
	}
	return nil
}

type nopStatus struct{}

func (nopStatus) SetStatus(string, error) {}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// startTap starts a tap with opts on a loopback port and returns its
// address. It is shut down when the test ends.
func startTap(t testing.TB, opts tap.Options) (*tap.Server, string) {
	t.Helper()
	s, l := serveTap(t, opts)
	return s, l.Addr().String()
}

// serveTap starts a tap with opts on a loopback listener, which it
// returns; the tap is shut down when the test ends, and must shut down
// cleanly.
func serveTap(t testing.TB, opts tap.Options) (*tap.Server, net.Listener) {
	t.Helper()
	s, err := tap.New(opts)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, s.Shutdown(ctx))
		assert.NoError(t, <-done)
	})
	return s, l
}

// result is the tap's answer for one recipient: nil, or its SMTP error.
type result map[string]*smtp.SMTPError

// send sends one message over LMTP to addr and returns each recipient's
// answer. An error is a failure of the session (or of every recipient at
// MAIL or DATA).
func send(t testing.TB, addr, from string, rcpts []string, raw []byte) (result, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return nil, err
	}
	return sendOn(c, from, rcpts, raw)
}

func sendOn(c *smtp.Client, from string, rcpts []string, raw []byte) (result, error) {
	if err := c.Mail(from, nil); err != nil {
		return nil, err
	}
	res := result{}
	var ok []string
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				return nil, err
			}
			res[r] = se
			continue
		}
		ok = append(ok, r)
	}
	if len(ok) == 0 {
		return res, nil
	}
	w, err := c.Data()
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	_, err = w.CloseWithLMTPResponse()
	var lerr smtp.LMTPDataError
	if err != nil && !errors.As(err, &lerr) {
		return nil, err
	}
	for _, r := range ok {
		res[r] = lerr[r]
	}
	return res, nil
}

// message returns a small RFC 5322 message with CRLF line endings.
func message(id, subject, body string) []byte {
	return []byte(strings.ReplaceAll("From: Sender <sender@ext.test>\nTo: alice@corp.test\nSubject: "+subject+
		"\nMessage-ID: <"+id+">\nDate: Mon, 07 Dec 2026 08:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"+body+"\n", "\n", "\r\n"))
}

// invite returns a message carrying an iTIP REQUEST for attendee.
func invite(id, uid, attendee string) []byte {
	ics := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:" + uid +
		"\nDTSTAMP:20261207T080000Z\nDTSTART:20261210T100000Z\nDTEND:20261210T110000Z\nSUMMARY:Payroll update\nORGANIZER:mailto:hr@evil.test\nATTENDEE:mailto:" +
		attendee + "\nSEQUENCE:0\nEND:VEVENT\nEND:VCALENDAR\n"
	s := "From: hr@evil.test\nTo: " + attendee + "\nSubject: Payroll update\nMessage-ID: <" + id + ">\nDate: Mon, 07 Dec 2026 08:00:00 +0000\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/alternative; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nPlease accept.\n--b1\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\n\n" +
		ics + "--b1--\n"
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

func requireBytesEqual(t testing.TB, want, got []byte) {
	t.Helper()
	if !bytes.Equal(want, got) {
		t.Fatalf("message altered:\nwant %q\n got %q", want, got)
	}
}
