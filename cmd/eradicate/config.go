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

	"github.com/eradicate-dev/eradicate/api"
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
	// with the mock tenant).
	Journal string `toml:"journal"`
	// RulesFile is where the detection rules are saved (JSON); "" keeps
	// them in memory only.
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
	// than MaxAge (hunt.Narrower). Off by default: nothing feeds the index
	// at delivery yet, so mail delivered since a mailbox's last crawl is
	// not in it, and a narrowed action skips it in a mailbox crawled less
	// than MaxAge ago.
	Narrow bool `toml:"narrow"`
	// MaxAge is how old a mailbox's last crawl may be for a narrowed
	// action to skip it when the index holds no copy there; default
	// twice CrawlInterval.
	MaxAge time.Duration `toml:"max_age"`
	// Retention is how long the index keeps copies gone from their
	// mailbox; default 720h (30 days); a negative value keeps them.
	Retention time.Duration `toml:"retention"`
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

func loadConfig(path string) (*serveConfig, error) {
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
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8750"
	}
	return &c, c.validate()
}

func (c *serveConfig) validate() error {
	if (c.IMAP == nil) == (c.Mock == nil) {
		return errors.New("config: exactly one of [imap] and [mock] is needed")
	}
	if c.Mock != nil && c.CalDAV != nil {
		return errors.New("config: [caldav] goes with [imap]; the mock tenant has its own calendars")
	}
	if c.IMAP != nil {
		if c.Journal == "" {
			return errors.New("config: journal is required with [imap] (the action center's file)")
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
		if c.Hunt.MaxAge == 0 {
			c.Hunt.MaxAge = 2 * c.Hunt.CrawlInterval
		}
		if c.Hunt.MaxAge < 0 {
			return fmt.Errorf("config: [hunt] max_age %s must be positive", c.Hunt.MaxAge)
		}
	}
	if c.Cluster.BoilerplateSubjects == 1 {
		return errors.New("config: [cluster] boilerplate_subjects must be 2 or more (0: default 3, negative: off); 1 would make every link of a reply boilerplate")
	}
	if len(c.Tokens) == 0 && len(c.ClientCerts) == 0 {
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

func (c *serveConfig) authenticator() (api.Authenticator, error) {
	tokens, err := c.tokens()
	if err != nil || len(c.ClientCerts) == 0 {
		return tokens, err
	}
	var ids []api.Identity
	for _, cc := range c.ClientCerts {
		id := api.Identity{Name: cc.Name}
		for _, r := range cc.Roles {
			id.Roles = append(id.Roles, api.Role(r))
		}
		ids = append(ids, id)
	}
	certs, err := api.NewClientCerts(ids)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return api.AnyOf{tokens, certs}, nil
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
		tok := api.Token{Name: t.Name, SHA256: t.SHA256}
		for _, r := range t.Roles {
			tok.Roles = append(tok.Roles, api.Role(r))
		}
		toks = append(toks, tok)
	}
	a, err := api.NewTokens(toks)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return a, nil
}

// sampleConfig is what `eradicate init` writes; %s is the admin token's hash.
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
# The detection rules, saved after every change through the API.
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
# ago. Faster at scale, but mail delivered since a mailbox's last crawl is
# not in the index yet: a narrowed action misses it there. Off by default.
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

# API identities. Tokens are stored as their SHA-256; "eradicate token"
# makes new ones. Roles: reader, analyst (dry runs, proposals, reversible
# actions, undo), approver (approve, decline), admin (everything).
[[token]]
name = "admin"
sha256 = "%s"
roles = ["admin"]
`
