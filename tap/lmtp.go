package tap

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// LMTPOptions configure an [LMTP] downstream. Zero fields take the
// defaults their comments give.
type LMTPOptions struct {
	// LocalName is the name sent with LHLO; default "localhost".
	LocalName string
	// MaxIdle is how many idle connections are kept for reuse; default 16.
	MaxIdle int
	// DialTimeout bounds connecting and the greeting; default 30s.
	DialTimeout time.Duration
	// Delimiter separates a recipient's local part from a folder name
	// ("alice+Quarantine@example.com"): the detail that Dovecot's
	// lmtp_save_to_detail_mailbox and Cyrus's plus-addressing deliver to
	// that folder. Default "+".
	Delimiter string
	// QuarantineFolder and JunkFolder are the folders the [Quarantine]
	// and [Junk] verdicts deliver to; defaults "Quarantine" and "Junk".
	// They must exist in every mailbox (Dovecot: "auto = create"), or the
	// server delivers to the inbox instead.
	QuarantineFolder, JunkFolder string
}

// LMTP is a [Downstream] that delivers to a mail server's LMTP service
// (RFC 2033), keeping idle connections for reuse. A [Quarantine] or [Junk]
// verdict delivers to the folder through the address's detail
// ([LMTPOptions.Delimiter]); a [Deliver] verdict delivers to the address
// as received, except that a detail naming the quarantine folder is
// dropped, so that no sender can write into a quarantine. A transaction
// takes one round trip when the server offers PIPELINING and CHUNKING
// (RFC 2920, 3030; Dovecot does), the message's bytes sent as
// given. It is safe for concurrent use.
type LMTP struct {
	network, addr string
	opts          LMTPOptions

	mu     sync.Mutex
	idle   []*lmtpConn
	closed bool
}

// NewLMTP returns a downstream delivering to the LMTP service at network
// ("tcp" or "unix") and addr. opts may be nil.
func NewLMTP(network, addr string, opts *LMTPOptions) *LMTP {
	l := &LMTP{network: network, addr: addr}
	if opts != nil {
		l.opts = *opts
	}
	if l.opts.LocalName == "" {
		l.opts.LocalName = "localhost"
	}
	l.opts.MaxIdle = orDefault(l.opts.MaxIdle, 16)
	l.opts.DialTimeout = orDefault(l.opts.DialTimeout, 30*time.Second)
	if l.opts.Delimiter == "" {
		l.opts.Delimiter = "+"
	}
	if l.opts.QuarantineFolder == "" {
		l.opts.QuarantineFolder = "Quarantine"
	}
	if l.opts.JunkFolder == "" {
		l.opts.JunkFolder = "Junk"
	}
	return l
}

// Route returns the address the message is delivered to for t.
func (l *LMTP) Route(t Target) string {
	local, domain, hasDomain := strings.Cut(t.Address, "@")
	base, detail, hasDetail := strings.Cut(local, l.opts.Delimiter)
	var folder string
	switch t.Verdict {
	case Quarantine:
		folder = l.opts.QuarantineFolder
	case Junk:
		folder = l.opts.JunkFolder
	default:
		if !hasDetail || !strings.EqualFold(detail, l.opts.QuarantineFolder) {
			return t.Address
		}
	}
	out := base
	if folder != "" {
		out += l.opts.Delimiter + folder
	}
	if hasDomain {
		out += "@" + domain
	}
	return out
}

// errUnavailable is the status of every recipient when the server cannot
// be reached or the session breaks.
func errUnavailable(err error) error {
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1}, Message: "Mail server unavailable, try again later: " + oneLine(err.Error())}
}

func oneLine(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Deliver delivers msg to the server for every target; see [Downstream].
// A broken connection is retried once on a fresh one when it was an idle
// connection that the server may have closed meanwhile, before it
// answered (or, without pipelining, accepted a recipient).
func (l *LMTP) Deliver(ctx context.Context, env *Envelope, msg []byte) []error {
	for attempt := 0; ; attempt++ {
		c, reused, err := l.get(ctx)
		if err != nil {
			return fill(len(env.To), errUnavailable(err))
		}
		out, started, err := l.send(ctx, c, env, msg)
		if err == nil {
			l.put(c)
			return out
		}
		_ = c.close()
		if reused && !started && attempt == 0 && ctx.Err() == nil {
			continue
		}
		return fill(len(env.To), errUnavailable(err))
	}
}

// errNeedsUTF8 refuses a message whose envelope has addresses that are
// not ASCII when the server does not take them (RFC 6531 section 3.2).
var errNeedsUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "The mail server does not support internationalized addresses (SMTPUTF8)"}

func asciiEnvelope(env *Envelope) bool {
	if !isASCII(env.From) {
		return false
	}
	for _, t := range env.To {
		if !isASCII(t.Address) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func fill(n int, err error) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// send runs one transaction on c. err is a failure of the session (the
// connection must not be reused); started reports that the server
// accepted a recipient before it.
func (l *LMTP) send(ctx context.Context, c *lmtpConn, env *Envelope, msg []byte) (out []error, started bool, err error) {
	stop := context.AfterFunc(ctx, func() { _ = c.close() })
	defer func() {
		if !stop() && err == nil {
			err = ctx.Err()
		}
	}()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(dl)
		defer c.conn.SetDeadline(time.Time{})
	}
	var params string
	if env.EightBit && c.has("8BITMIME") {
		params += " BODY=8BITMIME"
	}
	if env.UTF8 {
		// A server without SMTPUTF8 (Dovecot 2.3) stores 8-bit headers
		// all the same; only addresses that are not ASCII need it.
		if c.has("SMTPUTF8") {
			params += " SMTPUTF8"
		} else if !asciiEnvelope(env) {
			return fill(len(env.To), errNeedsUTF8), false, c.reset()
		}
	}
	out = make([]error, len(env.To))
	// Recipients that route to one address share one RCPT.
	idx := map[string][]int{}
	var order []string
	for i, t := range env.To {
		a := l.Route(t)
		if _, ok := idx[a]; !ok {
			order = append(order, a)
		}
		idx[a] = append(idx[a], i)
	}
	if c.has("PIPELINING") && c.has("CHUNKING") {
		out, started, err = l.sendPipelined(c, env, params, order, idx, msg, out)
		return out, started, err
	}
	if err := c.mail(env.From, params); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			// The server refused the sender: the same answer for all.
			return fill(len(env.To), se), false, c.reset()
		}
		return nil, false, err
	}
	var accepted []string
	for _, a := range order {
		if err := c.rcpt(a); err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				return nil, len(accepted) > 0, err
			}
			for _, i := range idx[a] {
				out[i] = se
			}
			continue
		}
		accepted = append(accepted, a)
	}
	if len(accepted) == 0 {
		return out, false, c.reset()
	}
	statuses, err := c.data(msg, len(accepted))
	if err != nil {
		return nil, true, err
	}
	for k, a := range accepted {
		for _, i := range idx[a] {
			out[i] = statuses[k]
		}
	}
	return out, true, nil
}

// sendPipelined is send in one round trip (see lmtpConn.transaction);
// order are the distinct addresses, idx the targets of each, out the
// statuses to fill.
func (l *LMTP) sendPipelined(c *lmtpConn, env *Envelope, params string, order []string, idx map[string][]int, msg []byte, out []error) ([]error, bool, error) {
	mailErr, rcptErrs, data, replied, err := c.transaction(env.From, params, order, msg)
	if err != nil {
		return nil, replied, err
	}
	if mailErr != nil {
		// The server refused the sender: the same answer for all. The
		// reset is for servers that keep a transaction whose data they
		// refused.
		return fill(len(env.To), mailErr), false, c.reset()
	}
	if data == nil {
		// No recipient accepted: each has its refusal; the sender a
		// server may still hold is dropped.
		for j, a := range order {
			for _, i := range idx[a] {
				out[i] = rcptErrs[j]
			}
		}
		return out, false, c.reset()
	}
	k := 0
	for j, a := range order {
		st := rcptErrs[j]
		if st == nil {
			st = data[k]
			k++
		}
		for _, i := range idx[a] {
			out[i] = st
		}
	}
	return out, true, nil
}

// get returns an idle connection or a new one; reused reports an idle
// one.
func (l *LMTP) get(ctx context.Context) (c *lmtpConn, reused bool, err error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, false, errors.New("tap: LMTP downstream closed")
	}
	if n := len(l.idle); n > 0 {
		c = l.idle[n-1]
		l.idle = l.idle[:n-1]
		l.mu.Unlock()
		return c, true, nil
	}
	l.mu.Unlock()
	dctx, cancel := context.WithTimeout(ctx, l.opts.DialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, l.network, l.addr)
	if err != nil {
		return nil, false, err
	}
	deadline, _ := dctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err = newLMTPConn(conn, l.opts.LocalName)
	if err != nil {
		_ = conn.Close()
		return nil, false, err
	}
	_ = conn.SetDeadline(time.Time{})
	return c, false, nil
}

func (l *LMTP) put(c *lmtpConn) {
	l.mu.Lock()
	keep := !l.closed && len(l.idle) < l.opts.MaxIdle
	if keep {
		l.idle = append(l.idle, c)
	}
	l.mu.Unlock()
	if !keep {
		c.quit()
	}
}

// Close closes the idle connections; later deliveries fail.
func (l *LMTP) Close() error {
	l.mu.Lock()
	idle := l.idle
	l.idle, l.closed = nil, true
	l.mu.Unlock()
	for _, c := range idle {
		c.quit()
	}
	return nil
}
