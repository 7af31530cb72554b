// Package radicale starts a real Radicale CalDAV server for tests.
//
// [Start] runs the radicale binary from the operating system's packages on
// a free loopback port, with htpasswd authentication (plain passwords),
// storage under a temporary folder, and a rights file that gives each user
// their own principal collection and calendars, and gives one generated
// admin user read and write access to every collection. The server stops
// when the test ends.
//
// When radicale is not installed the test is skipped, unless the
// environment variable ERADICATE_REQUIRE_SERVERS is "1", which turns the
// skip into a failure (CI sets it).
//
// # Layout
//
// Radicale serves each user's principal at /<user>/; that collection is
// also the user's calendar home set, and calendars are its direct
// children (/<user>/<calendar>/).
package radicale
