// Package imapstore is the IMAP backend of [mailbox.Store], built on
// github.com/emersion/go-imap/v2. It works on every mailbox of a server
// with one admin credential (a Dovecot master user, a Cyrus admin) or with
// per-mailbox credentials, and is tested against go-imap's in-process
// server, a real Dovecot and a real Cyrus IMAP.
//
// # Configuration
//
// [New] takes a [Config]. The address and one kind of credential are
// required:
//
//	store, err := imapstore.New(imapstore.Config{
//		Addr:   "mail.example.com:993", // implicit TLS by default
//		Master: &imapstore.MasterUser{User: "eradicate-admin", Password: secret},
//		Lister: imapstore.CommandLister{Name: "doveadm", Args: []string{"user", "*"}},
//	})
//
// Connections use implicit TLS unless [Config.Security] says
// [SecurityStartTLS]; plaintext ([SecurityInsecure]) is used only when set
// explicitly, for a server on the loopback interface. [Config.TLSConfig]
// is cloned. Passwords have the type [Password], which prints (with every
// verb), logs and encodes as "[REDACTED]"; [MasterUser], [Credential],
// [Config] and [Store] print without them, and no error the store returns
// contains one. Logs go to
// [Config.Logger] (nil discards them) and never contain message contents
// or credentials. [Config.DebugWriter] receives the raw IMAP traffic,
// which contains passwords and messages: use it only for debugging.
//
// # A Dovecot master user
//
// A master user logs in as any user (https://doc.dovecot.org/ "Master
// users"). Put it in a separate passdb with master = yes:
//
//	auth_master_user_separator = *
//	passdb {
//	  driver = passwd-file
//	  args = /etc/dovecot/master-users
//	  master = yes
//	  result_success = continue
//	}
//
// with a line "eradicate-admin:{SHA512-CRYPT}...::::::" in
// /etc/dovecot/master-users (every passwd-file line needs its empty
// trailing fields). The store then logs in as LOGIN "alice*eradicate-admin"
// (the separator is [MasterUser.Separator], default "*"), or, with
// [MasterUser.SASL], with AUTHENTICATE PLAIN and "alice" as authorization
// identity (RFC 4616), which Dovecot, Cyrus and Stalwart accept. A
// master login is a login as the user: each connection serves one
// mailbox, so connections are pooled per mailbox (see Concurrency).
// Servers without a master user take a [CredentialProvider] instead, for
// example [StaticCredentials].
//
// # A Cyrus admin
//
// On Cyrus IMAP a proxy login (the admin in imapd.conf "proxyservers",
// [MasterUser.SASL]) is a session with the owner's rights: it cannot
// reach folders hidden from the owner with ACLs. [MasterUser.Admin] logs
// in as an admin (imapd.conf "admins") instead and works on each owner's
// folders in the other users' namespace: "user/alice", "user/alice/Sent",
// with virtual domains "user/bob/Sent@example.com". Addresses keep the
// owner's names ("INBOX", "Sent"). The admin needs rights on every
// owner's folders:
//
//	SETACL user/alice eradicate-admin lrswipkxtecdan
//
// (folders created later inherit the ACL of INBOX). To hide the
// admin-only folders, take the owner's entry off them (SETACL
// "user/alice/Quarantine" alice "") and set implicit_owner_rights to
// rights without "l" and "a" (Cyrus's default "lkxan" lets owners see and
// re-grant them); with [Config.CreateAdminFolders] the store removes the
// owner's entry from the folders it creates. Cyrus also needs
// "munge8bit: no", or it replaces 8-bit header characters of an appended
// message (a release, a restore) with "X".
//
// # Listing mailboxes
//
// [Config.Mailboxes] lists the owners, or [Config.Lister] finds them. On
// Dovecot, "doveadm user '*'" prints every user of an iterable userdb
// (passwd-file, SQL with iterate_query, LDAP with iterate_attrs); run it
// through [CommandLister], or read the user table directly. An owner that
// is not listed gives [mailbox.ErrNoMailbox].
//
// # Required capabilities
//
// Move needs MOVE (RFC 6851) and UIDPLUS (RFC 4315): it sends UID MOVE of
// exactly the target UIDs and reads the new addresses from the COPYUID
// response code. Expunge needs UIDPLUS: it sets \Deleted on the targets
// and sends UID EXPUNGE of exactly those UIDs (RFC 4315 section 2.1).
// Append needs UIDPLUS for the APPENDUID response code, the new copy's
// address. Without them the call fails before touching anything, with an
// error wrapping [mailbox.ErrUnsupported] that names the missing
// capability. The store never falls back to COPY + STORE \Deleted +
// EXPUNGE (go-imap's fallback for servers without MOVE): without UIDPLUS
// that EXPUNGE removes every message marked \Deleted in the folder, also
// the ones the owner marked and did not mean to lose.
//
// Copies are addressed by UIDVALIDITY and UID (RFC 9051 section 2.3.1.1).
// Every operation compares the folder's UIDVALIDITY with the address and
// reports [mailbox.ErrUIDValidity] on a mismatch; it never guesses which
// message a stale UID meant.
//
// # Folder roles
//
// INBOX is the inbox. Junk, Deleted Items and Sent are the folders with the
// SPECIAL-USE attributes \Junk, \Trash and \Sent (RFC 6154), asked for
// with LIST "" "*" RETURN (SPECIAL-USE) when the server has SPECIAL-USE
// and LIST-EXTENDED. A role without an attributed folder falls back to
// the names in [Config.RoleFallbacks] ([DefaultRoleFallbacks]: "Junk",
// "Spam", "Trash", "Deleted Items", "Sent", "Sent Items"...), compared
// case-insensitively, also below "INBOX.". The admin-only roles
// (recoverable items, quarantine, evidence) are folders with configured
// names: [Config.RecoverableFolder], [Config.QuarantineFolder] and
// [Config.EvidenceFolder].
//
// # Quarantine and the other admin-only folders
//
// Each mailbox has its own admin-only folders, like the in-memory tenant:
// quarantining moves a copy into the owner's "Quarantine" folder, and
// release moves it back to INBOX with the same UID MOVE, so release works
// on any server with MOVE and UIDPLUS and keeps the message byte for byte.
// The folders must exist: create them with Dovecot's auto = create,
// without subscribing them, so that mail clients that show subscribed
// folders do not show them:
//
//	namespace inbox {
//	  mailbox Quarantine {
//	    auto = create
//	  }
//	  mailbox "Recoverable Items" {
//	    auto = create
//	  }
//	  mailbox Evidence {
//	    auto = create
//	  }
//	}
//
// or set [Config.CreateAdminFolders] to have the store create them,
// unsubscribed, on first use. An unsubscribed folder is still listed by
// LIST: to hide it from the owner completely, enable Dovecot's acl plugin
// and give the owner no rights on it while the master user keeps them (a
// global ACL file with "Quarantine owner" empty and
// "Quarantine user=eradicate-admin lrwstipekxa"). The alternative, one
// separate quarantine account, would need an APPEND to release (a new
// copy, not the original) and loses the per-owner address; the store does
// not do that.
//
// # Searching
//
// [Store.Search] narrows with UID SEARCH and then verifies every hit
// exactly with [mailbox.Criteria.Match] on the fetched header fields
// (BODY.PEEK[HEADER.FIELDS (Return-Path Message-ID From To Cc Bcc
// Subject Date)], never setting \Seen), because IMAP searches are
// substring matches: Dovecot's HEADER Message-ID "a@b" also finds
// "xa@b". URL and attachment criteria are evaluated on the parsed message
// ([mailbox.Parse]), fetched only for candidates that pass the other
// criteria: in batches of many messages per UID FETCH (at most 500 and
// about 8 MiB), each message parsed and matched as it arrives, so that a
// hunt holds one message's content at a time and costs the server one
// command per batch, not one per message; criteria that the header fields
// alone cannot decide skip the header fetch, and each header is parsed
// once, with its content. Criteria with many message ids (a campaign) are
// sent as balanced OR trees of at most [Config.SearchBatch] keys and
// [Config.MaxSearchBytes] bytes per command (Dovecot refuses lines over
// 64 KiB), in as many commands as needed; from
// [Config.ClientMatchMessageIDs] ids on (default 40), where the server's
// comparisons of every id with every message cost more, the Message-ID of
// every message is fetched instead, one command per folder, and matched
// in a hash set, and only the copies found are verified. IMAP dates are days: the search
// is widened by a day on each side and the exact time is checked after.
// The server search only ever widens: servers read headers more strictly
// than the matching does, so a message whose address header the server
// cannot read, or whose Date it cannot read, is a candidate too, and the
// Subject is not searched on the server at all (encoded words split inside
// a character, 8-bit text and unknown charsets defeat server decoding);
// the conformance case Search/LenientHeaders holds every backend to it.
// Every folder is examined, empty ones too: a message count from
// LIST-STATUS (RFC 5819) can be stale (with maildir_very_dirty_syncs or
// mailbox_list_index_very_dirty_syncs, Dovecot counts 0 in a folder whose
// mail another program delivered), and a search must not skip a copy.
// Round trips are few: with ESEARCH (RFC 4731), whose results carry their
// command's tag, the EXAMINE and UID SEARCH commands of every folder are
// pipelined (RFC 9051 section 5.5) and read back together. A mailbox's
// matches are collected on one connection, which is released before the
// first is yielded.
//
// # Concurrency
//
// A [Store] is safe for concurrent use. It keeps a pool of logged-in
// connections per mailbox owner, at most [Config.MaxConnsPerMailbox] per
// owner and [Config.MaxConns] in all; when the bound is reached, an idle
// connection of another owner is closed to make room. Callers work on
// mailboxes in parallel by calling the store from several goroutines (the
// remediation engine does); moves and expunges of one mailbox are
// serialised within the store, because servers implement MOVE as copy
// and expunge and two sessions moving the same message at once can both
// copy it. A master login starts an imap process per connection with
// Dovecot's defaults; where every user's mail runs as one system user
// (virtual users), "service imap { service_count = 100 }" lets a process
// serve many logins in turn, which makes a campaign clean-up over many
// mailboxes several times faster. go-imap's commands do not take a context: the store closes the
// connection when ctx is done, which ends the command at once, and
// returns an error wrapping ctx.Err().
//
// # Errors
//
// Errors wrap the mailbox sentinels ([mailbox.ErrNotFound],
// [mailbox.ErrNoFolder], [mailbox.ErrUIDValidity],
// [mailbox.ErrUnsupported], [mailbox.ErrNoMailbox]) and keep the server's
// response reachable: errors.As(err, &imapErr) with an *imap.Error gives
// the NO or BAD response and its code (AUTHENTICATIONFAILED, NONEXISTENT,
// OVERQUOTA...).
package imapstore
