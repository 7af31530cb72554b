package tap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// unstuff reads DATA content as a server does: up to the first line that
// is a lone ".", dropping the leading dot of every other line that has
// one. ok is false when no end line is found or bytes follow it.
func unstuff(wire []byte) (msg []byte, ok bool) {
	var out []byte
	for len(wire) > 0 {
		i := bytes.Index(wire, []byte("\r\n"))
		if i < 0 {
			return nil, false
		}
		line := wire[:i+2]
		wire = wire[i+2:]
		if bytes.Equal(line, []byte(".\r\n")) {
			return out, len(wire) == 0
		}
		if line[0] == '.' {
			line = line[1:]
		}
		out = append(out, line...)
	}
	return nil, false
}

func FuzzWriteDotStuffed(f *testing.F) {
	for _, s := range []string{"", "a\r\n", ".\r\n", "..\r\n", "a\r\n.\r\nb\r\n", "no end", "a\n.b\r\n", "\r\n.\r\n", ".x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var buf bytes.Buffer
		if err := writeDotStuffed(&buf, msg); err != nil {
			t.Fatal(err)
		}
		got, ok := unstuff(buf.Bytes())
		if !ok {
			t.Fatalf("the end of data is not where it belongs in %q", buf.Bytes())
		}
		want := msg
		if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
			want = append(bytes.Clone(msg), '\r', '\n')
		}
		// A bare LF line starting with a dot is stuffed too (servers
		// that take LF as a line end must not see an end of data): it
		// reads back with the extra dot, which the CRLF-only reader
		// here keeps; every CRLF line reads back exactly.
		if !bareLFDot(msg) && !bytes.Equal(got, want) {
			t.Fatalf("round trip changed the message:\nwant %q\n got %q", want, got)
		}
	})
}

// bareLFDot reports whether msg has a dot right after an LF that does not
// end a CRLF.
func bareLFDot(msg []byte) bool {
	for i := 0; i+1 < len(msg); i++ {
		if msg[i] == '\n' && msg[i+1] == '.' && (i == 0 || msg[i-1] != '\r') {
			return true
		}
	}
	return false
}

func FuzzToSMTPError(f *testing.F) {
	for _, s := range []string{"5.1.1 no such user", "4.2.2 over quota", "no code", "1.2 x", "9.9.9.9 x", ""} {
		f.Add(450, s)
	}
	f.Fuzz(func(t *testing.T, code int, msg string) {
		e := toSMTPError(code, msg)
		if e.Code != code {
			t.Fatalf("code %d became %d", code, e.Code)
		}
		if e.Error() == "" && msg != "" {
			t.Fatal("empty error text")
		}
	})
}

// A server without CHUNKING gets the message with DATA: dot-stuffed, and
// read back (unstuffed) byte for byte; each recipient's reply is its
// status.
func TestLMTPDataWithoutChunking(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		fmt.Fprintf(c, "220 fake LMTP\r\n")
		var rcpts int
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.Fields(line)[0]); cmd {
			case "LHLO":
				fmt.Fprintf(c, "250-fake\r\n250 PIPELINING\r\n")
			case "MAIL":
				fmt.Fprintf(c, "250 2.1.0 ok\r\n")
			case "RCPT":
				rcpts++
				fmt.Fprintf(c, "250 2.1.5 ok\r\n")
			case "DATA":
				fmt.Fprintf(c, "354 go ahead\r\n")
				var wire []byte
				for !bytes.HasSuffix(wire, []byte("\r\n.\r\n")) {
					b, err := r.ReadByte()
					if err != nil {
						return
					}
					wire = append(wire, b)
				}
				msg, _ := unstuff(wire)
				got <- msg
				fmt.Fprintf(c, "250 2.0.0 first ok\r\n452 4.2.2 second over quota\r\n")
			case "QUIT":
				fmt.Fprintf(c, "221 bye\r\n")
				return
			default:
				fmt.Fprintf(c, "250 ok\r\n")
			}
		}
	}()
	down := NewLMTP("tcp", l.Addr().String(), nil)
	defer down.Close()
	msg := []byte("Subject: dots\r\n\r\n.starts with a dot\r\n..two\r\n.\r\nend\r\n")
	env := &Envelope{From: "x@ext.test", To: []Target{
		{Recipient: Recipient{Address: "a@corp.test", Owner: "a"}, Verdict: Deliver},
		{Recipient: Recipient{Address: "b@corp.test", Owner: "b"}, Verdict: Deliver},
	}}
	sts := down.Deliver(context.Background(), env, msg)
	if len(sts) != 2 || sts[0] != nil {
		t.Fatalf("statuses %v", sts)
	}
	var se *smtp.SMTPError
	if !errors.As(sts[1], &se) || se.Code != 452 || se.EnhancedCode != (smtp.EnhancedCode{4, 2, 2}) || se.Message != "second over quota" {
		t.Fatalf("second status %#v", sts[1])
	}
	if w := <-got; !bytes.Equal(w, msg) {
		t.Fatalf("server read %q, want %q", w, msg)
	}
}
