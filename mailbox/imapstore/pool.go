package imapstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// conn is one logged-in connection, owned by one goroutine at a time.
type conn struct {
	c        *imapclient.Client
	owner    string
	lastUsed time.Time
	// broken marks a connection that must not be reused.
	broken bool
	// examined is the folder this connection has selected read-only
	// (EXAMINE), with its UIDVALIDITY; "" when unknown or read-write.
	examined         string
	examinedValidity uint32
	// ns maps folder names for an admin login ([MasterUser.Admin]); nil
	// when the connection is logged in as the owner.
	ns *otherUsers
}

// healthy reports whether the connection is still open.
func (cn *conn) healthy() bool {
	if cn.broken {
		return false
	}
	select {
	case <-cn.c.Closed():
		return false
	default:
	}
	// go-imap updates the state just after a command completes, so a
	// connection that just logged in may still read as not
	// authenticated; only a logged-out one is unusable.
	return cn.c.State() != imap.ConnStateLogout
}

// pool keeps logged-in connections per owner, within a global bound.
type pool struct {
	s *Store

	mu       sync.Mutex
	idle     map[string][]*conn // per owner, most recently used last
	open     int                // connections open or being opened
	peak     int                // the highest open seen, for tests
	perOwner map[string]int
	wake     chan struct{} // closed and replaced whenever capacity frees
	closed   bool
}

func newPool(s *Store) *pool {
	return &pool{s: s, idle: map[string][]*conn{}, perOwner: map[string]int{}, wake: make(chan struct{})}
}

// signalLocked wakes every waiter.
func (p *pool) signalLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// releaseLocked forgets a connection that is closed or being closed.
func (p *pool) releaseLocked(owner string) {
	p.open--
	p.perOwner[owner]--
	if p.perOwner[owner] <= 0 {
		delete(p.perOwner, owner)
	}
	p.signalLocked()
}

// get returns a connection logged in as owner: an idle one, a new one, or
// one freed by closing another owner's idle connection. It waits while
// the bounds are reached, until ctx is done.
func (p *pool) get(ctx context.Context, owner string) (*conn, error) {
	cfg := &p.s.cfg
	for {
		if err := ctx.Err(); err != nil {
			return nil, ctxErr(err)
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		for idle := p.idle[owner]; len(idle) > 0; idle = p.idle[owner] {
			cn := idle[len(idle)-1]
			p.idle[owner] = idle[:len(idle)-1]
			if cn.healthy() && time.Since(cn.lastUsed) < cfg.IdleTimeout {
				p.mu.Unlock()
				return cn, nil
			}
			p.releaseLocked(owner)
			go cn.c.Close()
		}
		if p.perOwner[owner] < cfg.MaxConnsPerMailbox {
			if p.open >= cfg.MaxConns {
				if victim := p.oldestIdleLocked(); victim != nil {
					p.releaseLocked(victim.owner)
					go victim.c.Close()
				}
			}
			if p.open < cfg.MaxConns {
				p.open++
				p.peak = max(p.peak, p.open)
				p.perOwner[owner]++
				p.mu.Unlock()
				cn, err := p.s.dial(ctx, owner)
				if err != nil {
					p.mu.Lock()
					p.releaseLocked(owner)
					p.mu.Unlock()
					return nil, err
				}
				return cn, nil
			}
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctxErr(ctx.Err())
		case <-wake:
		}
	}
}

// oldestIdleLocked removes and returns the least recently used idle
// connection of any owner, or nil.
func (p *pool) oldestIdleLocked() *conn {
	var victim *conn
	for _, idle := range p.idle {
		if len(idle) > 0 && (victim == nil || idle[0].lastUsed.Before(victim.lastUsed)) {
			victim = idle[0]
		}
	}
	if victim != nil {
		p.idle[victim.owner] = p.idle[victim.owner][1:]
		if len(p.idle[victim.owner]) == 0 {
			delete(p.idle, victim.owner)
		}
	}
	return victim
}

// put returns a connection to the pool, or closes it when it is broken.
func (p *pool) put(cn *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || !cn.healthy() {
		p.releaseLocked(cn.owner)
		go cn.c.Close()
		return
	}
	cn.lastUsed = time.Now()
	p.idle[cn.owner] = append(p.idle[cn.owner], cn)
	p.signalLocked()
}

// close closes the idle connections and makes every later get fail; busy
// connections close when they are returned.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for owner, idle := range p.idle {
		for _, cn := range idle {
			p.releaseLocked(owner)
			_ = cn.c.Close()
		}
	}
	p.idle = map[string][]*conn{}
}

// withConn runs fn with a connection of owner. A done ctx closes the
// connection, which ends any command fn is waiting for; the error then
// wraps ctx.Err(). A connection that failed below the IMAP level is not
// reused.
func (s *Store) withConn(ctx context.Context, owner string, fn func(cn *conn) error) error {
	cn, err := s.pool.get(ctx, owner)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = cn.c.Close() })
	err = fn(cn)
	if !stop() {
		// ctx ended while fn ran: the connection is closed.
		cn.broken = true
		if err == nil || !errors.Is(err, ctx.Err()) {
			err = errors.Join(ctxErr(ctx.Err()), err)
		}
	} else if err != nil && isConnErr(err) {
		cn.broken = true
		s.log.Warn("imapstore: dropping connection after an error", "mailbox", owner, "err", err)
	}
	s.pool.put(cn)
	return err
}

// isConnErr reports whether err is a failure of the connection rather
// than a server response or a condition the store found.
func isConnErr(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return false
	}
	for _, sentinel := range []error{mailbox.ErrNotFound, mailbox.ErrNoFolder, mailbox.ErrUIDValidity, mailbox.ErrUnsupported, mailbox.ErrNoMailbox} {
		if errors.Is(err, sentinel) {
			return false
		}
	}
	return true
}

func ctxErr(err error) error {
	return fmt.Errorf("imapstore: %w", err)
}

// dial opens a connection and logs in as owner.
func (s *Store) dial(ctx context.Context, owner string) (*conn, error) {
	cfg := &s.cfg
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()

	username, password, authzid, err := s.credential(dctx, owner)
	if err != nil {
		return nil, err
	}

	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: Addr %q: %v", ErrConfig, cfg.Addr, err)
	}
	tlsConfig := cfg.TLSConfig.Clone()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = host
	}
	opts := &imapclient.Options{TLSConfig: tlsConfig, DebugWriter: cfg.DebugWriter}

	dialer := &net.Dialer{}
	raw, err := dialer.DialContext(dctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, s.dialErr(ctx, dctx, "connect", owner, err)
	}
	// The handshake, greeting and login below are not ctx-aware: closing
	// the connection ends them.
	stop := context.AfterFunc(dctx, func() { _ = raw.Close() })
	defer stop()

	var c *imapclient.Client
	switch cfg.Security {
	case SecurityTLS:
		tlsConfig.NextProtos = []string{"imap"}
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = raw.Close()
			return nil, s.dialErr(ctx, dctx, "TLS handshake", owner, err)
		}
		c = imapclient.New(tc, opts)
	case SecurityStartTLS:
		c, err = imapclient.NewStartTLS(raw, opts)
		if err != nil {
			_ = raw.Close()
			return nil, s.dialErr(ctx, dctx, "STARTTLS", owner, err)
		}
	case SecurityInsecure:
		c = imapclient.New(raw, opts)
	}
	fail := func(what string, err error) (*conn, error) {
		_ = c.Close()
		return nil, s.dialErr(ctx, dctx, what, owner, err)
	}
	if err := c.WaitGreeting(); err != nil {
		return fail("greeting", err)
	}
	if c.State() != imap.ConnStateAuthenticated {
		if authzid != "" {
			err = c.Authenticate(sasl.NewPlainClient(authzid, username, password))
		} else {
			err = c.Login(username, password).Wait()
		}
		if err != nil {
			return fail("log in", redact(err, password))
		}
	}
	// The capabilities change after login; fetch them now, within the
	// dial deadline, so that later checks do not wait.
	if c.Caps() == nil {
		return fail("capabilities", errors.New("no CAPABILITY response"))
	}
	cn := &conn{c: c, owner: owner, lastUsed: time.Now()}
	if m := cfg.Master; m != nil && m.Admin {
		if cn.ns, err = newOtherUsers(c, owner); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	s.log.Debug("imapstore: connected", "mailbox", owner, "addr", cfg.Addr, "security", cfg.Security.String())
	return cn, nil
}

// dialErr wraps an error of dial, preferring ctx's error when ctx ended
// the attempt.
func (s *Store) dialErr(ctx, dctx context.Context, what, owner string, err error) error {
	if ctx.Err() != nil {
		return ctxErr(ctx.Err())
	}
	if dctx.Err() != nil {
		return fmt.Errorf("imapstore: %s to %s as %q: timed out after %s: %w", what, s.cfg.Addr, owner, s.cfg.DialTimeout, dctx.Err())
	}
	return fmt.Errorf("imapstore: %s to %s as %q: %w", what, s.cfg.Addr, owner, err)
}

// credential returns the login for owner; authzid is set for SASL PLAIN.
func (s *Store) credential(ctx context.Context, owner string) (username, password, authzid string, err error) {
	if m := s.cfg.Master; m != nil {
		if m.Admin {
			return m.User, string(m.Password), "", nil
		}
		if m.SASL {
			return m.User, string(m.Password), owner, nil
		}
		return owner + m.Separator + m.User, string(m.Password), "", nil
	}
	cred, err := s.cfg.Credentials.Credential(ctx, owner)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", "", ctxErr(ctx.Err())
		}
		return "", "", "", fmt.Errorf("imapstore: credential of %q: %w", owner, err)
	}
	return cred.Username, string(cred.Password), "", nil
}

// redactedError hides a password that a server might echo in its
// response text, while errors.As still reaches the original error.
type redactedError struct {
	err      error
	password string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.password, redacted)
}

func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	var ie *imap.Error
	if errors.As(err, &ie) && strings.Contains(ie.Text, password) {
		// Scrub the server's text in place: the caller will see this
		// error through errors.As too.
		ie.Text = strings.ReplaceAll(ie.Text, password, redacted)
	}
	return &redactedError{err: err, password: password}
}

// requireCaps fails, wrapping [mailbox.ErrUnsupported], unless the server
// advertises every capability in caps.
func requireCaps(cn *conn, why string, caps ...imap.Cap) error {
	have := cn.c.Caps()
	var missing []string
	for _, c := range caps {
		if !have.Has(c) {
			missing = append(missing, string(c))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("imapstore: the server lacks %s, needed %s: %w", strings.Join(missing, " and "), why, mailbox.ErrUnsupported)
	}
	return nil
}

var _ io.Closer = (*Store)(nil)
