package tap_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/tap"
)

// ruleOnSubject quarantines messages whose subject contains word, and
// junks those containing "deals".
func ruleOnSubject(word string) tap.Decider {
	return tap.DeciderFunc(func(_ context.Context, d *tap.Delivery, _ tap.Recipient) (tap.Decision, error) {
		switch {
		case strings.Contains(d.Parsed.Subject, word):
			return tap.Decision{Verdict: tap.Quarantine, Rule: "payroll-phish", Reason: "subject"}, nil
		case strings.Contains(d.Parsed.Subject, "deals"):
			return tap.Decision{Verdict: tap.Junk, Rule: "newsletters"}, nil
		}
		return tap.Decision{}, nil
	})
}

func TestDeliverUnchangedWithPerRecipientStatus(t *testing.T) {
	down := startFakeLMTP(t)
	down.reject["nobody@corp.test"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	srv, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil)})

	raw := message("m1@ext.test", "Hello", "line one\n.line starting with a dot\n..two dots\n.\n\n")
	res, err := send(t, addr, "sender@ext.test", []string{"alice@corp.test", "nobody@corp.test", "Bob@corp.test"}, raw)
	require.NoError(t, err)
	assert.Nil(t, res["alice@corp.test"])
	assert.Nil(t, res["Bob@corp.test"])
	require.NotNil(t, res["nobody@corp.test"])
	assert.Equal(t, 550, res["nobody@corp.test"].Code, "the server's permanent refusal is passed on")

	got := down.stored()
	require.Len(t, got, 2)
	for _, g := range got {
		requireBytesEqual(t, raw, g.Raw)
		assert.Equal(t, "sender@ext.test", g.From)
	}
	assert.ElementsMatch(t, []string{"alice@corp.test", "Bob@corp.test"}, []string{got[0].Rcpt, got[1].Rcpt})
	st := srv.Stats()
	assert.Equal(t, int64(1), st.Messages)
	assert.Equal(t, int64(2), st.Delivered)
	assert.Equal(t, int64(1), st.Rejected)
}

func TestVerdictsRouteToFolders(t *testing.T) {
	down := startFakeLMTP(t)
	var recorded []string
	var mu sync.Mutex
	rec := recorderFunc(func(_ context.Context, d *tap.Delivery, owners []string, why tap.Decision) error {
		mu.Lock()
		defer mu.Unlock()
		recorded = append(recorded, fmt.Sprintf("%s %v %s", d.Parsed.MessageID, owners, why.Rule))
		return nil
	})
	srv, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), Decider: ruleOnSubject("Payroll"), Recorder: rec})

	_, err := send(t, addr, "x@evil.test", []string{"alice@corp.test", "bob+work@corp.test"}, message("p1@evil.test", "Payroll update", "click"))
	require.NoError(t, err)
	_, err = send(t, addr, "n@shop.test", []string{"alice@corp.test"}, message("n1@shop.test", "This week's deals", "50% off"))
	require.NoError(t, err)
	// A sender cannot write into a quarantine through the detail.
	_, err = send(t, addr, "x@ext.test", []string{"carol+quarantine@corp.test"}, message("h1@ext.test", "Hi", "hello"))
	require.NoError(t, err)

	var rcpts []string
	for _, g := range down.stored() {
		rcpts = append(rcpts, g.Rcpt)
	}
	assert.ElementsMatch(t, []string{"alice+Quarantine@corp.test", "bob+Quarantine@corp.test", "alice+Junk@corp.test", "carol@corp.test"}, rcpts)
	assert.Equal(t, []string{"p1@evil.test [alice@corp.test bob@corp.test] payroll-phish", "n1@shop.test [alice@corp.test] newsletters"}, recorded)
	st := srv.Stats()
	assert.Equal(t, int64(2), st.Quarantined)
	assert.Equal(t, int64(1), st.Junked)
	assert.Equal(t, int64(1), st.Delivered)
}

type recorderFunc func(ctx context.Context, d *tap.Delivery, owners []string, why tap.Decision) error

func (f recorderFunc) Record(ctx context.Context, d *tap.Delivery, owners []string, why tap.Decision) error {
	return f(ctx, d, owners, why)
}

type invitesFunc func(ctx context.Context, d *tap.Delivery, owner string) error

func (f invitesFunc) ProcessInvites(ctx context.Context, d *tap.Delivery, owner string) error {
	return f(ctx, d, owner)
}

func TestInvitesOnlyForDeliveredRecipients(t *testing.T) {
	down := startFakeLMTP(t)
	down.reject["dave@corp.test"] = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "over quota"}
	var mu sync.Mutex
	var owners []string
	inv := invitesFunc(func(_ context.Context, d *tap.Delivery, owner string) error {
		mu.Lock()
		defer mu.Unlock()
		owners = append(owners, owner)
		return nil
	})
	dec := tap.DeciderFunc(func(_ context.Context, _ *tap.Delivery, rc tap.Recipient) (tap.Decision, error) {
		if rc.Owner == "bob@corp.test" {
			return tap.Decision{Verdict: tap.Quarantine, Rule: "r"}, nil
		}
		return tap.Decision{}, nil
	})
	_, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), Decider: dec, Invites: inv})
	res, err := send(t, addr, "hr@evil.test", []string{"alice@corp.test", "bob@corp.test", "dave@corp.test"}, invite("i1@evil.test", "uid-1", "alice@corp.test"))
	require.NoError(t, err)
	require.NotNil(t, res["dave@corp.test"])
	assert.Equal(t, 452, res["dave@corp.test"].Code)
	assert.Equal(t, []string{"alice@corp.test"}, owners, "the quarantined and the refused recipient get no invite")

	// A message without calendar parts is not handed over.
	_, err = send(t, addr, "x@ext.test", []string{"alice@corp.test"}, message("m@ext.test", "Hi", "hello"))
	require.NoError(t, err)
	assert.Equal(t, []string{"alice@corp.test"}, owners)
}

func TestDownstreamDown(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	require.NoError(t, l.Close())

	srv, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", dead, &tap.LMTPOptions{DialTimeout: time.Second})})
	res, err := send(t, addr, "x@ext.test", []string{"alice@corp.test", "bob@corp.test"}, message("d1@ext.test", "Hi", "hello"))
	require.NoError(t, err)
	for _, r := range []string{"alice@corp.test", "bob@corp.test"} {
		require.NotNil(t, res[r], r)
		assert.True(t, res[r].Temporary(), "a temporary failure so that the MTA retries: %v", res[r])
	}
	assert.Equal(t, int64(2), srv.Stats().TempFailed)
}

func TestDownstreamSlow(t *testing.T) {
	down := startFakeLMTP(t)
	down.setDelay(2 * time.Second)
	_, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), DownstreamTimeout: 300 * time.Millisecond})
	res, err := send(t, addr, "x@ext.test", []string{"alice@corp.test"}, message("s1@ext.test", "Hi", "hello"))
	require.NoError(t, err)
	require.NotNil(t, res["alice@corp.test"])
	assert.True(t, res["alice@corp.test"].Temporary())
}

func TestDownstreamRecoversAfterRestart(t *testing.T) {
	down := startFakeLMTP(t)
	lm := tap.NewLMTP("tcp", down.Addr, nil)
	_, addr := startTap(t, tap.Options{Downstream: lm})
	res, err := send(t, addr, "x@ext.test", []string{"alice@corp.test"}, message("r1@ext.test", "Hi", "one"))
	require.NoError(t, err)
	require.Nil(t, res["alice@corp.test"])
	// The server drops its connections (a restart): the idle connection
	// the tap kept is dead, and the next message goes through a new one.
	require.NoError(t, down.srv.Close())
	down2 := startFakeLMTPOn(t, down.Addr)
	res, err = send(t, addr, "x@ext.test", []string{"alice@corp.test"}, message("r2@ext.test", "Hi", "two"))
	require.NoError(t, err)
	require.Nil(t, res["alice@corp.test"])
	require.Len(t, down2.stored(), 1)
}

// An idle connection that the server closed after saying so (go-smtp's
// and Dovecot's "421 idle timeout") does not fail the next message: the
// 421 read as the answer to the pipelined sender closes the connection,
// and the message goes through a new one.
func TestDownstreamDropsIdleConnectionTheServerClosed(t *testing.T) {
	down := startFakeLMTP(t, func(s *smtp.Server) { s.ReadTimeout = 100 * time.Millisecond })
	lm := tap.NewLMTP("tcp", down.Addr, nil)
	t.Cleanup(func() { _ = lm.Close() })
	env := &tap.Envelope{From: "x@ext.test", To: []tap.Target{{Recipient: tap.Recipient{Address: "alice@corp.test"}, Verdict: tap.Deliver}}}
	require.NoError(t, lm.Deliver(t.Context(), env, message("i1@ext.test", "Hi", "one"))[0])
	time.Sleep(500 * time.Millisecond) // the server times the idle connection out
	require.NoError(t, lm.Deliver(t.Context(), env, message("i2@ext.test", "Hi", "two"))[0])
	require.Len(t, down.stored(), 2)
}

// startFakeLMTPOn starts a fake server on a given address, retrying while
// the address is still in use.
func startFakeLMTPOn(t testing.TB, addr string) *fakeLMTP {
	t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err)
	return serveFakeLMTP(t, l)
}

// Own failures: a rule that errors or panics, an indexer that is down, a
// message the parser cannot read. Under the default policy the message
// is delivered unchanged; under TempFail every recipient gets a
// temporary failure and nothing is delivered.
func TestOwnFailurePolicy(t *testing.T) {
	errDown := errors.New("index unavailable")
	cases := []struct {
		name string
		opts tap.Options
	}{
		{"rule errors", tap.Options{Decider: tap.DeciderFunc(func(context.Context, *tap.Delivery, tap.Recipient) (tap.Decision, error) {
			return tap.Decision{}, errors.New("rule store unreachable")
		})}},
		{"rule panics", tap.Options{Decider: tap.DeciderFunc(func(context.Context, *tap.Delivery, tap.Recipient) (tap.Decision, error) {
			panic("bug in a rule")
		})}},
		{"rule times out", tap.Options{CheckTimeout: 100 * time.Millisecond, Decider: tap.DeciderFunc(func(ctx context.Context, _ *tap.Delivery, _ tap.Recipient) (tap.Decision, error) {
			<-ctx.Done()
			return tap.Decision{}, ctx.Err()
		})}},
		{"rule gives an unknown verdict", tap.Options{Decider: tap.DeciderFunc(func(context.Context, *tap.Delivery, tap.Recipient) (tap.Decision, error) {
			return tap.Decision{Verdict: "delete"}, nil
		})}},
		{"indexer down", tap.Options{Indexers: []tap.Indexer{tap.IndexerFunc(func(context.Context, *tap.Delivery) error { return errDown })}}},
		{"indexer panics", tap.Options{Indexers: []tap.Indexer{tap.IndexerFunc(func(context.Context, *tap.Delivery) error { panic("nil map") })}}},
	}
	for _, c := range cases {
		for _, policy := range []tap.Policy{tap.DeliverUnchanged, tap.TempFail} {
			t.Run(c.name+"/"+policy.String(), func(t *testing.T) {
				down := startFakeLMTP(t)
				opts := c.opts
				opts.Downstream = tap.NewLMTP("tcp", down.Addr, nil)
				opts.OnFailure = policy
				srv, addr := startTap(t, opts)
				raw := message("f1@ext.test", "Payroll", "hello")
				res, err := send(t, addr, "x@ext.test", []string{"alice@corp.test"}, raw)
				require.NoError(t, err)
				require.Eventually(t, func() bool { return srv.Stats().Failures == 1 }, 5*time.Second, time.Millisecond, "the failure is counted")
				if policy == tap.TempFail {
					require.NotNil(t, res["alice@corp.test"])
					assert.True(t, res["alice@corp.test"].Temporary())
					assert.Empty(t, down.stored(), "nothing delivered unchecked")
					return
				}
				assert.Nil(t, res["alice@corp.test"])
				got := down.stored()
				require.Len(t, got, 1)
				assert.Equal(t, "alice@corp.test", got[0].Rcpt, "delivered where it would have gone")
				requireBytesEqual(t, raw, got[0].Raw)
			})
		}
	}
}

func TestMalformedMIMEDeliveredUnchanged(t *testing.T) {
	down := startFakeLMTP(t)
	var seen atomic.Int32
	dec := tap.DeciderFunc(func(_ context.Context, d *tap.Delivery, _ tap.Recipient) (tap.Decision, error) {
		seen.Add(1)
		return tap.Decision{}, nil
	})
	srv, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), Decider: dec})
	raws := [][]byte{
		// A multipart without its boundary, a broken base64 part, a header
		// with no body separator, 8-bit bytes, a NUL.
		[]byte("From: a@ext.test\r\nSubject: broken\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nno boundary\r\n"),
		[]byte("From: a@ext.test\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Transfer-Encoding: base64\r\nContent-Type: application/pdf\r\n\r\n@@@not base64@@@\r\n"),
		[]byte("Subject: no body\r\nX-Header-Without-Colon\r\n"),
		[]byte("From: \xff\xfe@ext.test\r\nSubject: =?utf-8?B?broken?=\r\n\r\n\x00\x01 body \xc3\x28\r\n"),
	}
	for i, raw := range raws {
		res, err := send(t, addr, "x@ext.test", []string{"alice@corp.test"}, raw)
		require.NoError(t, err, "message %d", i)
		assert.Nil(t, res["alice@corp.test"], "message %d", i)
	}
	got := down.stored()
	require.Len(t, got, len(raws))
	for i, g := range got {
		requireBytesEqual(t, raws[i], g.Raw)
	}
	assert.Equal(t, int32(len(raws)), seen.Load(), "the rules saw every message the parser read in part")
	assert.Zero(t, srv.Stats().Failures)
}

func TestOversizeMessage(t *testing.T) {
	down := startFakeLMTP(t)
	srv, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), MaxMessageBytes: 1024})
	big := message("big@ext.test", "Big", strings.Repeat("0123456789abcdef0123456789abcdef\n", 128))
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	require.NoError(t, c.Hello("client.test"))
	size, ok := c.MaxMessageSize()
	assert.True(t, ok)
	assert.Equal(t, 1024, size, "the limit is announced (SIZE)")
	res, err := sendOn(c, "x@ext.test", []string{"alice@corp.test"}, big)
	require.NoError(t, err)
	require.NotNil(t, res["alice@corp.test"])
	assert.Equal(t, 552, res["alice@corp.test"].Code, res["alice@corp.test"].Message)
	assert.Empty(t, down.stored())
	assert.Equal(t, int64(1), srv.Stats().Aborted)

	// The session goes on: a small message after it is delivered.
	res, err = sendOn(c, "x@ext.test", []string{"alice@corp.test"}, message("small@ext.test", "Small", "ok"))
	require.NoError(t, err)
	assert.Nil(t, res["alice@corp.test"])
	assert.Len(t, down.stored(), 1)
}

func TestTooManyRecipients(t *testing.T) {
	down := startFakeLMTP(t)
	_, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), MaxRecipients: 2})
	res, err := send(t, addr, "x@ext.test", []string{"a@corp.test", "b@corp.test", "c@corp.test"}, message("r@ext.test", "Hi", "x"))
	require.NoError(t, err)
	require.NotNil(t, res["c@corp.test"])
	assert.True(t, res["c@corp.test"].Temporary(), "the MTA sends the rest later")
	assert.Len(t, down.stored(), 2)
}

func TestClientDisconnectsMidData(t *testing.T) {
	down := startFakeLMTP(t)
	var decided atomic.Int32
	dec := tap.DeciderFunc(func(context.Context, *tap.Delivery, tap.Recipient) (tap.Decision, error) {
		decided.Add(1)
		return tap.Decision{}, nil
	})
	srv, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), Decider: dec})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "LHLO client.test\r\nMAIL FROM:<x@ext.test>\r\nRCPT TO:<alice@corp.test>\r\nDATA\r\n")
	require.NoError(t, err)
	_, err = conn.Write(message("cut@ext.test", "Cut", "half of the body")[:60])
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, conn.Close())
	require.Eventually(t, func() bool { return srv.Stats().Aborted == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Empty(t, down.stored(), "half a message is never delivered")
	assert.Zero(t, decided.Load())
	assert.Zero(t, srv.Stats().Messages)
}

func TestTraceHeader(t *testing.T) {
	down := startFakeLMTP(t)
	_, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), TraceHeader: true, Hostname: "tap.corp.test"})
	raw := message("t@ext.test", "Hi", "x")
	_, err := send(t, addr, "x@ext.test", []string{"alice@corp.test"}, raw)
	require.NoError(t, err)
	got := down.stored()
	require.Len(t, got, 1)
	head, rest, ok := bytes.Cut(got[0].Raw, []byte("\r\n"))
	require.True(t, ok)
	assert.Regexp(t, `^X-Eradicate-Tap: [0-9a-f]+\.1 tap\.corp\.test$`, string(head))
	requireBytesEqual(t, raw, rest)
}

func TestGracefulShutdown(t *testing.T) {
	down := startFakeLMTP(t)
	down.setDelay(500 * time.Millisecond)
	s, err := tap.New(tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil)})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	addr := l.Addr().String()

	// An idle session, open before the shutdown.
	idleConn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	idle := smtp.NewClientLMTP(idleConn)
	defer idle.Close()
	require.NoError(t, idle.Hello("client.test"))

	type answer struct {
		res result
		err error
	}
	inflight := make(chan answer, 1)
	go func() {
		res, err := send(t, addr, "x@ext.test", []string{"alice@corp.test"}, message("g@ext.test", "Hi", "x"))
		inflight <- answer{res, err}
	}()
	require.Eventually(t, func() bool { return s.Stats().Messages == 1 }, 5*time.Second, 5*time.Millisecond)

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	// A new transaction on the idle session is refused for now.
	require.Eventually(t, func() bool {
		err := idle.Mail("y@ext.test", nil)
		if err == nil {
			// Before the shutdown began: start over.
			require.NoError(t, idle.Reset())
			return false
		}
		var se *smtp.SMTPError
		return !errors.As(err, &se) || se.Code == 421
	}, 10*time.Second, 10*time.Millisecond)

	a := <-inflight
	require.NoError(t, a.err)
	assert.Nil(t, a.res["alice@corp.test"], "the message in flight is delivered and answered")
	require.NoError(t, <-shut)
	require.NoError(t, <-served)
	assert.Len(t, down.stored(), 1)
}

func TestMaxConnections(t *testing.T) {
	down := startFakeLMTP(t)
	_, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil), MaxConnections: 1})
	c1, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c1.Close()
	first := smtp.NewClientLMTP(c1)
	require.NoError(t, first.Hello("one"))
	c2, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c2.Close()
	buf := make([]byte, 128)
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := c2.Read(buf)
	assert.True(t, strings.HasPrefix(string(buf[:n]), "421 4.3.2"), "got %q", buf[:n])
}

func TestNewNeedsDownstream(t *testing.T) {
	_, err := tap.New(tap.Options{})
	assert.ErrorIs(t, err, tap.ErrNoDownstream)
	_, err = tap.New(tap.Options{Downstream: tap.NewLMTP("tcp", "127.0.0.1:1", nil), OnFailure: 7})
	assert.Error(t, err)
}

func TestLocalPart(t *testing.T) {
	for in, want := range map[string]string{
		"alice@corp.test": "alice", "Bob+news@corp.test": "bob", "carol": "carol",
	} {
		got, err := tap.LocalPart(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	_, err := tap.LocalPart("@corp.test")
	assert.Error(t, err)
	got, err := tap.BareAddress("Bob+News@Corp.Test")
	require.NoError(t, err)
	assert.Equal(t, "bob@corp.test", got)
	_, err = tap.BareAddress("bob")
	assert.Error(t, err)
}

func TestRoute(t *testing.T) {
	l := tap.NewLMTP("tcp", "127.0.0.1:1", nil)
	for _, c := range []struct {
		addr string
		v    tap.Verdict
		want string
	}{
		{"alice@corp.test", tap.Deliver, "alice@corp.test"},
		{"alice+news@corp.test", tap.Deliver, "alice+news@corp.test"},
		{"alice+QUARANTINE@corp.test", tap.Deliver, "alice@corp.test"},
		{"alice@corp.test", tap.Quarantine, "alice+Quarantine@corp.test"},
		{"alice+news@corp.test", tap.Junk, "alice+Junk@corp.test"},
		{"alice", tap.Quarantine, "alice+Quarantine"},
	} {
		assert.Equal(t, c.want, l.Route(tap.Target{Recipient: tap.Recipient{Address: c.addr}, Verdict: c.v}), "%s %s", c.addr, c.v)
	}
}

// A client's SMTPUTF8 is passed on to a server that supports it and
// dropped for one that does not (Dovecot 2.3) while the addresses are
// ASCII; an address that is not ASCII is refused permanently then.
func TestSMTPUTF8ToServerWithout(t *testing.T) {
	down := startFakeLMTP(t) // does not announce SMTPUTF8
	_, addr := startTap(t, tap.Options{Downstream: tap.NewLMTP("tcp", down.Addr, nil)})
	for _, c := range []struct {
		rcpt string
		ok   bool
	}{{"alice@corp.test", true}, {"jürgen@corp.test", false}} {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		cl := smtp.NewClientLMTP(conn)
		require.NoError(t, cl.Hello("client.test"))
		require.NoError(t, cl.Mail("x@ext.test", &smtp.MailOptions{UTF8: true}))
		require.NoError(t, cl.Rcpt(c.rcpt, nil))
		w, err := cl.Data()
		require.NoError(t, err)
		_, err = w.Write(message("u8@ext.test", "Grüße", "ö"))
		require.NoError(t, err)
		_, err = w.CloseWithLMTPResponse()
		if c.ok {
			assert.NoError(t, err, c.rcpt)
		} else {
			var lerr smtp.LMTPDataError
			require.ErrorAs(t, err, &lerr, c.rcpt)
			assert.Equal(t, 553, lerr[c.rcpt].Code)
		}
		_ = cl.Close()
	}
	assert.Len(t, down.stored(), 1)
}

// A client that sends the message in BDAT chunks (RFC 3030) gets it
// delivered byte for byte, binary content and lone line feeds included.
func TestBDATDeliveredByteForByte(t *testing.T) {
	down := startFakeLMTP(t)
	var mu sync.Mutex
	var got []byte
	store := tap.DownstreamFunc(func(ctx context.Context, env *tap.Envelope, msg []byte) []error {
		mu.Lock()
		got = bytes.Clone(msg)
		mu.Unlock()
		return tap.NewLMTP("tcp", down.Addr, nil).Deliver(ctx, env, msg)
	})
	_, addr := startTap(t, tap.Options{Downstream: store})
	raw := []byte("Subject: binary\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r.\n.\r\n\xff bare\nlf\r\n")
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	reply := func() string {
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			if len(line) < 4 || line[3] != '-' {
				return line
			}
		}
	}
	require.True(t, strings.HasPrefix(reply(), "220"))
	for _, cmd := range []string{"LHLO client.test", "MAIL FROM:<x@ext.test> BODY=BINARYMIME", "RCPT TO:<alice@corp.test>"} {
		fmt.Fprintf(conn, "%s\r\n", cmd)
		line := reply()
		if strings.HasPrefix(cmd, "MAIL") && !strings.HasPrefix(line, "250") {
			// Without BINARYMIME the body is sent plain.
			fmt.Fprintf(conn, "MAIL FROM:<x@ext.test>\r\n")
			line = reply()
		}
		require.True(t, strings.HasPrefix(line, "250"), "%s: %s", cmd, line)
	}
	half := len(raw) / 2
	fmt.Fprintf(conn, "BDAT %d\r\n%s", half, raw[:half])
	require.True(t, strings.HasPrefix(reply(), "250"))
	fmt.Fprintf(conn, "BDAT %d LAST\r\n%s", len(raw)-half, raw[half:])
	line := reply()
	require.True(t, strings.HasPrefix(line, "250"), line)
	mu.Lock()
	defer mu.Unlock()
	requireBytesEqual(t, raw, got)
	stored := down.stored()
	require.Len(t, stored, 1)
	requireBytesEqual(t, raw, stored[0].Raw)
}

// The server's refusal of the sender, or of every recipient, is each
// recipient's answer; the connection, pipelined, stays in step and the
// next message on it is delivered.
func TestDownstreamRefusesSenderOrEveryRecipient(t *testing.T) {
	down := startFakeLMTP(t)
	down.rejectFrom["spammer@ext.test"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender refused"}
	down.reject["gone1@corp.test"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	down.reject["gone2@corp.test"] = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "over quota"}
	lm := tap.NewLMTP("tcp", down.Addr, &tap.LMTPOptions{MaxIdle: 1})
	_, addr := startTap(t, tap.Options{Downstream: lm})
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	require.NoError(t, c.Hello("client.test"))

	res, err := sendOn(c, "spammer@ext.test", []string{"alice@corp.test", "bob@corp.test"}, message("s@ext.test", "Hi", "x"))
	require.NoError(t, err)
	for _, r := range []string{"alice@corp.test", "bob@corp.test"} {
		require.NotNil(t, res[r], r)
		assert.Equal(t, 550, res[r].Code, r)
		assert.Equal(t, smtp.EnhancedCode{5, 7, 1}, res[r].EnhancedCode, r)
	}
	res, err = sendOn(c, "x@ext.test", []string{"gone1@corp.test", "gone2@corp.test"}, message("g@ext.test", "Hi", "x"))
	require.NoError(t, err)
	require.NotNil(t, res["gone1@corp.test"])
	assert.Equal(t, 550, res["gone1@corp.test"].Code)
	require.NotNil(t, res["gone2@corp.test"])
	assert.Equal(t, 452, res["gone2@corp.test"].Code)
	assert.Empty(t, down.stored())

	res, err = sendOn(c, "x@ext.test", []string{"alice@corp.test"}, message("ok@ext.test", "Hi", "x"))
	require.NoError(t, err)
	assert.Nil(t, res["alice@corp.test"])
	require.Len(t, down.stored(), 1)
}
