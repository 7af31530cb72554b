package tap_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/eradicate-dev/eradicate/tap"
)

// A tap in front of a mail store: a rule quarantines mail from one
// domain before it lands, everything else is delivered as received.
func Example() {
	store := tap.DownstreamFunc(func(_ context.Context, env *tap.Envelope, msg []byte) []error {
		for _, t := range env.To {
			fmt.Printf("%s gets %d bytes: %s\n", t.Owner, len(msg), t.Verdict)
		}
		return make([]error, len(env.To))
	})
	rule := tap.DeciderFunc(func(_ context.Context, d *tap.Delivery, _ tap.Recipient) (tap.Decision, error) {
		if strings.HasSuffix(d.Parsed.From, "@payroll-evil.example") {
			return tap.Decision{Verdict: tap.Quarantine, Rule: "payroll phishing"}, nil
		}
		return tap.Decision{}, nil
	})
	srv, err := tap.New(tap.Options{Downstream: store, Decider: rule})
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	// What the MTA does.
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	for _, from := range []string{"hr@payroll-evil.example", "pm@partner.example"} {
		msg := "From: " + from + "\r\nSubject: hello\r\n\r\nhi\r\n"
		if err := c.Mail(from, nil); err != nil {
			panic(err)
		}
		if err := c.Rcpt("Alice@corp.example", nil); err != nil {
			panic(err)
		}
		w, err := c.Data()
		if err != nil {
			panic(err)
		}
		fmt.Fprint(w, msg)
		if _, err := w.CloseWithLMTPResponse(); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%+v\n", srv.Stats())
	// Output:
	// alice@corp.example gets 53 bytes: quarantine
	// alice@corp.example gets 48 bytes: deliver
	// {Messages:2 Delivered:1 Junked:0 Quarantined:1 TempFailed:0 Rejected:0 Failures:0 AfterFailures:0 Aborted:0}
}
