package tap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Replies of the tap's own.
var (
	errClosing = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service shutting down, try again later"}
	errCheck   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Message could not be checked, try again later"}
	errNested  = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Nested MAIL command"}
)

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if nc := c.Conn(); nc != nil {
		remote = nc.RemoteAddr().String()
	}
	return &session{s: b.s, remote: remote}, nil
}

// session is one LMTP connection's transaction state.
type session struct {
	s      *Server
	remote string

	active bool // MAIL accepted: the transaction counts as in flight
	from   string
	mopts  smtp.MailOptions
	rcpts  []Recipient
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.active {
		return errNested
	}
	if !ss.s.begin() {
		return errClosing
	}
	ss.active = true
	ss.from = from
	ss.mopts = smtp.MailOptions{}
	if opts != nil {
		ss.mopts = *opts
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	owner, err := ss.s.opts.Owner(to)
	if err != nil || owner == "" {
		ss.s.log.Info("tap: recipient refused", "rcpt", to, "err", err)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient"}
	}
	ss.rcpts = append(ss.rcpts, Recipient{Address: to, Owner: owner})
	return nil
}

// Data is the single-status form of LMTPData (the server speaks LMTP,
// so it is not called in practice): the message's status is the first
// recipient's failure, nil when it was delivered for every recipient.
func (ss *session) Data(r io.Reader) error {
	var first error
	if err := ss.LMTPData(r, statusFunc(func(_ string, err error) {
		if first == nil {
			first = err
		}
	})); err != nil {
		return err
	}
	return first
}

type statusFunc func(string, error)

func (f statusFunc) SetStatus(rcpt string, err error) { f(rcpt, err) }

func (ss *session) Reset() {
	if ss.active {
		ss.active = false
		ss.s.inflight.Done()
	}
	ss.from, ss.mopts, ss.rcpts = "", smtp.MailOptions{}, nil
}

func (ss *session) Logout() error {
	ss.Reset()
	return nil
}

// LMTPData reads the message, checks it and delivers it, setting one
// status per recipient.
func (ss *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	s := ss.s
	raw, err := io.ReadAll(r)
	if err != nil {
		s.st.aborted.Add(1)
		s.log.Info("tap: message not received whole; nothing delivered", "remote", ss.remote, "from", ss.from, "err", err)
		return err
	}
	s.st.messages.Add(1)
	d := &Delivery{
		ID:         s.nextID(),
		Received:   time.Now(),
		RemoteAddr: ss.remote,
		From:       ss.from,
		Recipients: uniqueRecipients(ss.rcpts),
		Raw:        raw,
	}
	res := s.process(d, &ss.mopts)
	for _, rc := range ss.rcpts {
		status.SetStatus(rc.Address, res[strings.ToLower(rc.Address)])
	}
	return nil
}

// uniqueRecipients drops repeated addresses (case-insensitive), keeping
// the first.
func uniqueRecipients(rs []Recipient) []Recipient {
	out := make([]Recipient, 0, len(rs))
	for _, r := range rs {
		if !slices.ContainsFunc(out, func(o Recipient) bool { return strings.EqualFold(o.Address, r.Address) }) {
			out = append(out, r)
		}
	}
	return out
}

// process checks and delivers d; it returns each recipient's status by
// lower-cased address.
func (s *Server) process(d *Delivery, mopts *smtp.MailOptions) map[string]error {
	out := make(map[string]error, len(d.Recipients))
	failed := !s.parseDelivery(d)
	// The indexers run beside the decisions; when their failure cannot
	// change the outcome (deliver-unchanged), beside the delivery and the
	// answer too.
	indexed := s.index(d)
	decisions, decFailed := s.decide(d)
	failed = failed || decFailed
	if s.opts.OnFailure == TempFail {
		failed = indexed() || failed
	}
	if failed && s.opts.OnFailure == TempFail {
		for _, rc := range d.Recipients {
			out[strings.ToLower(rc.Address)] = errCheck
		}
		s.st.tempFailed.Add(int64(len(d.Recipients)))
		s.log.Warn("tap: message refused for now after a failure of its checks (policy tempfail)", "id", d.ID, "from", d.From, "recipients", len(d.Recipients))
		return out
	}

	env := &Envelope{From: d.From, EightBit: mopts.Body == smtp.Body8BitMIME, UTF8: mopts.UTF8}
	for i, rc := range d.Recipients {
		env.To = append(env.To, Target{Recipient: rc, Verdict: decisions[i].Verdict})
	}
	msg := d.Raw
	if s.opts.TraceHeader {
		msg = slices.Concat([]byte(fmt.Sprintf("%s: %s %s\r\n", DefaultTraceHeader, d.ID, s.opts.Hostname)), d.Raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.DownstreamTimeout)
	statuses := s.opts.Downstream.Deliver(ctx, env, msg)
	cancel()
	if len(statuses) != len(env.To) {
		err := fmt.Errorf("tap: downstream gave %d statuses for %d recipients", len(statuses), len(env.To))
		statuses = make([]error, len(env.To))
		for i := range statuses {
			statuses[i] = err
		}
	}

	var landed []int // recipients the server accepted
	for i, t := range env.To {
		st := replyOf(statuses[i])
		out[strings.ToLower(t.Address)] = st
		switch {
		case st == nil:
			landed = append(landed, i)
			switch t.Verdict {
			case Quarantine:
				s.st.quarantined.Add(1)
			case Junk:
				s.st.junked.Add(1)
			default:
				s.st.delivered.Add(1)
			}
		case isTemporary(st):
			s.st.tempFailed.Add(1)
		default:
			s.st.rejected.Add(1)
		}
	}
	s.logDelivery(d, env, statuses)
	s.after(d, env, decisions, landed)
	return out
}

// failure counts and logs a failure of eradicate's own.
func (s *Server) failure(d *Delivery, what string, err error, args ...any) {
	s.st.failures.Add(1)
	s.log.Error("tap: "+what+" failed", append([]any{"id", d.ID, "policy", s.opts.OnFailure.String(), "err", err}, args...)...)
}

// parseDelivery parses d.Raw into d; false when the parser gave up.
func (s *Server) parseDelivery(d *Delivery) bool {
	parsed, perr := parse(d.Raw)
	d.Parsed, d.ParseErr = parsed, perr
	if parsed == nil {
		if perr == nil {
			perr = errors.New("parser gave no result")
		}
		s.failure(d, "parse", perr)
		return false
	}
	if perr != nil {
		s.log.Info("tap: message parsed in part", "id", d.ID, "message_id", parsed.MessageID, "err", perr)
	}
	return true
}

// index starts the indexers on d in the background and returns a
// function that waits for them and reports whether one failed. At most
// [Options.MaxConnections] messages are indexed at once: a message waits
// here for a slot, which holds back clients while indexers lag. Shutdown
// waits for the indexing under way.
func (s *Server) index(d *Delivery) (wait func() bool) {
	if len(s.opts.Indexers) == 0 || d.Parsed == nil {
		return func() bool { return false }
	}
	s.indexSlots <- struct{}{}
	s.indexing.Add(1)
	done := make(chan bool, 1)
	go func() {
		defer s.indexing.Done()
		defer func() { <-s.indexSlots }()
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.CheckTimeout)
		defer cancel()
		failed := false
		for _, ix := range s.opts.Indexers {
			if err := safely(func() error { return ix.Index(ctx, d) }); err != nil {
				s.failure(d, "indexer", err, "indexer", fmt.Sprintf("%T", ix))
				failed = true
			}
		}
		done <- failed
	}()
	var once sync.Once
	var failed bool
	return func() bool {
		once.Do(func() { failed = <-done })
		return failed
	}
}

// decide returns one decision per recipient of d, and whether a decision
// failed ([Deliver] stands for it).
func (s *Server) decide(d *Delivery) ([]Decision, bool) {
	decisions := make([]Decision, len(d.Recipients))
	for i := range decisions {
		decisions[i].Verdict = Deliver
	}
	if s.opts.Decider == nil || d.Parsed == nil {
		return decisions, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CheckTimeout)
	defer cancel()
	failed := false
	for i, rc := range d.Recipients {
		var dec Decision
		err := safely(func() (err error) {
			dec, err = s.opts.Decider.Decide(ctx, d, rc)
			return err
		})
		if err == nil && dec.Verdict == "" {
			dec.Verdict = Deliver
		}
		if err == nil && !dec.Verdict.Valid() {
			err = fmt.Errorf("unknown verdict %q", dec.Verdict)
		}
		if err != nil {
			s.failure(d, "decision", err, "rcpt", rc.Address)
			failed = true
			continue
		}
		decisions[i] = dec
	}
	return decisions, failed
}

// parse runs the parser and turns its panic into an error.
func parse(raw []byte) (p *mailbox.Parsed, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("parser panic: %v", v)
		}
	}()
	return mailbox.Parse(raw)
}

// safely calls f and turns its panic into an error.
func safely(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return f()
}

// after runs the work that follows delivery: invites of the recipients
// the message landed for with Deliver or Junk, and records of the
// decisions that name a rule.
func (s *Server) after(d *Delivery, env *Envelope, decisions []Decision, landed []int) {
	if len(landed) == 0 || (s.opts.Invites == nil && s.opts.Recorder == nil) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CheckTimeout)
	defer cancel()
	afterFail := func(what string, err error, args ...any) {
		s.st.afterFailures.Add(1)
		s.log.Error("tap: "+what+" after delivery failed", append([]any{"id", d.ID, "err", err}, args...)...)
	}
	if s.opts.Invites != nil && d.Parsed != nil && len(d.Parsed.Calendars) > 0 {
		for _, i := range landed {
			t := env.To[i]
			if t.Verdict == Quarantine {
				continue
			}
			if err := safely(func() error { return s.opts.Invites.ProcessInvites(ctx, d, t.Owner) }); err != nil {
				afterFail("invite processing", err, "owner", t.Owner)
			}
		}
	}
	if s.opts.Recorder == nil {
		return
	}
	// One record per distinct decision.
	type group struct {
		why    Decision
		owners []string
	}
	var groups []*group
	for _, i := range landed {
		dec := decisions[i]
		if dec.Rule == "" {
			continue
		}
		j := slices.IndexFunc(groups, func(g *group) bool { return g.why == dec })
		if j < 0 {
			groups = append(groups, &group{why: dec})
			j = len(groups) - 1
		}
		if !slices.Contains(groups[j].owners, env.To[i].Owner) {
			groups[j].owners = append(groups[j].owners, env.To[i].Owner)
		}
	}
	for _, g := range groups {
		if err := safely(func() error { return s.opts.Recorder.Record(ctx, d, g.owners, g.why) }); err != nil {
			afterFail("record", err, "rule", g.why.Rule, "owners", g.owners)
		}
	}
}

// replyOf turns a downstream status into the reply to the client: an SMTP
// error as it is, any other error a temporary failure.
func replyOf(err error) error {
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 0}, Message: "Mail server unavailable, try again later"}
}

func isTemporary(err error) bool {
	var se *smtp.SMTPError
	return !errors.As(err, &se) || se.Temporary()
}

func (s *Server) logDelivery(d *Delivery, env *Envelope, statuses []error) {
	attrs := []any{"id", d.ID, "from", d.From, "size", len(d.Raw)}
	if d.Parsed != nil {
		attrs = append(attrs, "message_id", d.Parsed.MessageID)
	}
	var b strings.Builder
	for i, t := range env.To {
		if i > 0 {
			b.WriteString(", ")
		}
		st := "ok"
		if statuses[i] != nil {
			st = statuses[i].Error()
		}
		fmt.Fprintf(&b, "%s=%s(%s)", t.Address, t.Verdict, st)
	}
	attrs = append(attrs, "recipients", b.String())
	s.log.Log(context.Background(), slog.LevelInfo, "tap: delivered", attrs...)
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
