package tap_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/eradicate-dev/eradicate/tap"
)

// FuzzTapMessage sends attacker-written messages through the tap (parser,
// decider and indexer on the hostile input) and checks that each is
// delivered with exactly the bytes sent. Line endings are made CRLF
// first, as SMTP carries them.
func FuzzTapMessage(f *testing.F) {
	for _, s := range []string{
		"Subject: hi\r\n\r\nbody\r\n",
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n--x--\r\n",
		".\r\n..\r\n.x\r\n",
		"From: =?utf-8?B?////?=\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	var (
		mu  sync.Mutex
		got []byte
	)
	down := tap.DownstreamFunc(func(_ context.Context, env *tap.Envelope, msg []byte) []error {
		mu.Lock()
		got = bytes.Clone(msg)
		mu.Unlock()
		return make([]error, len(env.To))
	})
	seen := func(context.Context, *tap.Delivery, tap.Recipient) (tap.Decision, error) { return tap.Decision{}, nil }
	_, addr := startTap(f, tap.Options{Downstream: down, Decider: tap.DeciderFunc(seen),
		Indexers: []tap.Indexer{tap.IndexerFunc(func(context.Context, *tap.Delivery) error { return nil })}})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		f.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	f.Cleanup(func() { c.Close() })
	if err := c.Hello("fuzz.test"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Split(in, []byte("\n"))
		for i := range lines {
			lines[i] = bytes.ReplaceAll(lines[i], []byte("\r"), nil)
		}
		raw := bytes.Join(lines, []byte("\r\n"))
		if len(raw) == 0 {
			// The client cannot send an empty message: its DATA writer
			// ends an empty body with a line break.
			return
		}
		if !bytes.HasSuffix(raw, []byte("\r\n")) {
			raw = append(raw, '\r', '\n')
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		res, err := sendOn(c, "x@ext.test", []string{"alice@corp.test"}, raw)
		if err != nil {
			t.Fatal(err)
		}
		if res["alice@corp.test"] != nil {
			t.Fatalf("refused: %v", res["alice@corp.test"])
		}
		mu.Lock()
		defer mu.Unlock()
		if !bytes.Equal(got, raw) {
			t.Fatalf("delivered bytes differ:\nsent %q\n got %q", raw, got)
		}
	})
}
