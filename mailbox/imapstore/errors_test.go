package imapstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// allErrors runs every operation of the store once and returns the errors.
func allErrors(s *imapstore.Store, owner string) []error {
	ctx := context.Background()
	var errs []error
	for _, err := range s.Search(ctx, owner, mailbox.Criteria{Subject: "x"}) {
		errs = append(errs, err)
	}
	addr := mailbox.Address{Mailbox: owner, Folder: "INBOX", UIDValidity: 1, UID: 1}
	_, err := s.Fetch(ctx, addr)
	errs = append(errs, err)
	_, err = s.Move(ctx, []mailbox.Address{addr}, mailbox.In(mailbox.RoleJunk))
	errs = append(errs, err)
	_, err = s.Expunge(ctx, []mailbox.Address{addr})
	errs = append(errs, err)
	_, err = s.Append(ctx, owner, mailbox.In(mailbox.RoleInbox), []byte("Subject: x\r\n\r\nx\r\n"), nil)
	errs = append(errs, err)
	return errs
}

// TestErrorsKeepResponseCodeNotPassword checks, on both servers, that a
// failed login keeps the server's response code reachable with errors.As
// and that no error string, log line or formatted Config contains the
// password.
func TestErrorsKeepResponseCodeNotPassword(t *testing.T) {
	const wrong = "wr0ng-Pa55word-must-not-leak"
	type server struct {
		name   string
		config func(t *testing.T) (imapstore.Config, string)
	}
	servers := []server{
		{"memserver", func(t *testing.T) (imapstore.Config, string) {
			owner := "alice@example.com"
			srv := startMem(t, fullCaps(), owner)
			return imapstore.Config{Addr: srv.Addr, Security: imapstore.SecurityInsecure, Mailboxes: []string{owner},
				Master: &imapstore.MasterUser{User: memMaster, Password: wrong}}, owner
		}},
		{"dovecot", func(t *testing.T) (imapstore.Config, string) {
			d := startDovecot(t, nil)
			owner := d.newUsers(t, 1)[0]
			return imapstore.Config{Addr: d.srv.Addr, Security: imapstore.SecurityInsecure, Mailboxes: []string{owner},
				Master: &imapstore.MasterUser{User: d.srv.MasterUser, Password: wrong}}, owner
		}},
	}
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			cfg, owner := sv.config(t)
			var logs bytes.Buffer
			var mu sync.Mutex
			cfg.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
				mu.Lock()
				defer mu.Unlock()
				return logs.Write(p)
			}), &slog.HandlerOptions{Level: slog.LevelDebug}))
			s, err := imapstore.New(cfg)
			require.NoError(t, err)
			defer s.Close()

			for i, err := range allErrors(s, owner) {
				require.Error(t, err, "operation %d", i)
				assert.NotContains(t, err.Error(), wrong, "operation %d", i)
				var ie *imap.Error
				require.True(t, errors.As(err, &ie), "operation %d: %v has no *imap.Error", i, err)
				assert.Equal(t, imap.StatusResponseTypeNo, ie.Type)
				assert.Equal(t, imap.ResponseCodeAuthenticationFailed, ie.Code, "operation %d: %v", i, err)
				assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), wrong)
			}
			cfg.Logger.Info("config", "config", cfg, "password", cfg.Master.Password)
			mu.Lock()
			assert.NotContains(t, logs.String(), wrong)
			mu.Unlock()
			assert.NotContains(t, fmt.Sprintf("%v %+v %s", cfg.Master, *cfg.Master, cfg.Master.Password), wrong)
			assert.NotContains(t, fmt.Sprintf("%#v", *cfg.Master), wrong)
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestNoResponseCodeOnMissingFolder checks that a server's NO with a
// response code stays reachable under the store's sentinel errors.
func TestNoResponseCodeOnMissingFolder(t *testing.T) {
	owner := "alice@example.com"
	srv := startMem(t, fullCaps(), owner)
	s := srv.store(t, []string{owner}, nil)
	_, err := s.Fetch(context.Background(), mailbox.Address{Mailbox: owner, Folder: "Gone", UIDValidity: 7, UID: 1})
	require.ErrorIs(t, err, mailbox.ErrNotFound)
	var ie *imap.Error
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, imap.ResponseCodeNonExistent, ie.Code)
}

// TestUnknownMailbox checks ErrNoMailbox for an owner not configured,
// without a connection.
func TestUnknownMailbox(t *testing.T) {
	owner := "alice@example.com"
	srv := startMem(t, fullCaps(), owner)
	s := srv.store(t, []string{owner}, nil)
	_, err := s.Fetch(context.Background(), mailbox.Address{Mailbox: "mallory@example.com", Folder: "INBOX", UIDValidity: 1, UID: 1})
	require.ErrorIs(t, err, mailbox.ErrNoMailbox)
}

// TestCancelBlockedOperation checks that cancelling ctx ends an operation
// waiting on a slow server promptly, with an error wrapping ctx's, and
// that the store works again afterwards.
func TestCancelBlockedOperation(t *testing.T) {
	owner := "alice@example.com"
	srv := startMem(t, fullCaps(), owner)
	s := srv.store(t, []string{owner}, nil)
	ctx := context.Background()
	a, err := s.Append(ctx, owner, mailbox.In(mailbox.RoleInbox), rawMessage("slow@example.com", "a@evil.example", owner, "slow"), nil)
	require.NoError(t, err)

	srv.delay.Store(int64(10 * time.Second))
	for _, tc := range []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"search", func(ctx context.Context) error {
			for _, err := range s.Search(ctx, owner, mailbox.Criteria{Subject: "slow"}) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"fetch", func(ctx context.Context) error { _, err := s.Fetch(ctx, a); return err }},
		{"move", func(ctx context.Context) error {
			// Cancelled after the move began: the outcome is per copy.
			moved, err := s.Move(ctx, []mailbox.Address{a}, mailbox.In(mailbox.RoleJunk))
			if err != nil {
				return err
			}
			return moved[0].Err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tc.op(ctx)
			elapsed := time.Since(start)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, elapsed, 3*time.Second, "the blocked command must end when ctx does")
		})
	}
	srv.delay.Store(0)
	raw, err := s.Fetch(ctx, a)
	require.NoError(t, err, "the store recovers after cancelled operations")
	assert.Contains(t, string(raw), "slow@example.com")
}

// TestPoolBounds works on more mailboxes than connections at once: the
// pool must stay within MaxConns, log in per owner, and finish everything.
func TestPoolBounds(t *testing.T) {
	var owners []string
	for i := range 12 {
		owners = append(owners, fmt.Sprintf("user%02d@example.com", i))
	}
	srv := startMem(t, fullCaps(), owners...)
	s := srv.store(t, owners, func(c *imapstore.Config) { c.MaxConns = 3; c.MaxConnsPerMailbox = 2 })
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, len(owners)*8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, owner := range owners {
				if (i+w)%2 == 0 {
					continue
				}
				id := fmt.Sprintf("w%d-%d@example.com", w, i)
				if _, err := s.Append(ctx, owner, mailbox.In(mailbox.RoleInbox), rawMessage(id, "p@pool.example", owner, "pool"), nil); err != nil {
					errs <- err
					return
				}
				n := 0
				for _, err := range s.Search(ctx, owner, mailbox.Criteria{MessageIDs: []string{id}}) {
					if err != nil {
						errs <- err
						return
					}
					n++
				}
				if n != 1 {
					errs <- fmt.Errorf("%s: found %d copies of %s", owner, n, id)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.LessOrEqual(t, imapstore.PoolPeak(s), 3, "never more than MaxConns connections at once")
	assert.Equal(t, 3, imapstore.PoolPeak(s), "the bound is used")
	total := 0
	for _, owner := range owners {
		total += len(collect(t, s, owner, mailbox.Criteria{Senders: []string{"p@pool.example"}}))
	}
	assert.Equal(t, 8*len(owners)/2, total)
}

// TestConfigValidation checks the refusals of New.
func TestConfigValidation(t *testing.T) {
	master := &imapstore.MasterUser{User: "admin", Password: "pw"}
	creds := imapstore.StaticCredentials{}
	for _, tc := range []struct {
		name string
		cfg  imapstore.Config
	}{
		{"no address", imapstore.Config{Master: master, Mailboxes: []string{"a"}}},
		{"no credential", imapstore.Config{Addr: "h:993", Mailboxes: []string{"a"}}},
		{"two credentials", imapstore.Config{Addr: "h:993", Master: master, Credentials: creds, Mailboxes: []string{"a"}}},
		{"no mailboxes", imapstore.Config{Addr: "h:993", Master: master}},
		{"admin folder is INBOX", imapstore.Config{Addr: "h:993", Master: master, Mailboxes: []string{"a"}, QuarantineFolder: "inbox"}},
		{"admin folders collide", imapstore.Config{Addr: "h:993", Master: master, Mailboxes: []string{"a"}, QuarantineFolder: "X", EvidenceFolder: "X"}},
		{"unknown security", imapstore.Config{Addr: "h:993", Master: master, Mailboxes: []string{"a"}, Security: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := imapstore.New(tc.cfg)
			require.ErrorIs(t, err, imapstore.ErrConfig)
			assert.False(t, strings.Contains(err.Error(), "pw"))
		})
	}
}
