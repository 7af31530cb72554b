// Package cyrus starts a real Cyrus IMAP server, with its CalDAV
// module, for tests.
//
// [Start] runs Cyrus's master process from the operating system's
// packages (cyrus-imapd, cyrus-common and cyrus-caldav, Debian's 3.6) with
// an imapd.conf and a cyrus.conf generated in a temporary folder: imapd
// and httpd on free loopback ports, plaintext logins allowed (the server
// listens on 127.0.0.1 only), users in a SASL database of the temporary
// folder (saslpasswd2, from sasl2-bin), mail and calendars under the
// temporary folder (in /dev/shm when there is one: Cyrus syncs every
// change to disk, which makes creating a user 20 times slower on disk),
// and header text stored as it is given (munge8bit: no;
// [Options.Munge8bit] keeps Cyrus's default). The server stops when the
// test ends.
//
// Cyrus conflicts with Dovecot as a Debian package (both provide
// imap-server), so it need not be installed: the packages may be
// unpacked (dpkg-deb -x) into a folder instead, which
// [RootEnv] names (CI unpacks them into /opt/eradicate-cyrus, the
// default). An installed Cyrus (/usr/lib/cyrus/bin/master) is used when
// there is no unpacked one. Without either, or without saslpasswd2, the
// test is skipped, unless the environment variable
// ERADICATE_REQUIRE_SERVERS is "1", which turns the skip into a failure
// (CI sets it).
//
// # Users and the admin
//
// [AdminUser] is a Cyrus admin (imapd.conf "admins"). It logs in as
// itself and reaches each user's folders in the other users' namespace:
// "user/alice" is alice's INBOX and "user/alice/Sent" her Sent folder; with
// a domain (virtual domains, virtdomains: userid) the domain goes last:
// "user/bob/Sent@example.com" ([Server.AdminFolder]). A Cyrus admin has
// only the "l" and "a" rights on users' folders by itself; every user's
// folders give it all rights with an ACL. It may also log in as a user
// with SASL PLAIN and the user as authorization identity (proxyservers),
// but such a session has the user's rights only.
//
// # Folders
//
// Every user has INBOX, Drafts (\Drafts), Sent (\Sent), Junk (\Junk) and
// Trash (\Trash), created by Cyrus at the user's first login
// (autocreate_inbox_folders) and subscribed, and the admin-only folders
// [QuarantineFolder], [RecoverableFolder] and [EvidenceFolder], which the
// admin creates and hides from the user with ACLs: the user has no rights
// on them, and implicit_owner_rights gives owners none either (Cyrus's
// default gives owners "lkxan" on every folder of their own, enough to see
// such a folder and give themselves the rest).
//
// # Calendars
//
// Cyrus's CalDAV module serves each user's calendar home at
// /dav/calendars/user/<user>/ ([Server.CalendarHome]), with the calendar
// "Default", created at the user's first CalDAV request (which [Start]
// and [Server.AddUser] make). Only the user can reach their calendars:
// Cyrus 3.6 redirects any other login, the admin's too, to a sharing view
// under its own home, and its proxy header (Authorize-As) works only in a
// Murder back end; clients use each user's own credentials.
//
// # Privileges
//
// Cyrus refuses to run as root: when the test runs as root, the server
// runs as the "cyrus" user when it exists and as "nobody" otherwise, and
// the temporary folder is made theirs. When the test runs as another
// user, the server runs as that user.
package cyrus
