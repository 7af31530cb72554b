package postfix_test

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postfix"
)

// sink is an LMTP server that refuses with 451 while down is set and
// otherwise counts what it receives.
type sink struct {
	down atomic.Bool
	mu   sync.Mutex
	got  []string
}

type sinkSession struct {
	s     *sink
	rcpts []string
}

func (ss *sinkSession) Reset()                               { ss.rcpts = nil }
func (ss *sinkSession) Logout() error                        { return nil }
func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.rcpts = append(ss.rcpts, to)
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	if _, err := io.ReadAll(r); err != nil {
		return err
	}
	if ss.s.down.Load() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "down"}
	}
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, ss.rcpts...)
	ss.s.mu.Unlock()
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func TestRelayToLMTPWithRetry(t *testing.T) {
	k := &sink{}
	k.down.Store(true)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: k}, nil }))
	srv.LMTP = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	pf := postfix.Start(t, &postfix.Options{MainCF: "virtual_mailbox_domains = corp.test\nvirtual_transport = lmtp:inet:" + l.Addr().String() + "\n"})
	raw := []byte("From: a@ext.test\r\nTo: alice@corp.test\r\nSubject: hi\r\nMessage-ID: <pf-1@ext.test>\r\n\r\nhello\r\n")
	require.NoError(t, pf.Send("a@ext.test", []string{"alice@corp.test"}, raw))

	ctx := context.Background()
	// Refused for now: the message stays queued.
	require.Eventually(t, func() bool {
		n, err := pf.QueueLen(ctx)
		return err == nil && n == 1 && k.count() == 0
	}, 20*time.Second, 100*time.Millisecond, pf.Log())
	time.Sleep(500 * time.Millisecond)
	k.down.Store(false)
	require.Eventually(t, func() bool { return k.count() == 1 }, 30*time.Second, 100*time.Millisecond, pf.Log())
	require.Eventually(t, func() bool {
		n, err := pf.QueueLen(ctx)
		return err == nil && n == 0
	}, 10*time.Second, 100*time.Millisecond)
}
