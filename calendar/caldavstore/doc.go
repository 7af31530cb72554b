// Package caldavstore is the CalDAV backend of [calendar.Store] (RFC 4791),
// built on go-webdav's CalDAV client and tested against Radicale and
// go-webdav's own server. It keeps each entry's provenance on the server,
// in the event itself, so that a hard delete can tell the entries a
// meeting invite created from those the user imported or made.
//
// # Discovery
//
// Each owner (a mailbox address) has a calendar home set, the collection
// whose direct children are the owner's calendars. [Options.Home] maps an
// owner to it — [HomeUnder]("/") gives Radicale's "/alice@example.com/" —
// or, when nil, the store discovers it with the owner's own credential:
// the current-user-principal (RFC 5397) of the endpoint, then that
// principal's calendar-home-set (RFC 4791 section 6.2.1), cached per
// owner. The calendars are the children of the home set whose resource
// type is calendar and that accept VEVENTs; a calendar's id is its last
// path segment, an entry's id the object's name.
//
// [Store.EnsureCalendar] creates a calendar with MKCALENDAR (RFC 4791
// section 5.3.1), sent as a raw request since go-webdav's client lacks it,
// or with an extended MKCOL (RFC 5689) when the server answers 405 or 501;
// it creates a missing home set first (with an admin credential on
// Radicale a user's home exists only after their first login).
//
// # Access
//
// The endpoint must be https unless [Options.AllowInsecure] is set (for
// loopback tests): requests carry HTTP Basic credentials. A
// [CredentialProvider] gives them per owner: [PerUser] (a map), a
// [CredentialFunc], or [Admin], one account with read and write rights on
// every owner's calendars. With Radicale that is a rights file such as
//
//	[admin]
//	user: eradicate-admin
//	collection: .*
//	permissions: RrWw
//
// next to the usual owner rules. An admin credential needs
// [Options.Home]. Credentials never appear in errors or logs:
// [Credential], the providers of [Admin] and [PerUser], [Options] (its
// ProvenanceKey is a [SecretKey]) and [Store] print with every verb, log
// and encode to JSON without passwords or keys. The credential goes only
// to the endpoint's scheme and host, and redirects are never followed
// ([ErrRedirect]).
//
// # Provenance
//
// Every VEVENT of an object Put stores carries the property
// X-ERADICATE-PROVENANCE ([PropProvenance]) whose value is a URL query
// string (RFC 3986 percent-encoding of each value, so the value never
// needs iCalendar escaping), in this field order, empty fields left out:
//
//	v=1                       format version
//	&kind=invite              invite | imported | user
//	&message-id=<id>          calendar.Provenance.MessageID, as given
//	&organizer=<address>      calendar.Provenance.Organizer
//	&method=REQUEST           calendar.Provenance.Method
//	&series-uid=<uid>         calendar.Provenance.SeriesUID
//	&attachment=<file name>   calendar.Provenance.Attachment
//	&created-by=<id>          calendar.Provenance.CreatedBy
//	&prev=1                   a previous version follows (Provenance.Previous):
//	&prev-message-id=<id>       its MessageID
//	&prev-method=REQUEST        its Method
//	&prev-raw=<base64url>       its text, unpadded, without provenance properties
//	&match=<id>               the message id, lower-cased, for server filters
//	&sig=<hex>                HMAC-SHA256 (first 16 bytes) or empty
//
// for example
//
//	X-ERADICATE-PROVENANCE:v=1&kind=invite&message-id=abc%40evil.example
//	 &organizer=hr%40evil.example&method=REQUEST&series-uid=payroll-1%40evil
//	 .example&created-by=abc%40evil.example&match=abc%40evil.example&sig=9f…
//
// (folded as iCalendar folds long lines). The previous version is written
// on the VEVENT the provenance is read from (below) only; the other VEVENTs
// carry the same fields without it. The provenance of an object is
// that of its master VEVENT, or, without a master, that of the first
// override carrying one. A missing, malformed or unknown-version property
// reads as calendar.ProvenanceUnknown, and unknown is never removed by a
// hard delete. Put replaces any such property in the text it is given (an
// attacker's .ics cannot choose its own provenance through the store).
//
// A calendar program that imports an .ics file carrying a forged property
// writes it unchanged, and any client that can write to the calendar (the
// owner's, a delegate's) can write one. So [New] requires
// [Options.ProvenanceKey]: the "sig" field is an HMAC over the calendar
// owner, the UID and every field (the creator and the previous version,
// by its SHA-256, when present; a signed property copied into another
// owner's calendar does not verify there), and a property without a valid
// signature reads as unknown. [Options.UnsignedProvenance] runs without a
// key, writing an empty "sig" and trusting any property; it is dangerous
// and New logs a warning.
//
// # Queries and matching
//
// [Store.Find] asks the server to narrow with a calendar-query REPORT
// (RFC 4791 section 7.8): a prop-filter with text-match on UID, or on
// X-ERADICATE-PROVENANCE for "&match=<id>&sig=". Servers compare text
// loosely (Radicale: case-insensitive substrings; go-webdav:
// case-sensitive substrings), so every hit is checked on the client: UIDs
// byte for byte, message ids case-insensitively without angle brackets.
//
// # Writing and deleting
//
// Put drops METHOD (a calendar resource must not have one, RFC 4791
// section 4.1), adds VERSION, PRODID and DTSTAMP when missing, and PUTs
// the object. A new object is named by [ObjectName] (the UID when it is
// made of safe characters, else a SHA-256 of it); an object of the same
// UID in the calendar is replaced where it is. The PUT is unconditional:
// Put's contract is to replace, and an ETag precondition would only turn
// concurrent Puts of one UID into failures. Delete is DELETE, with
// If-Match when given an ETag (Find gives each entry the ETag the server
// reported); 404 and 410 count as done, and a 412 on an object that is
// still there is calendar.ErrChanged.
//
// # Errors
//
// An answer that is not 2xx becomes an [*HTTPError] holding the method,
// path and status, reachable with [errors.As] through every wrapping
// (go-webdav's own error type is internal: every request goes through an
// HTTP client of this package that records the status before go-webdav
// sees the answer). On top of it, a 404 on an owner's principal or home is
// calendar.ErrNoOwner and a 404 on a calendar calendar.ErrNotFound; a 403
// stays an HTTPError (a rights problem, not a missing owner). A done ctx
// gives an error wrapping ctx.Err().
//
// # Concurrency
//
// A [Store] is safe for concurrent use by multiple goroutines; requests
// share one http.Client and its connection pool.
package caldavstore
