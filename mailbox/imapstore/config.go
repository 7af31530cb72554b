package imapstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/internal/secretfmt"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Security is how a connection to the server is protected.
type Security int

const (
	// SecurityTLS is implicit TLS (IMAPS, usually port 993), the default.
	SecurityTLS Security = iota
	// SecurityStartTLS connects in plaintext and upgrades with STARTTLS
	// (RFC 9051 section 6.2.1) before logging in; a server that does not
	// offer STARTTLS is refused.
	SecurityStartTLS
	// SecurityInsecure sends everything, credentials included, in
	// plaintext. Use it only where nobody can listen, for example a server
	// on the loopback interface in tests.
	SecurityInsecure
)

// String returns the mode's name.
func (s Security) String() string {
	switch s {
	case SecurityTLS:
		return "tls"
	case SecurityStartTLS:
		return "starttls"
	case SecurityInsecure:
		return "insecure"
	}
	return fmt.Sprintf("Security(%d)", int(s))
}

// Password is a secret. It prints, logs, formats (with every verb) and
// encodes as "[REDACTED]"; convert it with string(p) to use it.
type Password string

const redacted = "[REDACTED]"

// String returns "[REDACTED]".
func (Password) String() string { return redacted }

// GoString returns "[REDACTED]", so %#v does not reveal the password.
func (Password) GoString() string { return redacted }

// Format writes "[REDACTED]" for every verb, %d and %x included (they
// would otherwise print the string without calling String).
func (Password) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, redacted) }

// LogValue returns "[REDACTED]" for log/slog.
func (Password) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[REDACTED]", so encoding a Config never writes the
// password.
func (Password) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MasterUser is one credential that logs in as every mailbox owner, for
// example a Dovecot master user (see the package documentation).
type MasterUser struct {
	// User is the master user's name, e.g. "eradicate-admin".
	User string
	// Password is the master user's password.
	Password Password
	// Separator joins the mailbox owner and the master user in the login
	// name: LOGIN "owner*master". Default "*" (Dovecot's
	// auth_master_user_separator).
	Separator string
	// SASL logs in with AUTHENTICATE PLAIN (RFC 4616) instead: the owner
	// as authorization identity, the master user as authentication
	// identity. Servers that support proxy authentication this way
	// (Dovecot, Cyrus, Stalwart) need no separator.
	SASL bool
	// Admin logs in as the master user itself, not as the owner, and
	// reaches each owner's folders in the other users' namespace (RFC
	// 2342) the server announces with NAMESPACE, as a Cyrus IMAP admin
	// (imapd.conf "admins") does: with the prefix "user/" and the
	// delimiter "/", owner "alice" has INBOX "user/alice" and Sent
	// "user/alice/Sent"; an owner with a domain (Cyrus virtual domains)
	// has the domain last, "user/bob@example.com" and
	// "user/bob/Sent@example.com". Addresses name folders as the owner
	// sees them ("INBOX", "Sent"). Folders whose first name part starts
	// with "#" (Cyrus's calendar and contact collections, "#calendars")
	// are left out. This is the way to act in folders hidden from their
	// owner by ACLs: a proxy login (SASL) has the owner's rights only.
	// The server must announce NAMESPACE with an other users' namespace,
	// and the master user needs rights on every owner's folders.
	Admin bool
}

// String shows the master user without the password.
func (m MasterUser) String() string {
	return fmt.Sprintf("{User:%s Password:%s Separator:%s SASL:%t Admin:%t}", m.User, redacted, m.Separator, m.SASL, m.Admin)
}

// Format writes String for every verb: a verb that does not fit a
// struct, %d for one, would otherwise print a *MasterUser's fields as
// they are.
func (m MasterUser) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, m.String()) }

// Credential is the login of one mailbox.
type Credential struct {
	// Username is the IMAP LOGIN name of the mailbox, which need not be
	// the owner's address.
	Username string
	// Password is the mailbox's password.
	Password Password
}

// String shows the user name without the password.
func (c Credential) String() string {
	return fmt.Sprintf("{Username:%s Password:%s}", c.Username, redacted)
}

// Format writes String for every verb, as [MasterUser.Format] does.
func (c Credential) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, c.String()) }

// CredentialProvider gives the credential of each mailbox, for servers
// without a master user. It is called once for every new connection; an
// error wrapping [mailbox.ErrNoMailbox] means the mailbox is unknown.
// Implementations must be safe for concurrent use.
type CredentialProvider interface {
	// Credential returns the login of the owner mailbox, as the store
	// names it (configured or listed), or an error wrapping
	// [mailbox.ErrNoMailbox] when the owner is unknown.
	Credential(ctx context.Context, mailbox string) (Credential, error)
}

// StaticCredentials is a [CredentialProvider] backed by a map from mailbox
// owner to credential.
type StaticCredentials map[string]Credential

// Credential returns the credential of mailbox, or an error wrapping
// [mailbox.ErrNoMailbox].
func (s StaticCredentials) Credential(_ context.Context, mbox string) (Credential, error) {
	if c, ok := s[mbox]; ok {
		return c, nil
	}
	for k, c := range s {
		if strings.EqualFold(k, mbox) {
			return c, nil
		}
	}
	return Credential{}, fmt.Errorf("imapstore: no credential for %q: %w", mbox, mailbox.ErrNoMailbox)
}

// MailboxLister lists the mailbox owners the store works on. The store
// calls it for [Store.Mailboxes] and when it meets an owner it has not seen
// yet. Implementations must be safe for concurrent use.
type MailboxLister interface {
	// Mailboxes returns every owner. Blank names are ignored, and the
	// store deduplicates the rest case-insensitively and sorts them.
	Mailboxes(ctx context.Context) ([]string, error)
}

// CommandLister is a [MailboxLister] that runs a command and reads one
// owner per line of its standard output, ignoring blank lines. For Dovecot:
//
//	imapstore.CommandLister{Name: "doveadm", Args: []string{"user", "*"}}
type CommandLister struct {
	// Name is the program to run, looked up in PATH when it holds no
	// path separator (as [exec.Command] does).
	Name string
	// Args are the program's arguments, without the program name; they
	// are passed as they are, not through a shell.
	Args []string
}

// Mailboxes runs the command. ctx kills it.
func (l CommandLister) Mailboxes(ctx context.Context) ([]string, error) {
	cmd := exec.CommandContext(ctx, l.Name, l.Args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("imapstore: list mailboxes: %w", ctx.Err())
		}
		return nil, fmt.Errorf("imapstore: list mailboxes with %s: %w: %s", l.Name, err, strings.TrimSpace(stderr.String()))
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if n := strings.TrimSpace(sc.Text()); n != "" {
			names = append(names, n)
		}
	}
	return names, sc.Err()
}

// Default folder names.
const (
	// DefaultQuarantineFolder is the default folder of [mailbox.RoleQuarantine].
	DefaultQuarantineFolder = "Quarantine"
	// DefaultRecoverableFolder is the default folder of [mailbox.RoleRecoverable].
	DefaultRecoverableFolder = "Recoverable Items"
	// DefaultEvidenceFolder is the default folder of [mailbox.RoleEvidence].
	DefaultEvidenceFolder = "Evidence"
)

// DefaultRoleFallbacks returns the folder names tried, in order, for the
// roles a server did not mark with a SPECIAL-USE attribute (RFC 6154).
// Names compare case-insensitively, and also match below INBOX (for
// servers whose folders live under an "INBOX." prefix).
func DefaultRoleFallbacks() map[mailbox.Role][]string {
	return map[mailbox.Role][]string{
		mailbox.RoleJunk:    {"Junk", "Spam", "Junk E-mail", "Junk Email", "Bulk Mail"},
		mailbox.RoleDeleted: {"Trash", "Deleted Items", "Deleted Messages", "Deleted"},
		mailbox.RoleSent:    {"Sent", "Sent Items", "Sent Messages", "Sent Mail"},
	}
}

// DefaultClientMatchMessageIDs is the default of
// [Config.ClientMatchMessageIDs], measured against Dovecot 2.3 on
// mailboxes of 2,000 messages (BenchmarkDovecotMessageIDThreshold): the
// server's OR costs about 0.5 ms of CPU per id and mailbox, reading and
// matching every Message-ID about 30 ms per mailbox whatever the ids, so
// they cross at about 43 ids (10 ids: the OR costs half; 100: twice as
// much; 400: five times).
const DefaultClientMatchMessageIDs = 40

// Config configures a [Store]. Addr and exactly one of Master and
// Credentials are required; every other zero field takes the default its
// comment gives.
type Config struct {
	// Addr is the server's host:port, e.g. "imap.example.com:993".
	Addr string
	// Security is the connection protection; default implicit TLS.
	Security Security
	// TLSConfig is used for TLS and STARTTLS; nil means the system roots
	// and the host of Addr as server name. The store clones it.
	TLSConfig *tls.Config
	// DialTimeout bounds connecting and logging in; default 30s.
	DialTimeout time.Duration

	// Master logs in as every owner with one credential. Exactly one of
	// Master and Credentials must be set.
	Master *MasterUser
	// Credentials gives each owner's own credential.
	Credentials CredentialProvider

	// Mailboxes are the owners the store works on. When empty, Lister
	// lists them; when both are empty, the store fails.
	Mailboxes []string
	// Lister lists the owners when Mailboxes is empty.
	Lister MailboxLister

	// RoleFallbacks are folder names tried for a role when no folder has
	// its SPECIAL-USE attribute; nil means [DefaultRoleFallbacks]. Only
	// RoleJunk, RoleDeleted and RoleSent are looked up this way.
	RoleFallbacks map[mailbox.Role][]string
	// QuarantineFolder names the folder of [mailbox.RoleQuarantine] in
	// each mailbox; default [DefaultQuarantineFolder]. The three
	// admin-only folder names match exactly, must differ from each other
	// and must not be INBOX.
	QuarantineFolder string
	// RecoverableFolder names the folder of [mailbox.RoleRecoverable];
	// default [DefaultRecoverableFolder].
	RecoverableFolder string
	// EvidenceFolder names the folder of [mailbox.RoleEvidence]; default
	// [DefaultEvidenceFolder].
	EvidenceFolder string
	// CreateAdminFolders makes a move or append to an admin-only role
	// create its folder, unsubscribed, when the mailbox does not have it
	// yet. When false such a move fails with [mailbox.ErrNoFolder].
	CreateAdminFolders bool

	// MaxConns bounds the open connections, all mailboxes together;
	// default 16. With a master user, each connection is logged in as
	// one owner, so connections are pooled per owner within this bound.
	MaxConns int
	// MaxConnsPerMailbox bounds the connections of one owner; default 4.
	// Keep it below Dovecot's mail_max_userip_connections (default 10).
	MaxConnsPerMailbox int
	// IdleTimeout closes connections unused for this long; default 2m.
	IdleTimeout time.Duration

	// SearchBatch is the most search keys (one per message id, sender,
	// recipient...) sent in one SEARCH command; bigger criteria are split
	// into several commands. Default 300.
	SearchBatch int
	// MaxSearchBytes is the most bytes of search keys in one SEARCH
	// command; default 48 KiB, within Dovecot's 64 KiB
	// imap_max_line_length.
	MaxSearchBytes int
	// ServerURLSearch lets the server narrow URL criteria by searching
	// the body text (BODY) for the URL's host (the host of the link a
	// rewritten criterion wraps). It is faster, but misses URLs whose
	// host is not written as it is in the raw text: HTML character
	// references, percent-escaped or numeric hosts, IDN hosts given in
	// Punycode, links inside attached files, and links wrapped by
	// rewriters that encode their target (Sophos, Cisco). By default URL
	// criteria are evaluated on every candidate's parsed content.
	ServerURLSearch bool

	// ClientMatchMessageIDs is the number of Message-IDs from which a
	// search stops sending them to the server as an OR of HEADER keys and
	// instead reads the Message-ID of every message of each folder (one
	// FETCH per folder) and matches them on the client, in a hash set.
	// The server's OR costs about ids × messages comparisons, the fetch
	// one pass. Default [DefaultClientMatchMessageIDs]; negative never.
	// Either way every hit is verified exactly.
	ClientMatchMessageIDs int

	// Logger receives the store's logs (operations, counts, connection
	// problems; never message contents or credentials). nil discards them.
	Logger *slog.Logger
	// DebugWriter, when set, receives the raw IMAP traffic of every
	// connection. It contains secrets: passwords and message contents.
	DebugWriter io.Writer
}

// Format prints the configuration as %+v would, passwords redacted, for
// every verb: a *Config in a slice printed with %s, for one, would
// otherwise print its credentials as they are.
func (cfg Config) Format(f fmt.State, verb rune) {
	type fields Config // without methods
	secretfmt.Format(f, verb, fmt.Sprintf("%+v", fields(cfg)))
}

// Errors of the configuration.
var (
	// ErrConfig means the Config is unusable.
	ErrConfig = errors.New("imapstore: invalid configuration")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("imapstore: store closed")
)

func (cfg *Config) normalize() error {
	if cfg.Addr == "" {
		return fmt.Errorf("%w: Addr is required", ErrConfig)
	}
	if (cfg.Master == nil) == (cfg.Credentials == nil) {
		return fmt.Errorf("%w: set exactly one of Master and Credentials", ErrConfig)
	}
	if cfg.Master != nil {
		m := *cfg.Master
		if m.User == "" {
			return fmt.Errorf("%w: Master.User is required", ErrConfig)
		}
		if m.Separator == "" {
			m.Separator = "*"
		}
		cfg.Master = &m
	}
	if len(cfg.Mailboxes) == 0 && cfg.Lister == nil {
		return fmt.Errorf("%w: set Mailboxes or Lister", ErrConfig)
	}
	switch cfg.Security {
	case SecurityTLS, SecurityStartTLS, SecurityInsecure:
	default:
		return fmt.Errorf("%w: unknown security mode %d", ErrConfig, int(cfg.Security))
	}
	if cfg.TLSConfig != nil {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 30 * time.Second
	}
	if cfg.RoleFallbacks == nil {
		cfg.RoleFallbacks = DefaultRoleFallbacks()
	}
	if cfg.QuarantineFolder == "" {
		cfg.QuarantineFolder = DefaultQuarantineFolder
	}
	if cfg.RecoverableFolder == "" {
		cfg.RecoverableFolder = DefaultRecoverableFolder
	}
	if cfg.EvidenceFolder == "" {
		cfg.EvidenceFolder = DefaultEvidenceFolder
	}
	admin := map[string]bool{}
	for _, f := range []string{cfg.QuarantineFolder, cfg.RecoverableFolder, cfg.EvidenceFolder} {
		if strings.EqualFold(f, "INBOX") || admin[f] {
			return fmt.Errorf("%w: admin-only folders must be distinct and not INBOX", ErrConfig)
		}
		admin[f] = true
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	if cfg.MaxConnsPerMailbox <= 0 {
		cfg.MaxConnsPerMailbox = 4
	}
	cfg.MaxConnsPerMailbox = min(cfg.MaxConnsPerMailbox, cfg.MaxConns)
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.SearchBatch <= 0 {
		cfg.SearchBatch = 300
	}
	if cfg.MaxSearchBytes <= 0 {
		cfg.MaxSearchBytes = 48 << 10
	}
	if cfg.ClientMatchMessageIDs == 0 {
		cfg.ClientMatchMessageIDs = DefaultClientMatchMessageIDs
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Mailboxes = append([]string(nil), cfg.Mailboxes...)
	return nil
}
