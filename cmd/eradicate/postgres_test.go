package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// TestServePostgres: two `eradicate serve` processes over one Dovecot share
// one action center in PostgreSQL (the DSN's password from the
// environment). Each lists the other's actions; the same soft delete asked
// of both at once moves every copy exactly once (leases keep the engines
// off each other's mailboxes: none is left behind or moved twice); an
// action of a process killed mid-run is finished by the other once its
// leases expire; the shared, sealed journal verifies.
func TestServePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	users := []string{"alice@corp.example", "bob@corp.example", "carol@corp.example"}
	dove, mail := startDovecot(t, users)
	pg := postgres.Start(t, nil)
	dsn, err := url.Parse(pg.CreateDatabase(t))
	require.NoError(t, err)
	dsn.User = url.User(pg.User) // the password comes from the environment

	deliver := func(domain string, n int) {
		for _, u := range users {
			for i := range n {
				raw := fmt.Sprintf("From: billing@%s\r\nTo: %s\r\nSubject: Invoice %d\r\nMessage-ID: <inv-%d@%s>\r\n"+
					"Date: Mon, 07 Dec 2026 09:00:00 +0000\r\n\r\nPay now.\r\n", domain, u, i, i, domain)
				_, err := mail.Append(ctx, u, mailbox.In(mailbox.RoleInbox), []byte(raw), nil)
				require.NoError(t, err)
			}
		}
	}
	// where counts the copies from domain by folder, over every mailbox.
	where := func(domain string) map[string]int {
		got := map[string]int{}
		for _, u := range users {
			for m, err := range mail.Search(ctx, u, mailbox.Criteria{SenderDomains: []string{domain}}) {
				require.NoError(t, err)
				got[m.Address.Folder]++
			}
		}
		return got
	}
	const perUser = 40
	deliver("evil.example", perUser)

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "journal.key")
	_, err = journal.WriteKeyFile(keyFile)
	require.NoError(t, err)
	ids := newIdentities(t)
	configFor := func(name string) string {
		p := filepath.Join(dir, name+".toml")
		require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf(`listen = %q
journal_key = %q
[postgres]
dsn = %q
holder = %q
lease_timeout = "2s"
[imap]
addr = %q
security = "insecure"
master_user = %q
mailboxes = ["%s"]
create_admin_folders = true
`, freeAddr(t), keyFile, dsn.String(), name, dove.Addr, dove.MasterUser, strings.Join(users, `", "`))+tokensTOML(ids)), 0o600))
		return p
	}
	env := []string{"ERADICATE_IMAP_PASSWORD=" + dove.MasterPassword, "ERADICATE_POSTGRES_PASSWORD=" + pg.Password}
	cfgA, cfgB := configFor("serve-a"), configFor("serve-b")
	a, b := startServe(t, cfgA, env...), startServe(t, cfgB, env...)
	analyst := ids["analyst"].token
	client := func(s *server) *apiClient {
		return &apiClient{base: s.url, token: analyst, hc: &http.Client{Timeout: time.Minute}}
	}
	start := func(s *server, domain string) string {
		var rec remediation.Record
		resp, err := client(s).call(ctx, "POST", "/eradicate/v1/actions", api.ActionRequest{Action: remediation.SoftDelete, Confirm: true,
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{domain}}}}, &rec)
		require.NoError(t, err)
		return resp.Header.Get("Location")
	}

	// The same soft delete, asked of both at once.
	var recs [2]*remediation.Record
	var wg sync.WaitGroup
	for i, s := range []*server{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loc := start(s, "evil.example")
			rec, err := client(s).wait(ctx, loc, nil)
			assert.NoError(t, err)
			recs[i] = rec
		}()
	}
	wg.Wait()
	require.NotNil(t, recs[0])
	require.NotNil(t, recs[1])
	total := int64(len(users) * perUser)
	assert.Equal(t, total, recs[0].Counts.Succeeded+recs[1].Counts.Succeeded,
		"every copy moved by exactly one of them: %+v / %+v", recs[0].Counts, recs[1].Counts)
	assert.Zero(t, recs[0].Counts.Failed+recs[1].Counts.Failed)
	got := where("evil.example")
	assert.Equal(t, map[string]int{"Recoverable Items": int(total)}, got, "none left behind, none copied twice")

	// One action center: each process lists the other's action.
	for _, s := range []*server{a, b} {
		var list api.ActionList
		_, err := client(s).call(ctx, "GET", "/eradicate/v1/actions", nil, &list)
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, r := range list.Value {
			seen[r.ID] = true
		}
		assert.True(t, seen[recs[0].ID] && seen[recs[1].ID], "%s lists both actions", s.url)
	}

	// A process killed mid-action: the other finishes it once the
	// leases have expired.
	deliver("evil2.example", 150)
	loc := start(a, "evil2.example")
	a.kill()
	_, id, _ := strings.Cut(loc, "/actions/")
	rec := &remediation.Record{}
	_, err = client(b).call(ctx, "GET", "/eradicate/v1/actions/"+id, nil, rec)
	require.NoError(t, err)
	interrupted := !rec.Status.Final()
	eventually(t, "the other process finishes the action", func() bool {
		rec = &remediation.Record{}
		_, err := client(b).call(ctx, "GET", "/eradicate/v1/actions/"+id, nil, rec)
		require.NoError(t, err)
		return rec.Status.Final()
	})
	assert.Equal(t, remediation.StatusCompleted, rec.Status, "%+v", rec)
	assert.Equal(t, map[string]int{"Recoverable Items": len(users) * 150}, where("evil2.example"))
	if interrupted {
		assert.Contains(t, b.logs.String(), "msg=resumed id="+id, "the other process resumed it")
	} else {
		t.Log("the action finished before the kill; nothing to resume")
	}
	require.NoError(t, b.stop(), "%s", b.logs.String())

	// The shared journal is sealed with one key and verifies.
	t.Setenv("ERADICATE_POSTGRES_PASSWORD", pg.Password)
	rep, _, err := runVerify(t, "-config", cfgB)
	require.NoError(t, err, "%+v", rep)
	assert.True(t, rep.OK)
	assert.Positive(t, rep.Entries)
}
