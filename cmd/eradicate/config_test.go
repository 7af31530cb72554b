package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/remediation"
)

// TestConfigValidation: the keys of automation, compaction, PostgreSQL,
// the journal key and OIDC are checked with clear errors, and their
// defaults filled in.
func TestConfigValidation(t *testing.T) {
	dir := t.TempDir()
	tokens := tokensTOML(newIdentities(t))
	mockStore := "[mock]\nusers=[\"a@b.c\"]\n"
	tapSection := "[tap]\nlisten=\"127.0.0.1:2424\"\ndownstream=\"append\"\n"
	write := func(s string) string {
		f, err := os.CreateTemp(dir, "*.toml")
		require.NoError(t, err)
		_, err = f.WriteString(s)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		return f.Name()
	}
	for name, c := range map[string]struct{ config, err string }{
		"automation without tap":       {mockStore + "[automation]\nkinds=[\"files\"]\n" + tokens, "[automation] needs [tap]"},
		"automation without kinds":     {mockStore + tapSection + "[automation]\n" + tokens, "[automation] needs kinds"},
		"automation unknown kind":      {mockStore + tapSection + "[automation]\nkinds=[\"files\",\"smell\"]\n" + tokens, `unknown kind "smell"`},
		"automation hard delete":       {mockStore + tapSection + "[automation]\nkinds=[\"files\"]\naction=\"hard_delete\"\n" + tokens, "only soft_delete and quarantine"},
		"automation quarantine other":  {mockStore + tapSection + "[automation]\nkinds=[\"files\"]\nquarantine_kinds=[\"urls\"]\n" + tokens, "quarantine_kinds must be among kinds"},
		"automation negative cap":      {mockStore + tapSection + "[automation]\nkinds=[\"files\"]\nsize_cap=-1\n" + tokens, "size_cap -1"},
		"automation negative cooldown": {mockStore + tapSection + "[automation]\nkinds=[\"files\"]\ncooldown=\"-1h\"\n" + tokens, "cooldown -1h0m0s"},
		"compact negative":             {mockStore + "[compact]\nretention=\"-1h\"\n" + tokens, "must not be negative"},
		"postgres and journal":         {"journal=\"/tmp/j\"\n" + mockStore + "[postgres]\ndsn=\"postgres://x@127.0.0.1/db\"\n" + tokens, "set one"},
		"postgres without dsn":         {mockStore + "[postgres]\nschema=\"e\"\n" + tokens, "ERADICATE_POSTGRES_DSN"},
		"postgres bad dsn":             {mockStore + "[postgres]\ndsn=\"postgres://u:hunter2@[::1\"\n" + tokens, "not a PostgreSQL URL"},
		"postgres negative lease":      {mockStore + "[postgres]\ndsn=\"postgres://x@127.0.0.1/db\"\nlease_timeout=\"-1s\"\n" + tokens, "lease_timeout -1s"},
		"key without journal":          {"journal_key=\"/tmp/k\"\n" + mockStore + tokens, "journal_key needs journal"},
		"imap without journal":         {"[imap]\naddr=\"127.0.0.1:143\"\nmaster_user=\"m\"\nmaster_password=\"p\"\n" + tokens, "or [postgres] is required"},
		"oidc without audience":        {mockStore + "[oidc]\nissuer=\"https://login.example\"\n[oidc.roles]\nsoc=[\"analyst\"]\n", "audience"},
		"oidc bad issuer":              {mockStore + "[oidc]\nissuer=\"login.example\"\naudience=\"e\"\n[oidc.roles]\nsoc=[\"analyst\"]\n", "issuer"},
		"oidc without roles":           {mockStore + "[oidc]\nissuer=\"https://login.example\"\naudience=\"e\"\n", "needs roles"},
		"oidc unknown role":            {mockStore + "[oidc]\nissuer=\"https://login.example\"\naudience=\"e\"\n[oidc.roles]\nsoc=[\"root\"]\n", `unknown role "root"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(write(c.config))
			require.ErrorContains(t, err, c.err)
			assert.NotContains(t, err.Error(), "hunter2", "a password in the DSN is never repeated")
		})
	}

	// Valid, with defaults and the environment's secrets.
	t.Setenv("ERADICATE_POSTGRES_DSN", "postgres://eradicate@127.0.0.1:5432/eradicate")
	t.Setenv("ERADICATE_POSTGRES_PASSWORD", "s3cret")
	cfg, err := loadConfig(write(mockStore + tapSection + "[automation]\nkinds=[\"files\",\"urls\"]\naction=\"quarantine\"\n" +
		"[compact]\n[postgres]\ndsn=\"postgres://other@127.0.0.1/x\"\n[oidc]\nissuer=\"https://login.example\"\naudience=\"e\"\n[oidc.roles]\nsoc=[\"analyst\"]\n"))
	require.NoError(t, err, "OIDC alone may authenticate")
	assert.Equal(t, 24*time.Hour, cfg.Compact.Interval)
	assert.Zero(t, cfg.Compact.Retention)
	pc, err := cfg.Postgres.poolConfig()
	require.NoError(t, err)
	assert.Equal(t, "eradicate", pc.ConnConfig.User, "the environment's DSN")
	assert.Equal(t, "s3cret", pc.ConnConfig.Password)
	o, err := cfg.Automation.options()
	require.NoError(t, err)
	assert.Equal(t, cluster.KindFile|cluster.KindURL, o.Kinds)
	assert.Equal(t, remediation.Quarantine, o.Action)
}

// TestInitJournalKey: init -journal-key writes a key and names it in the
// config; a second init does not overwrite either.
func TestInitJournalKey(t *testing.T) {
	dir := t.TempDir()
	path, key := filepath.Join(dir, "eradicate.toml"), filepath.Join(dir, "journal.key")
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"init", "-o", path, "-journal-key", key}, &out, &errb))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "\njournal_key = \""+key+"\"\n")
	st, err := os.Stat(key)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.Error(t, run(context.Background(), []string{"init", "-o", path, "-journal-key", filepath.Join(dir, "k2")}, &out, &errb))
	_, err = os.Stat(filepath.Join(dir, "k2"))
	assert.True(t, os.IsNotExist(err), "no key is written for a config that is not")
	// Without the flag the line stays a comment.
	p2 := filepath.Join(dir, "b.toml")
	require.NoError(t, run(context.Background(), []string{"init", "-o", p2}, &out, &errb))
	raw, err = os.ReadFile(p2)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(raw), "\n# journal_key = "))
}
