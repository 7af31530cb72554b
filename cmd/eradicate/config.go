package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/automation"
)

// serveConfig is the one configuration file of `eradicate serve` (TOML). Secrets
// may be left out of the file and given in the environment instead:
// ERADICATE_IMAP_PASSWORD, ERADICATE_CALDAV_PASSWORD and
// ERADICATE_PROVENANCE_KEY override the file's.
type serveConfig struct {
	// Listen is the address the API listens on; default 127.0.0.1:8750.
	Listen string `toml:"listen"`
	// TLSCert and TLSKey are PEM files; with both set the API is served
	// over TLS.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// InsecureListen allows plain HTTP on an address that is not loopback
	// (behind a TLS-terminating proxy). Without it such a config is
	// refused.
	InsecureListen bool `toml:"insecure_listen"`
	// ExternalURL is the API's root as clients reach it (behind a proxy),
	// e.g. "https://mailsec.example.com"; Location headers begin with it.
	// "" builds them from each request's scheme and Host.
	ExternalURL string `toml:"external_url"`
	// Journal is the action center's file; "" keeps it in memory (only
	// with the mock tenant), or, with [postgres], in PostgreSQL.
	Journal string `toml:"journal"`
	// JournalKey is the key file of the journal's tamper-evident chain
	// (journal.WriteKeyFile; `eradicate init` writes one): every entry
	// is sealed with an HMAC, and `eradicate verify` checks the chain.
	// "" seals nothing. A journal written without a key does not open
	// with one.
	JournalKey string `toml:"journal_key"`
	// RulesFile is where the detection rules are saved (JSON); "" keeps
	// them in the events index when [hunt] is set (beside the cluster
	// index's memory), else in memory only.
	RulesFile string `toml:"rules_file"`
	// LogLevel is debug, info, warn or error; default info.
	LogLevel string `toml:"log_level"`
	// RateLimit and RateBurst bound the calls of each identity (per
	// second, sustained, and at once); 0 takes the API's defaults and a
	// negative RateLimit turns the limit off.
	RateLimit float64 `toml:"rate_limit"`
	RateBurst int     `toml:"rate_burst"`

	Engine engineConfig  `toml:"engine"`
	IMAP   *imapConfig   `toml:"imap"`
	Tap    *tapConfig    `toml:"tap"`
	CalDAV *caldavConfig `toml:"caldav"`
	Mock   *mockConfig   `toml:"mock"`
	Hunt   *huntConfig   `toml:"hunt"`
	// Postgres keeps the action center in PostgreSQL instead of Journal,
	// shared by several serve processes.
	Postgres *postgresConfig `toml:"postgres"`
	// Compact rewrites the journal periodically.
	Compact *compactConfig `toml:"compact"`
	// Automation remediates the clusters of messages the detection
	// rules caught at the tap.
	Automation *automationConfig `toml:"automation"`
	// OIDC authenticates API calls by JWTs of an OpenID Connect issuer.
	OIDC   *oidcConfig   `toml:"oidc"`
	Tokens []tokenConfig `toml:"token"`
	// ClientCA is a PEM file of the CAs whose client certificates
	// authenticate ClientCerts (needs TLS).
	ClientCA    string             `toml:"client_ca"`
	ClientCerts []clientCertConfig `toml:"client_cert"`

	// Cluster tunes the campaign clustering of delivered mail (with
	// [tap]): cluster.Options.
	Cluster clusterConfig `toml:"cluster"`
}

// clientCertConfig is one API identity authenticated by a TLS client
// certificate whose subject common name is Name.
type clientCertConfig struct {
	Name  string   `toml:"name"`
	Roles []string `toml:"roles"`
}

// engineConfig configures the remediation engine.
type engineConfig struct {
	BlastRadius          int    `toml:"blast_radius"`
	EvidenceOnHardDelete bool   `toml:"evidence_on_hard_delete"`
	FourEyes             string `toml:"four_eyes"`
	Workers              int    `toml:"workers"`
}

// tapConfig is the delivery tap: an LMTP server between the MTA and the
// mail server that runs the detection rules before mail lands.
type tapConfig struct {
	Listen string `toml:"listen"` // where the MTA delivers (LMTP); loopback or a trusted network
	// Downstream is the mail server's LMTP address (host:port), or
	// "append" to store messages through the mail store (IMAP APPEND, or
	// the mock tenant).
	Downstream     string `toml:"downstream"`
	ProcessInvites bool   `toml:"process_invites"` // apply invites to the calendars (needs [caldav], or the mock)
	TempFail       bool   `toml:"temp_fail"`       // on eradicate's own failure answer 451 instead of delivering unchanged
}

// huntConfig is the email events index: a crawler keeps it up to date
// with the mail store, GET .../analyzedEmails and `eradicate hunt` read it,
// and actions selected by criteria open only the mailboxes it places copies
// in.
type huntConfig struct {
	// Index is the SQLite file of the index; required.
	Index string `toml:"index"`
	// CrawlInterval is the time between two crawls; default 5m.
	CrawlInterval time.Duration `toml:"crawl_interval"`
	// Narrow makes actions selected by criteria open only the mailboxes
	// the index places a copy in, plus those whose last crawl is older
	// than MaxAge and whose folders (read with IMAP STATUS) changed since
	// that crawl (hunt.Narrower). Off by default: mail that reaches a
	// mailbox other than through [tap] is in the index only after the
	// next crawl, so a narrowed action skips it in a mailbox crawled less
	// than MaxAge ago; MaxAge 0 closes that window (every mailbox's
	// folder states are read instead).
	Narrow bool `toml:"narrow"`
	// MaxAge is how old a mailbox's last crawl may be for a narrowed
	// action to skip it when the index holds no copy there; default
	// twice CrawlInterval; "0s" trusts no crawl by its age alone.
	MaxAge time.Duration `toml:"max_age"`
	// maxAgeSet says the file gives max_age (so that "0s" is zero, not
	// the default).
	maxAgeSet bool
	// Retention is how long the index keeps copies gone from their
	// mailbox; default 720h (30 days); a negative value keeps them.
	Retention time.Duration `toml:"retention"`
}

// postgresConfig is the action center in PostgreSQL (package pgjournal):
// several serve processes on one schema share it, and leases make sure
// that one action, and one mailbox, is worked on by one of them at a time.
type postgresConfig struct {
	// DSN names the database: a URL or key=value string (pgx);
	// ERADICATE_POSTGRES_DSN overrides it.
	DSN string `toml:"dsn"`
	// Password is the database password, when the DSN has none;
	// ERADICATE_POSTGRES_PASSWORD overrides it.
	Password string `toml:"password"`
	// Schema holds the journal's tables; default "eradicate".
	Schema string `toml:"schema"`
	// Holder names this process in the leases; default host name,
	// process id and a random suffix. Each process needs its own.
	Holder string `toml:"holder"`
	// LeaseTimeout is how long a stopped process's leases last before
	// another takes its work over; default 30s.
	LeaseTimeout time.Duration `toml:"lease_timeout"`
}

// compactConfig runs remediation.Engine.Compact periodically.
type compactConfig struct {
	// Interval is the time between two compactions; default 24h. The
	// first runs one interval after the start.
	Interval time.Duration `toml:"interval"`
	// Retention is how long finished actions stay in the action
	// center; 0 (the default) keeps them all and removes only what no
	// finished action needs (superseded snapshots, intents).
	Retention time.Duration `toml:"retention"`
}

// automationConfig is the automated response (package automation): when a
// detection rule catches a message at the tap, the cluster it belongs to
// (from the tap's cluster index) is remediated, capped and with a
// cooldown, as its kinds allow.
type automationConfig struct {
	// Kinds are the cluster kinds remediated automatically: files, urls,
	// similarity or campaign (all three). Required.
	Kinds []string `toml:"kinds"`
	// Action is soft_delete (the default) or quarantine.
	Action string `toml:"action"`
	// QuarantineKinds are kinds (of Kinds) whose clusters are
	// quarantined instead.
	QuarantineKinds []string `toml:"quarantine_kinds"`
	// SizeCap is the most copies an automated action selects; a larger
	// cluster is proposed for approval. Default 10,000.
	SizeCap int `toml:"size_cap"`
	// Cooldown is how long a message acted on is not acted on again;
	// default 1h.
	Cooldown time.Duration `toml:"cooldown"`
}

// clusterConfig is cluster.Options: 0 keeps a default, a negative value
// turns the rule off.
type clusterConfig struct {
	BoilerplateSubjects int `toml:"boilerplate_subjects"`
}

// imapConfig is the mail server.
type imapConfig struct {
	Addr               string   `toml:"addr"`
	Security           string   `toml:"security"`
	MasterUser         string   `toml:"master_user"`
	MasterPassword     string   `toml:"master_password"`
	Mailboxes          []string `toml:"mailboxes"`
	CreateAdminFolders bool     `toml:"create_admin_folders"`
	QuarantineFolder   string   `toml:"quarantine_folder"`
	RecoverableFolder  string   `toml:"recoverable_folder"`
	EvidenceFolder     string   `toml:"evidence_folder"`
}

// caldavConfig is the calendar server.
type caldavConfig struct {
	URL           string `toml:"url"`
	AdminUser     string `toml:"admin_user"`
	AdminPassword string `toml:"admin_password"`
	HomePrefix    string `toml:"home_prefix"`
	ProvenanceKey string `toml:"provenance_key"`
	AllowInsecure bool   `toml:"allow_insecure"`
}

// mockConfig is the in-memory tenant, for trying eradicate out.
type mockConfig struct {
	Users []string `toml:"users"`
	// Seed is a folder of .eml files delivered at start to their header
	// recipients that are users; those in its subfolder quarantine are
	// delivered to quarantine.
	Seed string `toml:"seed"`
}

// tokenConfig is one API identity.
type tokenConfig struct {
	Name   string   `toml:"name"`
	SHA256 string   `toml:"sha256"`
	Roles  []string `toml:"roles"`
}

// loadConfig reads and validates the config file at path.
func loadConfig(path string) (*serveConfig, error) {
	c, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	return c, c.validate()
}

// readConfig reads the config file at path, with the environment's
// secrets, without validating it.
func readConfig(path string) (*serveConfig, error) {
	var c serveConfig
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return nil, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	if c.Hunt != nil {
		c.Hunt.maxAgeSet = md.IsDefined("hunt", "max_age")
	}
	if c.IMAP != nil {
		if v := os.Getenv("ERADICATE_IMAP_PASSWORD"); v != "" {
			c.IMAP.MasterPassword = v
		}
	}
	if c.CalDAV != nil {
		if v := os.Getenv("ERADICATE_CALDAV_PASSWORD"); v != "" {
			c.CalDAV.AdminPassword = v
		}
		if v := os.Getenv("ERADICATE_PROVENANCE_KEY"); v != "" {
			c.CalDAV.ProvenanceKey = v
		}
	}
	if c.Postgres != nil {
		if v := os.Getenv("ERADICATE_POSTGRES_DSN"); v != "" {
			c.Postgres.DSN = v
		}
		if v := os.Getenv("ERADICATE_POSTGRES_PASSWORD"); v != "" {
			c.Postgres.Password = v
		}
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8750"
	}
	return &c, nil
}

func (c *serveConfig) validate() error {
	if (c.IMAP == nil) == (c.Mock == nil) {
		return errors.New("config: exactly one of [imap] and [mock] is needed")
	}
	if c.Mock != nil && c.CalDAV != nil {
		return errors.New("config: [caldav] goes with [imap]; the mock tenant has its own calendars")
	}
	if c.Postgres != nil {
		if c.Journal != "" {
			return errors.New("config: journal and [postgres] are two places for the action center: set one")
		}
		if c.Postgres.DSN == "" {
			return errors.New("config: [postgres] needs dsn (or ERADICATE_POSTGRES_DSN)")
		}
		if _, err := c.Postgres.poolConfig(); err != nil {
			return err
		}
		if c.Postgres.LeaseTimeout < 0 {
			return fmt.Errorf("config: [postgres] lease_timeout %s must be positive", c.Postgres.LeaseTimeout)
		}
	}
	if c.JournalKey != "" && c.Journal == "" && c.Postgres == nil {
		return errors.New("config: journal_key needs journal or [postgres]: a journal in memory has nothing to verify later")
	}
	if c.Compact != nil {
		if c.Compact.Interval == 0 {
			c.Compact.Interval = 24 * time.Hour
		}
		if c.Compact.Interval < 0 || c.Compact.Retention < 0 {
			return fmt.Errorf("config: [compact] interval %s and retention %s must not be negative", c.Compact.Interval, c.Compact.Retention)
		}
	}
	if c.Automation != nil {
		if c.Tap == nil {
			return errors.New("config: [automation] needs [tap]: it acts on the clusters of the mail the tap sees")
		}
		if _, err := c.Automation.options(); err != nil {
			return err
		}
	}
	if c.IMAP != nil {
		if c.Journal == "" && c.Postgres == nil {
			return errors.New("config: journal (the action center's file) or [postgres] is required with [imap]")
		}
		if c.IMAP.Addr == "" || c.IMAP.MasterUser == "" {
			return errors.New("config: [imap] needs addr and master_user")
		}
		if c.IMAP.MasterPassword == "" {
			return errors.New("config: [imap] needs master_password (or ERADICATE_IMAP_PASSWORD)")
		}
	}
	if c.Tap != nil && (c.Tap.Listen == "" || c.Tap.Downstream == "") {
		return errors.New("config: [tap] needs listen and downstream (the mail server's LMTP host:port, or \"append\")")
	}
	if c.CalDAV != nil {
		if c.CalDAV.URL == "" || c.CalDAV.AdminUser == "" || c.CalDAV.AdminPassword == "" {
			return errors.New("config: [caldav] needs url, admin_user and admin_password (or ERADICATE_CALDAV_PASSWORD)")
		}
		if k, err := hex.DecodeString(c.CalDAV.ProvenanceKey); err != nil || len(k) < 32 {
			return errors.New("config: [caldav] needs provenance_key (or ERADICATE_PROVENANCE_KEY): 64 or more hex digits")
		}
	}
	if c.Hunt != nil {
		if c.Hunt.Index == "" {
			return errors.New("config: [hunt] needs index (the SQLite file of the events index)")
		}
		if c.Hunt.CrawlInterval == 0 {
			c.Hunt.CrawlInterval = 5 * time.Minute
		}
		if c.Hunt.CrawlInterval < 0 {
			return fmt.Errorf("config: [hunt] crawl_interval %s must be positive", c.Hunt.CrawlInterval)
		}
		if c.Hunt.MaxAge == 0 && !c.Hunt.maxAgeSet {
			c.Hunt.MaxAge = 2 * c.Hunt.CrawlInterval
		}
		if c.Hunt.MaxAge < 0 {
			return fmt.Errorf("config: [hunt] max_age %s must be positive", c.Hunt.MaxAge)
		}
	}
	if c.Cluster.BoilerplateSubjects == 1 {
		return errors.New("config: [cluster] boilerplate_subjects must be 2 or more (0: default 3, negative: off); 1 would make every link of a reply boilerplate")
	}
	if c.OIDC != nil {
		if err := c.OIDC.validate(); err != nil {
			return err
		}
	}
	if len(c.Tokens) == 0 && len(c.ClientCerts) == 0 && c.OIDC == nil {
		return errors.New("config: no [[token]]: nobody could call the API (eradicate token makes one)")
	}
	if (c.ClientCA == "") != (len(c.ClientCerts) == 0) {
		return errors.New("config: client_ca and [[client_cert]] go together")
	}
	if c.ClientCA != "" && c.TLSCert == "" {
		return errors.New("config: client certificates need TLS (tls_cert and tls_key)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: tls_cert and tls_key go together")
	}
	if c.TLSCert == "" && !c.InsecureListen {
		loop, err := loopback(c.Listen)
		if err != nil {
			return fmt.Errorf("config: listen %q: %w", c.Listen, err)
		}
		if !loop {
			return fmt.Errorf("config: listen %q is not loopback: set tls_cert and tls_key, or insecure_listen = true behind a TLS proxy", c.Listen)
		}
	}
	_, err := c.authenticator()
	return err
}

// loopback reports whether every address addr's host names is a loopback
// address. An empty host (all interfaces) is not loopback.
func loopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// authenticator returns the API's authenticator: bearer tokens, then
// client certificates, then OIDC JWTs, as configured. It contacts no
// issuer: an OIDC issuer is discovered at the first call that needs it.
func (c *serveConfig) authenticator() (api.Authenticator, error) {
	tokens, err := c.tokens()
	if err != nil {
		return nil, err
	}
	all := api.AnyOf{tokens}
	if len(c.ClientCerts) > 0 {
		var ids []api.Identity
		for _, cc := range c.ClientCerts {
			ids = append(ids, api.Identity{Name: cc.Name, Roles: roles(cc.Roles)})
		}
		certs, err := api.NewClientCerts(ids)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		all = append(all, certs)
	}
	if c.OIDC != nil {
		o, err := api.NewOIDC(c.OIDC.options())
		if err != nil {
			return nil, fmt.Errorf("config: [oidc]: %w", err)
		}
		all = append(all, o)
	}
	if len(all) == 1 {
		return tokens, nil
	}
	return all, nil
}

func roles(names []string) []api.Role {
	rs := make([]api.Role, 0, len(names))
	for _, r := range names {
		rs = append(rs, api.Role(r))
	}
	return rs
}

// oidcConfig authenticates API calls by JWTs an OpenID Connect issuer
// signed (Keycloak, Entra ID, Dex, Authentik...).
type oidcConfig struct {
	// Issuer is the issuer URL; its discovery document names the keys.
	Issuer string `toml:"issuer"`
	// Audience is the audience ("aud") the tokens must be for: the
	// client id of eradicate at the issuer.
	Audience string `toml:"audience"`
	// IdentityClaim is the claim naming the caller; default "sub"
	// ("email" or "preferred_username" read better in the action center).
	IdentityClaim string `toml:"identity_claim"`
	// RolesClaim is the claim whose values Roles maps; default "roles"
	// (Keycloak: "groups" with a group mapper).
	RolesClaim string `toml:"roles_claim"`
	// Roles maps a value of RolesClaim to eradicate roles. A caller
	// with no mapped value is authenticated but may do nothing (403).
	Roles map[string][]string `toml:"roles"`
}

func (o *oidcConfig) options() api.OIDCOptions {
	m := make(map[string][]api.Role, len(o.Roles))
	for k, v := range o.Roles {
		m[k] = roles(v)
	}
	return api.OIDCOptions{Issuer: o.Issuer, Audience: o.Audience, IdentityClaim: o.IdentityClaim, RolesClaim: o.RolesClaim, Roles: m}
}

func (o *oidcConfig) validate() error {
	if _, err := api.NewOIDC(o.options()); err != nil {
		return fmt.Errorf("config: [oidc]: %w", err)
	}
	return nil
}

// poolConfig returns the pgx pool configuration of the DSN, with the
// password set.
func (p *postgresConfig) poolConfig() (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(p.DSN)
	if err != nil {
		// pgx's errors quote the DSN, password included: say less.
		return nil, errors.New("config: [postgres] dsn is not a PostgreSQL URL or key=value string")
	}
	if p.Password != "" {
		pc.ConnConfig.Password = p.Password
	}
	return pc, nil
}

// automationKinds are the cluster kinds as the config and the API name them.
var automationKinds = map[string]cluster.Kind{
	"files": cluster.KindFile, "urls": cluster.KindURL, "similarity": cluster.KindSimilarity, "campaign": cluster.KindCampaign,
}

func parseKinds(key string, names []string) (cluster.Kind, error) {
	var k cluster.Kind
	for _, n := range names {
		v, ok := automationKinds[n]
		if !ok {
			return 0, fmt.Errorf("config: [automation] %s: unknown kind %q (files, urls, similarity or campaign)", key, n)
		}
		k |= v
	}
	return k, nil
}

// options returns the automation options the config names (Logger unset).
func (a *automationConfig) options() (automation.Options, error) {
	var o automation.Options
	var err error
	if o.Kinds, err = parseKinds("kinds", a.Kinds); err != nil {
		return o, err
	}
	if o.Kinds == 0 {
		return o, errors.New("config: [automation] needs kinds: files, urls, similarity or campaign")
	}
	if o.QuarantineKinds, err = parseKinds("quarantine_kinds", a.QuarantineKinds); err != nil {
		return o, err
	}
	if o.QuarantineKinds&^o.Kinds != 0 {
		return o, errors.New("config: [automation] quarantine_kinds must be among kinds")
	}
	switch a.Action {
	case "", string(remediation.SoftDelete):
		o.Action = remediation.SoftDelete
	case string(remediation.Quarantine):
		o.Action = remediation.Quarantine
	default:
		return o, fmt.Errorf("config: [automation] action %q: only soft_delete and quarantine run without a person", a.Action)
	}
	if a.SizeCap < 0 {
		return o, fmt.Errorf("config: [automation] size_cap %d must be positive", a.SizeCap)
	}
	if a.Cooldown < 0 {
		return o, fmt.Errorf("config: [automation] cooldown %s must be positive", a.Cooldown)
	}
	o.SizeCap, o.Cooldown = a.SizeCap, a.Cooldown
	return o, nil
}

// clientTLS is the server's TLS config for client certificates; nil when
// none are configured.
func (c *serveConfig) clientTLS() (*tls.Config, error) {
	if c.ClientCA == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.ClientCA)
	if err != nil {
		return nil, fmt.Errorf("config: client_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("config: client_ca %s holds no PEM certificate", c.ClientCA)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}, nil
}

func (c *serveConfig) tokens() (*api.Tokens, error) {
	toks := make([]api.Token, 0, len(c.Tokens))
	for _, t := range c.Tokens {
		toks = append(toks, api.Token{Name: t.Name, SHA256: t.SHA256, Roles: roles(t.Roles)})
	}
	a, err := api.NewTokens(toks)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return a, nil
}

// sampleConfig is what `eradicate init` writes; the first %s is the
// journal_key line, the second the admin token's hash.
const sampleConfig = `# eradicate.toml: the configuration of "eradicate serve".
# Secrets may stay out of this file: ERADICATE_IMAP_PASSWORD,
# ERADICATE_CALDAV_PASSWORD and ERADICATE_PROVENANCE_KEY override it.

# Where the API listens. Plain HTTP is allowed on loopback only, unless
# insecure_listen = true (behind a TLS-terminating proxy); elsewhere set
# tls_cert and tls_key.
listen = "127.0.0.1:8750"
# tls_cert = "/etc/eradicate/tls/cert.pem"
# tls_key = "/etc/eradicate/tls/key.pem"
# insecure_listen = false
# The API's URL as clients reach it (behind a proxy); Location headers
# begin with it. Unset, they are built from each request's Host.
# external_url = "https://mailsec.example.com"

# The action center's journal (crash-safe; actions resume at start).
journal = "/var/lib/eradicate/journal"
# Tamper evidence: every entry is sealed with an HMAC chain keyed by this
# file ("eradicate init -journal-key FILE" writes one, readable by its owner
# only); serve logs the chain's head ("journal head") at start, once a minute
# while it changes, after each compaction and at stop: ship those lines off
# the host. "eradicate verify -heads <log>" checks the chain and that no
# entry was cut off. A journal written without a key does not open with one.
%s
# The detection rules, saved after every change through the API (without
# rules_file they are kept in the [hunt] index, or in memory only).
rules_file = "/var/lib/eradicate/rules.json"
log_level = "info"
# Calls per second each API identity may make (sustained, and at once).
rate_limit = 50
rate_burst = 1000

[engine]
# Selections above this many copies need "confirm"; -1 turns the check off.
blast_radius = 10000
# Keep an admin-only evidence copy of hard-deleted messages.
evidence_on_hard_delete = false
# Which proposals need a second person: default (hard deletes and those
# above the blast radius), all, or off. The API never lets anyone approve
# their own proposal.
four_eyes = "default"

# Instead of journal: the action center in PostgreSQL, shared by several
# "eradicate serve" processes (each action, and each mailbox, is worked on
# by one of them at a time; a stopped process's work is taken over after
# lease_timeout).
# [postgres]
# dsn = "postgres://eradicate@db.example.com/eradicate?sslmode=verify-full"  # or ERADICATE_POSTGRES_DSN
# password = ""             # or ERADICATE_POSTGRES_PASSWORD
# schema = "eradicate"
# holder = ""               # default: host name, process id, random suffix
# lease_timeout = "30s"

# Compaction of the journal: it only grows until compacted.
[compact]
interval = "24h"
# Finished actions older than this are removed (no longer listed or
# undoable); 0 keeps them all and removes only what no finished action needs.
retention = "2160h"         # 90 days

# Automated response (needs [tap]): when a detection rule catches a message
# at the tap, the cluster of related messages it belongs to is remediated
# without a person, as Defender's AIR does: soft-deleted (or quarantined),
# capped at size_cap copies (a bigger cluster is proposed for approval),
# never twice within cooldown; recorded as decided by "automation" and
# undoable like any action.
# [automation]
# kinds = ["files", "urls"]  # files, urls, similarity, campaign (all three)
# action = "soft_delete"     # or "quarantine"
# quarantine_kinds = []      # kinds (of kinds) quarantined instead
# size_cap = 10000
# cooldown = "1h"

# The mail server: IMAP with MOVE and UIDPLUS, and a master user that logs
# in as every mailbox owner (Dovecot: a passdb with master = yes).
[imap]
addr = "127.0.0.1:993"
security = "tls"            # tls, starttls, or insecure (loopback only)
master_user = "eradicate-admin"
master_password = ""        # or ERADICATE_IMAP_PASSWORD
mailboxes = ["alice@example.com", "bob@example.com"]
create_admin_folders = true # quarantine, recoverable items, evidence

# The calendar server (optional): invite-created entries are removed on
# hard delete. Radicale: an admin user with rights on every collection.
# [caldav]
# url = "https://cal.example.com/"
# admin_user = "eradicate-admin"
# admin_password = ""       # or ERADICATE_CALDAV_PASSWORD
# home_prefix = "/"         # Radicale: /<owner>/
# provenance_key = ""       # 64+ hex digits, or ERADICATE_PROVENANCE_KEY

# The delivery tap (optional): Postfix delivers to it over LMTP, it runs the
# detection rules (quarantine, junk) before mail lands and passes every
# message on to the mail server's LMTP. See docs/tap.
# [tap]
# listen = "127.0.0.1:2424"
# downstream = "127.0.0.1:24"  # Dovecot's LMTP; or "append" (IMAP APPEND)
# process_invites = false      # true: apply invites to [caldav] calendars
# temp_fail = false            # true: 451 on eradicate's own failures

# Campaign clustering of delivered mail (with [tap]). A link that one From
# address puts in its replies and forwards under boilerplate_subjects
# distinct subjects (a signature link) joins no messages; -1 turns it off.
# [cluster]
# boilerplate_subjects = 3

# The email events index (optional): one row per delivered copy, kept up
# to date by a crawler that reads only new mail. GET .../analyzedEmails
# ($filter, $top) and "eradicate hunt" read it, and an action selected by
# criteria can open only the mailboxes that hold copies (narrow); each copy
# is still verified on the server before anything is done to it.
[hunt]
index = "/var/lib/eradicate/hunt.db"  # SQLite, one file
crawl_interval = "5m"
retention = "720h"                    # keep copies gone from their mailbox 30 days
# narrow = true: actions selected by criteria open only the mailboxes the
# index places copies in, plus every mailbox crawled longer than max_age
# ago whose folders (IMAP STATUS) changed since. Faster at scale. Mail
# delivered through [tap] is in the index at once; other mail only after
# the next crawl, so a narrowed action misses it in a mailbox crawled
# less than max_age ago: max_age = "0s" trusts no crawl by its age alone.
# Off by default.
# narrow = false
# max_age = "10m"                     # default: twice crawl_interval

# Instead of [imap]: the in-memory tenant, to try eradicate out.
# [mock]
# users = ["alice@example.com", "bob@example.com"]
# seed = "./mail"           # .eml files delivered at start (./mail/quarantine/*.eml: held)

# Identities may also be TLS client certificates (needs tls_cert): the
# certificate's subject common name is the name.
# client_ca = "/etc/eradicate/tls/clients-ca.pem"
# [[client_cert]]
# name = "soar-playbook"
# roles = ["analyst"]

# Identities may also be JWTs of an OpenID Connect issuer (Keycloak, Entra
# ID, Dex...): signature, issuer, audience and expiry are checked; the
# identity_claim names the caller, the values of roles_claim map to roles.
# A caller with no mapped value may do nothing (403).
# [oidc]
# issuer = "https://login.example.com/realms/corp"
# audience = "eradicate"      # the API's client id at the issuer
# identity_claim = "email"    # default "sub"
# roles_claim = "groups"      # a string or a list of strings; default "roles"
# [oidc.roles]
# "soc-analysts" = ["analyst"]
# "soc-leads" = ["analyst", "approver"]
# "mail-admins" = ["admin"]

# API identities. Tokens are stored as their SHA-256; "eradicate token"
# makes new ones. Roles: reader, analyst (dry runs, proposals, reversible
# actions, undo), approver (approve, decline), admin (everything).
[[token]]
name = "admin"
sha256 = "%s"
roles = ["admin"]
`
