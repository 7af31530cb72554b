package tap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// lmtpConn is one client connection to an LMTP server (RFC 2033). It
// sends a message's bytes exactly as given: with BDAT (RFC 3030) when the
// server offers CHUNKING, else with DATA and dot-stuffing only.
type lmtpConn struct {
	conn net.Conn
	r    *textproto.Reader
	w    *bufio.Writer
	ext  map[string]string
}

// newLMTPConn reads the greeting the server on conn and says LHLO.
func newLMTPConn(conn net.Conn, localName string) (*lmtpConn, error) {
	c := &lmtpConn{conn: conn, r: textproto.NewReader(bufio.NewReader(conn)), w: bufio.NewWriterSize(conn, 64<<10)}
	if _, err := c.reply(220); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	msg, err := c.cmd(250, "LHLO %s", localName)
	if err != nil {
		return nil, fmt.Errorf("LHLO: %w", err)
	}
	c.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return c, nil
}

func (c *lmtpConn) has(ext string) bool {
	_, ok := c.ext[ext]
	return ok
}

// cmd sends one command and reads its reply.
func (c *lmtpConn) cmd(expect int, format string, args ...any) (string, error) {
	if _, err := fmt.Fprintf(c.w, format+"\r\n", args...); err != nil {
		return "", err
	}
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	return c.reply(expect)
}

// reply reads one reply. A reply with another code than expect (by its
// first digit when expect < 10) is an *smtp.SMTPError; any other error is
// a failure of the connection.
func (c *lmtpConn) reply(expect int) (string, error) {
	_, msg, err := c.r.ReadResponse(expect)
	var te *textproto.Error
	if errors.As(err, &te) {
		return "", toSMTPError(te.Code, te.Msg)
	}
	if err != nil {
		return "", err
	}
	return msg, nil
}

// toSMTPError makes a server reply an *smtp.SMTPError, with its enhanced
// status code when the reply has one.
func toSMTPError(code int, msg string) *smtp.SMTPError {
	e := &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
	first, rest, _ := strings.Cut(msg, " ")
	parts := strings.Split(first, ".")
	if len(parts) == 3 {
		var ec smtp.EnhancedCode
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil {
				ok = false
				break
			}
			ec[i] = n
		}
		if ok {
			e.EnhancedCode, e.Message = ec, rest
		}
	}
	return e
}

// mail sends MAIL FROM with params.
func (c *lmtpConn) mail(from string, params string) error {
	_, err := c.cmd(25, "MAIL FROM:<%s>%s", from, params)
	return err
}

func (c *lmtpConn) rcpt(to string) error {
	_, err := c.cmd(25, "RCPT TO:<%s>", to)
	return err
}

// data sends msg and returns one status per accepted recipient: nil or
// an *smtp.SMTPError. An error of its own is a failure of the connection
// (and of the whole transaction); a refusal of DATA itself is returned as
// every recipient's status.
func (c *lmtpConn) data(msg []byte, n int) ([]error, error) {
	if c.has("CHUNKING") {
		if _, err := fmt.Fprintf(c.w, "BDAT %d LAST\r\n", len(msg)); err != nil {
			return nil, err
		}
		if _, err := c.w.Write(msg); err != nil {
			return nil, err
		}
	} else {
		if _, err := c.cmd(354, "DATA"); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				return fill(n, se), nil
			}
			return nil, err
		}
		if err := writeDotStuffed(c.w, msg); err != nil {
			return nil, err
		}
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	out := make([]error, n)
	for i := range out {
		se, err := c.status(2)
		if err != nil {
			return nil, err
		}
		if se != nil {
			out[i] = se
		}
	}
	return out, nil
}

// writeDotStuffed writes msg as DATA content: a '.' that starts a line
// is doubled, and the end is marked with CRLF "." CRLF (a CRLF is added
// first when msg does not end with one). Nothing else changes.
func writeDotStuffed(w io.Writer, msg []byte) error {
	start := 0
	if len(msg) > 0 && msg[0] == '.' {
		if _, err := w.Write([]byte{'.'}); err != nil {
			return err
		}
	}
	for {
		i := bytes.Index(msg[start:], []byte("\n."))
		if i < 0 {
			break
		}
		end := start + i + 2 // through the dot
		if _, err := w.Write(msg[start:end]); err != nil {
			return err
		}
		if _, err := w.Write([]byte{'.'}); err != nil {
			return err
		}
		start = end
	}
	if _, err := w.Write(msg[start:]); err != nil {
		return err
	}
	tail := ".\r\n"
	if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
		tail = "\r\n.\r\n"
	}
	_, err := io.WriteString(w, tail)
	return err
}

// transaction runs a whole transaction in one round trip (PIPELINING
// and CHUNKING, RFC 2920 and 3030): MAIL, every RCPT and the message in
// one BDAT LAST are sent at once, then the replies read: the MAIL's, one
// per RCPT, and one per accepted recipient (a single one when MAIL was
// refused or no recipient accepted). mailErr is the refusal of MAIL,
// rcptErrs the refusal of each RCPT (nil when accepted), data the status
// of each accepted recipient in order. err is a failure of the
// connection; replied reports that the server answered MAIL before it
// (a connection that broke before any reply, or whose first reply is a
// 421 closing it, delivered nothing).
func (c *lmtpConn) transaction(from, params string, rcpts []string, msg []byte) (mailErr error, rcptErrs, data []error, replied bool, err error) {
	fmt.Fprintf(c.w, "MAIL FROM:<%s>%s\r\n", from, params)
	for _, r := range rcpts {
		fmt.Fprintf(c.w, "RCPT TO:<%s>\r\n", r)
	}
	fmt.Fprintf(c.w, "BDAT %d LAST\r\n", len(msg))
	if _, err := c.w.Write(msg); err != nil {
		return nil, nil, nil, false, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, nil, nil, false, err
	}
	se, err := c.status(25)
	if err != nil {
		return nil, nil, nil, false, err
	}
	if se != nil && se.Code == 421 {
		// The server is closing the connection (an idle one it timed
		// out): it took nothing.
		return nil, nil, nil, false, se
	}
	if se != nil {
		mailErr = se
	}
	rcptErrs = make([]error, len(rcpts))
	accepted := 0
	for i := range rcpts {
		se, err := c.status(25)
		if err != nil {
			return nil, nil, nil, true, err
		}
		if se != nil {
			rcptErrs[i] = se
		} else {
			accepted++
		}
	}
	refusedAll := mailErr != nil || accepted == 0
	n := accepted
	if refusedAll {
		n = 1 // the refusal of the data
	}
	data = make([]error, n)
	for i := range data {
		se, err := c.status(2)
		if err != nil {
			return nil, nil, nil, true, err
		}
		if se != nil {
			data[i] = se
		}
	}
	if refusedAll {
		if data[0] == nil {
			return nil, nil, nil, true, errors.New("the server accepted a message without recipients")
		}
		data = nil
	}
	return mailErr, rcptErrs, data, true, nil
}

// status reads one reply: se is the server's refusal (nil when it
// accepted), err a failure of the connection.
func (c *lmtpConn) status(expect int) (se *smtp.SMTPError, err error) {
	_, err = c.reply(expect)
	if errors.As(err, &se) {
		return se, nil
	}
	return nil, err
}

func (c *lmtpConn) reset() error {
	_, err := c.cmd(250, "RSET")
	return err
}

func (c *lmtpConn) quit() {
	_ = c.conn.SetDeadline(time.Now().Add(time.Second))
	_, _ = c.cmd(221, "QUIT")
	_ = c.conn.Close()
}

func (c *lmtpConn) close() error { return c.conn.Close() }
