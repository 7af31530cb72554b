package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/internal/testenv/radicale"
	"github.com/eradicate-dev/eradicate/internal/testenv/testlog"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// TestServeDovecotRadicale is the operator's story on real servers:
// `eradicate serve` over a real Dovecot (master user) and a real Radicale
// (admin user), configured by one TOML file with the secrets in the
// environment. The invite campaign was delivered and its invites applied
// to the calendars by the invite processor, as delivery does.
func TestServeDovecotRadicale(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	log := testlog.Logger(t, slog.LevelWarn)
	users := []string{"alice@corp.example", "bob@corp.example", "carol@corp.example"}
	dove, mail := startDovecot(t, users)
	rad := radicale.Start(t, nil)
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}

	// Delivery, as the mail server and the invite processor do it.
	cal, err := caldavstore.New(rad.URL, caldavstore.Admin(radicale.AdminUser, rad.AdminPassword),
		&caldavstore.Options{AllowInsecure: true, Home: caldavstore.HomeUnder("/"), ProvenanceKey: key, Logger: log})
	require.NoError(t, err)
	proc := imipproc.New(mail, cal, &imipproc.Options{Logger: log})
	for _, u := range users {
		_, err := cal.EnsureCalendar(ctx, u, "calendar", "Calendar")
		require.NoError(t, err)
		addr, err := mail.Append(ctx, u, mailbox.In(mailbox.RoleInbox), []byte(inviteEML("campaign@evil.example", users...)), nil)
		require.NoError(t, err)
		out, err := proc.Deliver(ctx, addr)
		require.NoError(t, err)
		require.Len(t, out, 1)
		require.Equal(t, calendar.ActionCreated, out[0].Action, u)
		_, err = mail.Append(ctx, u, mailbox.In(mailbox.RoleInbox), []byte(plainEML("payroll@evil.example", "Payroll", users...)), nil)
		require.NoError(t, err)
		_, err = mail.Append(ctx, u, mailbox.In(mailbox.RoleQuarantine), []byte(plainEML("statement@bank.example", "Your statement", users...)), nil)
		require.NoError(t, err)
	}
	for _, u := range users[:2] {
		_, err = mail.Append(ctx, u, mailbox.In(mailbox.RoleInbox), []byte(plainEML("invoice@evil.example", "Invoice", users[0], users[1])), nil)
		require.NoError(t, err)
	}

	dir := t.TempDir()
	ids := newIdentities(t)
	config := filepath.Join(dir, "eradicate.toml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen = %q
journal = %q

[imap]
addr = %q
security = "insecure"
master_user = %q
mailboxes = ["%s"]

[caldav]
url = %q
admin_user = %q
home_prefix = "/"
allow_insecure = true

[hunt]
index = %q
crawl_interval = "500ms"
narrow = true
max_age = "1h"
`, freeAddr(t), filepath.Join(dir, "journal"), dove.Addr, dove.MasterUser, strings.Join(users, `", "`), rad.URL, radicale.AdminUser, filepath.Join(dir, "hunt.db"))+tokensTOML(ids)), 0o600))

	s := startServe(t, config,
		"ERADICATE_IMAP_PASSWORD="+dove.MasterPassword,
		"ERADICATE_CALDAV_PASSWORD="+rad.AdminPassword,
		"ERADICATE_PROVENANCE_KEY="+hex.EncodeToString(key))
	e2e(t, s, ids, users)
	require.NoError(t, s.stop(), "%s", s.logs.String())

	// The servers agree: the campaign is purged and its entries are gone.
	for _, u := range users {
		entries, err := cal.Find(ctx, u, calendar.Query{UID: "campaign@evil.example-event"})
		require.NoError(t, err)
		require.Empty(t, entries, "%s still has the campaign's entry", u)
	}
}

// startDovecot starts Dovecot with a mailbox for each of users and returns
// it with a store that reaches every mailbox as its master user, closed
// when the test ends.
func startDovecot(t *testing.T, users []string) (*dovecot.Server, *imapstore.Store) {
	t.Helper()
	imapUsers := map[string]string{}
	for _, u := range users {
		imapUsers[u] = "pw-" + u
	}
	dove := dovecot.Start(t, &dovecot.Options{Users: imapUsers})
	mail, err := imapstore.New(imapstore.Config{Addr: dove.Addr, Security: imapstore.SecurityInsecure,
		Master:    &imapstore.MasterUser{User: dove.MasterUser, Password: imapstore.Password(dove.MasterPassword)},
		Mailboxes: users, Logger: testlog.Logger(t, slog.LevelWarn)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mail.Close() })
	return dove, mail
}
