package tap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Verdict is what the tap does with a message for one recipient, decided
// before the message is delivered.
type Verdict string

// Verdicts.
const (
	// Deliver delivers the message where the mail server puts it (the
	// inbox, or what the server's own filters choose).
	Deliver Verdict = "deliver"
	// Junk delivers the message to the recipient's Junk folder.
	Junk Verdict = "junk"
	// Quarantine delivers the message to the recipient's admin-only
	// quarantine folder: the recipient never sees it unless it is
	// released.
	Quarantine Verdict = "quarantine"
)

// Valid reports whether v is one of the verdicts.
func (v Verdict) Valid() bool { return v == Deliver || v == Junk || v == Quarantine }

// Recipient is one envelope recipient of a delivery.
type Recipient struct {
	// Address is the RCPT TO address as the client sent it.
	Address string
	// Owner is the mailbox owner the address belongs to
	// ([Options.Owner]); it is the Mailbox of the copy's
	// [mailbox.Address] in the mail store.
	Owner string
}

// Delivery is one message as the tap received it: the envelope, the bytes
// and the parsed content. Deciders, indexers and invite processors only
// read it.
type Delivery struct {
	// ID identifies the delivery in the tap's logs; it is also the
	// trace header's id ([Options.TraceHeader]).
	ID string
	// Received is when the tap read the end of the message.
	Received time.Time
	// RemoteAddr is the client's address (the MTA).
	RemoteAddr string
	// From is the envelope sender (MAIL FROM); "" for the null sender.
	From string
	// Recipients are the accepted envelope recipients, in RCPT order,
	// each once.
	Recipients []Recipient
	// Raw is the message as received, without the trace header.
	Raw []byte
	// Parsed is Raw parsed once by [mailbox.Parse]; nil when the parser
	// gave up (ParseErr says why). A message the parser read in part
	// (malformed MIME) has both Parsed and ParseErr.
	Parsed *mailbox.Parsed
	// ParseErr is what the parser reported; nil for a clean message.
	ParseErr error
}

// Decision is a [Decider]'s verdict for one recipient, with why.
type Decision struct {
	// Verdict is the verdict; the zero value means [Deliver].
	Verdict Verdict
	// Rule names the detection rule that decided; "" when none did.
	Rule string
	// Reason says why, for logs and the action center.
	Reason string
}

// Decider decides, before a message is delivered, what happens to it for
// one recipient: the detection rules, seen from the tap. Decide is called
// for every recipient of every message the parser could read, with a
// context bounded by [Options.CheckTimeout]; it must be safe for
// concurrent use. An error (or a panic) is a failure of eradicate's own
// and [Options.OnFailure] decides what happens to the message.
type Decider interface {
	// Decide returns the verdict for the message d for rcpt.
	Decide(ctx context.Context, d *Delivery, rcpt Recipient) (Decision, error)
}

// DeciderFunc adapts a function to a [Decider].
type DeciderFunc func(ctx context.Context, d *Delivery, rcpt Recipient) (Decision, error)

// Decide calls f.
func (f DeciderFunc) Decide(ctx context.Context, d *Delivery, rcpt Recipient) (Decision, error) {
	return f(ctx, d, rcpt)
}

// Indexer receives every parsed message as it is delivered: the cluster
// index, an events index. It runs beside the decisions and, under
// [DeliverUnchanged], beside the delivery and the answer to the client;
// under [TempFail] the message is delivered only after it succeeded. It
// is called once per delivery attempt
// (a message the MTA retries is indexed again, so an indexer must accept a
// message it has seen), with a context bounded by [Options.CheckTimeout],
// and must be safe for concurrent use. An error (or a panic) is a failure
// of eradicate's own: [Options.OnFailure] decides.
type Indexer interface {
	// Index takes in the message d.
	Index(ctx context.Context, d *Delivery) error
}

// IndexerFunc adapts a function to an [Indexer].
type IndexerFunc func(ctx context.Context, d *Delivery) error

// Index calls f.
func (f IndexerFunc) Index(ctx context.Context, d *Delivery) error { return f(ctx, d) }

// InviteProcessor applies the meeting invites of a delivered message to
// the recipient's calendar, for mail servers that do not do so
// themselves. It is called after the mail server accepted the message for
// owner, only for messages with calendar parts delivered with the
// [Deliver] or [Junk] verdict (an invite held in quarantine never reaches
// the calendar). The message has landed by then: an error is logged and
// counted, never turned into a delivery failure.
type InviteProcessor interface {
	// ProcessInvites applies the invites of d to owner's calendar.
	ProcessInvites(ctx context.Context, d *Delivery, owner string) error
}

// Recorder records in the action center what the rules decided at
// delivery: that a message was quarantined (so that the quarantine shows
// why it is held and a release takes it out), junked, or is to be acted
// on by a rule whose action the tap does not take itself. It is called
// after the mail server accepted the message for owners, once per
// distinct [Decision] that names a rule. An error is logged and counted;
// the message stays where it landed.
type Recorder interface {
	// Record records why's rule action on d's copies in owners'
	// mailboxes.
	Record(ctx context.Context, d *Delivery, owners []string, why Decision) error
}

// Target is one recipient as the tap hands it to the [Downstream]: where
// the message goes for it.
type Target struct {
	Recipient
	// Verdict says which folder the message goes to.
	Verdict Verdict
}

// Envelope is what a [Downstream] delivers a message with.
type Envelope struct {
	// From is the envelope sender; "" for the null sender.
	From string
	// To are the recipients, each once.
	To []Target
	// EightBit and UTF8 repeat the client's MAIL parameters
	// (BODY=8BITMIME, SMTPUTF8).
	EightBit, UTF8 bool
}

// Downstream delivers messages to the mail server: [LMTP] for Dovecot's or
// Cyrus's LMTP service. Deliver returns one status per env.To, in order:
// nil when the server accepted the message for that recipient, else the
// server's refusal (an *[smtp.SMTPError] is passed to the client as it is;
// any other error becomes a temporary failure, so that the MTA retries).
// It must be safe for concurrent use and honour ctx.
type Downstream interface {
	// Deliver delivers msg with env and returns one status per env.To.
	Deliver(ctx context.Context, env *Envelope, msg []byte) []error
}

// DownstreamFunc adapts a function to a [Downstream]: a mail store in
// the same process (the in-memory tenant of tests and examples).
type DownstreamFunc func(ctx context.Context, env *Envelope, msg []byte) []error

// Deliver calls f.
func (f DownstreamFunc) Deliver(ctx context.Context, env *Envelope, msg []byte) []error {
	return f(ctx, env, msg)
}

// Policy says what the tap does with a message when eradicate itself
// fails on it: the parser gives up, a decider or an indexer errors, panics
// or runs out of time.
type Policy int

// Policies.
const (
	// DeliverUnchanged (the default) delivers the message unchanged with
	// the verdicts decided so far ([Deliver] for a recipient whose
	// decision failed): mail flow never depends on eradicate's health.
	DeliverUnchanged Policy = iota
	// TempFail refuses the message with a temporary failure for every
	// recipient, so that the MTA keeps it and retries: no message is
	// delivered unchecked, at the price of delay while the failure lasts.
	TempFail
)

// String returns "deliver-unchanged" or "tempfail".
func (p Policy) String() string {
	switch p {
	case DeliverUnchanged:
		return "deliver-unchanged"
	case TempFail:
		return "tempfail"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// Defaults of [Options].
const (
	DefaultMaxMessageBytes   = 64 << 20
	DefaultMaxRecipients     = 1000
	DefaultMaxConnections    = 256
	DefaultReadTimeout       = 5 * time.Minute
	DefaultWriteTimeout      = 5 * time.Minute
	DefaultCheckTimeout      = 30 * time.Second
	DefaultDownstreamTimeout = 10 * time.Minute
	DefaultTraceHeader       = "X-Eradicate-Tap"
)

// Options configure a [Server]. Zero fields take the defaults their
// comments give; Downstream is required.
type Options struct {
	// Downstream delivers to the mail server; required.
	Downstream Downstream
	// Decider decides each recipient's verdict; nil delivers everything.
	Decider Decider
	// Indexers receive every parsed message before delivery.
	Indexers []Indexer
	// Invites applies invites for mail servers that do not; nil leaves
	// invites to the mail server.
	Invites InviteProcessor
	// Recorder records the rules' decisions after delivery; nil records
	// nothing.
	Recorder Recorder
	// Owner maps an envelope recipient to its mailbox owner; an error
	// refuses the recipient (550 5.1.1). Nil: [BareAddress].
	Owner func(rcpt string) (string, error)
	// OnFailure is the policy for eradicate's own failures; the default
	// is [DeliverUnchanged].
	OnFailure Policy
	// TraceHeader, when true, prepends one header field to each message
	// delivered, [DefaultTraceHeader]: "X-Eradicate-Tap: <id> <hostname>".
	// Off by default: the bytes are delivered exactly as received.
	TraceHeader bool
	// Hostname is the name the tap greets with; default os.Hostname's
	// answer, else "localhost".
	Hostname string
	// MaxMessageBytes is the largest message accepted (552 5.3.4 above
	// it); default [DefaultMaxMessageBytes].
	MaxMessageBytes int64
	// MaxRecipients is the most recipients of one message (452 4.5.3
	// above it: the MTA sends the rest in another transaction); default
	// [DefaultMaxRecipients].
	MaxRecipients int
	// MaxLineLength is the longest line accepted, in bytes, commands
	// and message alike (a longer one ends the session with 554 and
	// nothing is delivered). The default is MaxMessageBytes: mail in the
	// wild has lines far beyond RFC 5322's 1000 bytes (unwrapped base64),
	// mail servers store them, and the tap passes them on.
	MaxLineLength int
	// MaxConnections is the most connections served at once; more are
	// refused with 421 4.3.2 and the MTA retries. Default
	// [DefaultMaxConnections].
	MaxConnections int
	// ReadTimeout and WriteTimeout bound each read from and write to the
	// client; defaults [DefaultReadTimeout], [DefaultWriteTimeout].
	ReadTimeout, WriteTimeout time.Duration
	// CheckTimeout bounds the decisions and the indexing of one message
	// (a check that runs out of time is a failure of eradicate's own);
	// default [DefaultCheckTimeout].
	CheckTimeout time.Duration
	// DownstreamTimeout bounds the delivery of one message to the mail
	// server (a server that does not answer in time gives a temporary
	// failure); default [DefaultDownstreamTimeout].
	DownstreamTimeout time.Duration
	// Logger receives one line per message (id, sender, recipients,
	// verdicts, statuses; never bodies) and the failures. Nil discards.
	Logger *slog.Logger
}

// BareAddress is the default [Options.Owner]: the recipient address
// lower-cased, without a "+detail" ("Alice+news@Example.com" is owner
// "alice@example.com"), for mail servers whose users are their
// addresses.
func BareAddress(rcpt string) (string, error) {
	local, domain, ok := strings.Cut(rcpt, "@")
	if !ok || domain == "" {
		return "", fmt.Errorf("tap: %q is not an address", rcpt)
	}
	owner, err := LocalPart(local)
	if err != nil {
		return "", err
	}
	return owner + "@" + strings.ToLower(domain), nil
}

// LocalPart is an [Options.Owner] for mail servers whose users have no
// domain: the local part, lower-cased, without a "+detail"
// ("Alice+news@example.com" is owner "alice"), as Dovecot sees it with
// auth_username_format = %Ln.
func LocalPart(rcpt string) (string, error) {
	local, _, ok := strings.Cut(rcpt, "@")
	if !ok {
		local = rcpt
	}
	local, _, _ = strings.Cut(local, "+")
	local = strings.ToLower(strings.TrimSpace(local))
	if local == "" {
		return "", fmt.Errorf("tap: no local part in %q", rcpt)
	}
	return local, nil
}

// Stats are a [Server]'s counters since it started.
type Stats struct {
	// Messages is the number of messages received whole (DATA ended).
	Messages int64
	// Delivered, Junked and Quarantined count recipients the mail server
	// accepted the message for, by verdict.
	Delivered, Junked, Quarantined int64
	// TempFailed and Rejected count recipients refused with a temporary
	// or permanent failure at the end of DATA.
	TempFailed, Rejected int64
	// Failures counts eradicate's own failures (parser, deciders,
	// indexers): each is handled by [Options.OnFailure].
	Failures int64
	// AfterFailures counts failures after delivery (invite processing,
	// records): logged, never affecting delivery.
	AfterFailures int64
	// Aborted counts messages not received whole (the client went away
	// or the message was too large).
	Aborted int64
}

type counters struct {
	messages, delivered, junked, quarantined, tempFailed, rejected, failures, afterFailures, aborted atomic.Int64
}

// ErrNoDownstream is returned by [New] without [Options.Downstream].
var ErrNoDownstream = errors.New("tap: no downstream")

// Server is the delivery tap: an LMTP server (RFC 2033) that checks each
// message and delivers it downstream. See the package documentation.
type Server struct {
	opts Options
	log  *slog.Logger
	srv  *smtp.Server
	st   counters

	mu        sync.Mutex
	closing   bool
	listeners []net.Listener
	inflight  sync.WaitGroup
	// indexing counts messages being indexed, which may go on after
	// their answer; indexSlots bounds them.
	indexing   sync.WaitGroup
	indexSlots chan struct{}
	conns      chan struct{} // a token per connection served
	seq        atomic.Uint64
	idPrefix   string
}

// New returns a tap with opts; it serves nothing until [Server.Serve].
func New(opts Options) (*Server, error) {
	if opts.Downstream == nil {
		return nil, ErrNoDownstream
	}
	if opts.OnFailure != DeliverUnchanged && opts.OnFailure != TempFail {
		return nil, fmt.Errorf("tap: unknown failure policy %d", int(opts.OnFailure))
	}
	if opts.Owner == nil {
		opts.Owner = BareAddress
	}
	if opts.Hostname == "" {
		opts.Hostname = hostname()
	}
	opts.MaxMessageBytes = orDefault(opts.MaxMessageBytes, DefaultMaxMessageBytes)
	opts.MaxRecipients = orDefault(opts.MaxRecipients, DefaultMaxRecipients)
	opts.MaxLineLength = orDefault(opts.MaxLineLength, int(min(opts.MaxMessageBytes, 1<<30)))
	opts.MaxConnections = orDefault(opts.MaxConnections, DefaultMaxConnections)
	opts.ReadTimeout = orDefault(opts.ReadTimeout, DefaultReadTimeout)
	opts.WriteTimeout = orDefault(opts.WriteTimeout, DefaultWriteTimeout)
	opts.CheckTimeout = orDefault(opts.CheckTimeout, DefaultCheckTimeout)
	opts.DownstreamTimeout = orDefault(opts.DownstreamTimeout, DefaultDownstreamTimeout)
	s := &Server{opts: opts, log: opts.Logger, conns: make(chan struct{}, opts.MaxConnections), indexSlots: make(chan struct{}, opts.MaxConnections)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.idPrefix = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff)
	srv := smtp.NewServer(backend{s})
	srv.LMTP = true
	srv.Domain = opts.Hostname
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = opts.MaxLineLength
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.WriteTimeout
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogLogger{s.log}
	s.srv = srv
	return s, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Serve serves LMTP on l until [Server.Shutdown] or [Server.Close]; it
// then returns nil. Connections beyond [Options.MaxConnections] are
// refused with 421.
func (s *Server) Serve(l net.Listener) error {
	ll := &limitListener{Listener: l, s: s}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = l.Close()
		return nil
	}
	s.listeners = append(s.listeners, ll)
	s.mu.Unlock()
	err := s.srv.Serve(ll)
	if errors.Is(err, smtp.ErrServerClosed) || s.isClosing() && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// ListenAndServe listens on network ("tcp" or "unix") and addr and serves.
func (s *Server) ListenAndServe(network, addr string) error {
	l, err := net.Listen(network, addr)
	if err != nil {
		return fmt.Errorf("tap: listen: %w", err)
	}
	return s.Serve(l)
}

// Shutdown stops accepting connections and new messages (a client that
// starts one gets 421 4.3.2 and retries later), waits until the messages
// in flight are delivered and answered and the indexers are done with
// them, then closes every connection. If
// ctx ends first, it closes everything at once and returns ctx's error:
// the messages cut off get no answer, so the MTA keeps and retries them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	ls := s.listeners
	s.mu.Unlock()
	for _, l := range ls {
		_ = l.Close()
	}
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		s.indexing.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if cerr := s.srv.Close(); err == nil && cerr != nil && !errors.Is(cerr, smtp.ErrServerClosed) && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}

// Close closes the listeners and every connection at once; messages in
// flight get no answer (the MTA retries them).
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	err := s.srv.Close()
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Messages:      s.st.messages.Load(),
		Delivered:     s.st.delivered.Load(),
		Junked:        s.st.junked.Load(),
		Quarantined:   s.st.quarantined.Load(),
		TempFailed:    s.st.tempFailed.Load(),
		Rejected:      s.st.rejected.Load(),
		Failures:      s.st.failures.Load(),
		AfterFailures: s.st.afterFailures.Load(),
		Aborted:       s.st.aborted.Load(),
	}
}

// begin registers a message in flight; false when the tap is closing.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.inflight.Add(1)
	return true
}

func (s *Server) nextID() string {
	return fmt.Sprintf("%s.%d", s.idPrefix, s.seq.Add(1))
}

// limitListener refuses connections beyond MaxConnections with a 421
// greeting.
type limitListener struct {
	net.Listener
	s *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.s.conns <- struct{}{}:
			return &countedConn{Conn: c, release: func() { <-l.s.conns }}, nil
		default:
			l.s.log.Warn("tap: too many connections; refused", "remote", c.RemoteAddr().String(), "max", l.s.opts.MaxConnections)
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("421 4.3.2 Too many connections, try again later\r\n"))
			_ = c.Close()
		}
	}
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// slogLogger is go-smtp's error log on slog.
type slogLogger struct{ l *slog.Logger }

func (g slogLogger) Printf(format string, v ...any) {
	g.l.Warn("tap: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (g slogLogger) Println(v ...any) { g.l.Warn("tap: " + strings.TrimSpace(fmt.Sprintln(v...))) }
