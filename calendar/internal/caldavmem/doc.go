// Package caldavmem is an in-memory CalDAV server for tests: go-webdav's
// caldav.Handler over a small in-memory caldav.Backend, served on a
// loopback port with HTTP Basic authentication.
//
// # Layout
//
// The principal of user u is /u/, the calendar home set /u/calendars/,
// calendars /u/calendars/<id>/ and objects /u/calendars/<id>/<name>. Each
// user may only reach paths under /u/ (owner only). The handler does not
// know MKCALENDAR (405); calendars are created with an extended MKCOL
// (RFC 5689) or with [Server.CreateCalendar].
//
// Text matching in calendar-query is go-webdav's: case-sensitive
// substrings.
package caldavmem
