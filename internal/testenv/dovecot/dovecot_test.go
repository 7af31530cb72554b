package dovecot_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
)

// imapSession sends raw IMAP commands; enough to check the server without
// depending on the IMAP client under test elsewhere.
type imapSession struct {
	conn net.Conn
	r    *bufio.Reader
	tag  int
}

func dial(t *testing.T, addr string) *imapSession {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	s := &imapSession{conn: conn, r: bufio.NewReader(conn)}
	greeting, err := s.r.ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(greeting, "* OK"), greeting)
	return s
}

// cmd sends one command and returns the untagged lines and the tagged
// status line.
func (s *imapSession) cmd(t *testing.T, format string, args ...any) ([]string, string) {
	t.Helper()
	s.tag++
	tag := fmt.Sprintf("t%d", s.tag)
	_, err := fmt.Fprintf(s.conn, "%s %s\r\n", tag, fmt.Sprintf(format, args...))
	require.NoError(t, err)
	var untagged []string
	for {
		line, err := s.r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, tag+" ") {
			return untagged, strings.TrimPrefix(line, tag+" ")
		}
		untagged = append(untagged, line)
	}
}

func TestStart(t *testing.T) {
	srv := dovecot.Start(t, &dovecot.Options{Users: map[string]string{"alice": "pw-alice", "bob": "pw-bob"}})

	t.Run("user login and folders", func(t *testing.T) {
		s := dial(t, srv.Addr)
		_, status := s.cmd(t, `LOGIN alice pw-alice`)
		require.True(t, strings.HasPrefix(status, "OK"), status)
		lines, status := s.cmd(t, `LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED)`)
		require.True(t, strings.HasPrefix(status, "OK"), status)
		all := strings.Join(lines, "\n")
		for _, want := range []string{`\Junk`, `\Trash`, `\Sent`, `\Drafts`, `"Quarantine"`, `"Recoverable Items"`, `"Evidence"`, "INBOX"} {
			assert.Contains(t, all, strings.Trim(want, `"`))
		}
		for _, l := range lines {
			if strings.Contains(l, dovecot.QuarantineFolder) {
				assert.NotContains(t, l, `\Subscribed`, "admin-only folders are not subscribed")
			}
		}
	})

	t.Run("master login", func(t *testing.T) {
		s := dial(t, srv.Addr)
		_, status := s.cmd(t, `LOGIN %q %q`, srv.MasterLogin("bob"), srv.MasterPassword)
		require.True(t, strings.HasPrefix(status, "OK"), status)
		lines, _ := s.cmd(t, `CAPABILITY`)
		caps := strings.Join(lines, " ")
		for _, c := range []string{"MOVE", "UIDPLUS", "SPECIAL-USE", "LIST-EXTENDED"} {
			assert.Contains(t, caps, c)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		s := dial(t, srv.Addr)
		_, status := s.cmd(t, `LOGIN alice wrong`)
		assert.True(t, strings.HasPrefix(status, "NO"), status)
	})

	t.Run("add user", func(t *testing.T) {
		require.NoError(t, srv.AddUser(context.Background(), "dave", "pw-dave"))
		s := dial(t, srv.Addr)
		_, status := s.cmd(t, `LOGIN dave pw-dave`)
		require.True(t, strings.HasPrefix(status, "OK"), status)
	})

	t.Run("doveadm and maildir", func(t *testing.T) {
		out, err := srv.Doveadm(context.Background(), "user", "*")
		require.NoError(t, err)
		assert.Subset(t, strings.Fields(string(out)), []string{"alice", "bob"})

		raw := []byte("Message-ID: <x1@example.test>\r\nSubject: on disk\r\n\r\nbody\r\n")
		require.NoError(t, srv.WriteMaildir("bob", "Junk", [][]byte{raw, raw}))
		out, err = srv.Doveadm(context.Background(), "search", "-u", "bob", "mailbox", "Junk", "header", "message-id", "x1@example.test")
		require.NoError(t, err)
		assert.Len(t, strings.Split(strings.TrimSpace(string(out)), "\n"), 2)
	})
}

// lmtpSend delivers raw to rcpts over LMTP with raw commands and returns
// the per-recipient replies after DATA.
func lmtpSend(t *testing.T, addr string, rcpts []string, raw string) []string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	readReply := func() string {
		var last string
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			last = strings.TrimRight(line, "\r\n")
			if len(last) < 4 || last[3] != '-' {
				return last
			}
		}
	}
	require.True(t, strings.HasPrefix(readReply(), "220"))
	cmd := func(c string) string {
		_, err := fmt.Fprintf(conn, "%s\r\n", c)
		require.NoError(t, err)
		return readReply()
	}
	require.True(t, strings.HasPrefix(cmd("LHLO test"), "250"))
	require.True(t, strings.HasPrefix(cmd("MAIL FROM:<sender@example.org>"), "250"))
	for _, rc := range rcpts {
		reply := cmd("RCPT TO:<" + rc + ">")
		require.True(t, strings.HasPrefix(reply, "250"), "%s: %s", rc, reply)
	}
	require.True(t, strings.HasPrefix(cmd("DATA"), "354"))
	_, err = fmt.Fprintf(conn, "%s.\r\n", raw)
	require.NoError(t, err)
	var out []string
	for range rcpts {
		out = append(out, readReply())
	}
	return out
}

func TestLMTP(t *testing.T) {
	srv := dovecot.Start(t, &dovecot.Options{LMTP: true, Users: map[string]string{"alice": "pw-alice", "bob": "pw-bob"}})
	require.NotEmpty(t, srv.LMTPAddr)
	raw := "From: sender@example.org\r\nSubject: lmtp\r\nMessage-ID: <lmtp-1@example.org>\r\n\r\nhello\r\n"
	replies := lmtpSend(t, srv.LMTPAddr, []string{"alice@example.com", "bob+Quarantine@example.com"}, raw)
	for _, r := range replies {
		assert.True(t, strings.HasPrefix(r, "250"), r)
	}
	count := func(user, folder string) string {
		out, err := srv.Doveadm(context.Background(), "mailbox", "status", "-u", user, "messages", folder)
		require.NoError(t, err)
		return strings.TrimPrefix(strings.TrimSpace(string(out)), folder+" ")
	}
	assert.Equal(t, "messages=1", count("alice", "INBOX"))
	assert.Equal(t, "messages=0", count("bob", "INBOX"))
	assert.Equal(t, "messages=1", count("bob", dovecot.QuarantineFolder), "the detail names the folder")

	// Stopped, LMTP refuses connections; restarted, it delivers again.
	srv.Stop()
	_, err := net.DialTimeout("tcp", srv.LMTPAddr, time.Second)
	require.Error(t, err)
	require.NoError(t, srv.Restart())
	replies = lmtpSend(t, srv.LMTPAddr, []string{"alice@example.com"}, raw)
	assert.True(t, strings.HasPrefix(replies[0], "250"), replies[0])
	assert.Equal(t, "messages=2", count("alice", "INBOX"))
}
