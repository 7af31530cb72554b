// Package xandikos starts a real Xandikos CalDAV server for tests.
//
// [Start] runs the xandikos program from the operating system's packages
// (Debian's xandikos, 0.2.8) on a free loopback port, serving a temporary
// folder. The server stops when the test ends.
//
// When xandikos is not installed the test is skipped, unless the
// environment variable ERADICATE_REQUIRE_SERVERS is "1", which turns the
// skip into a failure (CI sets it).
//
// # Layout and access
//
// Xandikos serves one user and has no authentication of its own (it is
// meant to run behind a web server that authenticates): any credential
// is accepted and every collection can be written. Its principal is
// /user/ with the calendar home /user/calendars/ ([Server.Principal]);
// other collections, one home per owner such as /alice@example.com/, are
// made with MKCOL and MKCALENDAR like on any CalDAV server.
package xandikos
