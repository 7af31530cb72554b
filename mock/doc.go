// Package mock is an in-memory tenant: users with mailboxes and calendars,
// mail delivery that processes meeting invites as a mail client does, and
// fault injection. A [Tenant] implements mailbox.Store and calendar.Store;
// tests, benchmarks and examples use it where a real deployment uses the
// IMAP and CalDAV backends.
//
// # Users and folders
//
// [Tenant.AddUser] creates a mailbox with one folder per role of
// mailbox.Roles(): INBOX, Junk, Deleted Items, Sent Items, and the
// admin-only Recoverable Items, Quarantine and Purge Evidence (see the
// Folder constants). Every mailbox has its own admin-only folders, so the
// remediation engine quarantines with an ordinary Move or Append to
// mailbox.RoleQuarantine. [Tenant.CreateFolder] adds ordinary folders.
//
// Folders behave as IMAP folders (RFC 9051 section 2.3.1.1): each has a
// non-zero UIDVALIDITY, unique in the tenant, and UIDs that strictly
// ascend and are never reused; a moved copy gets the next UID of its
// destination. [Tenant.ResetUIDValidity] simulates a server that rebuilt a
// folder's index, so that callers holding stale addresses can be tested.
// [Tenant.Copies] lists a whole mailbox, which Search refuses to do, so
// that a test can check every copy after an operation. These test hooks,
// like AddUser and CreateFolder, are not Store calls: they are neither
// counted nor faulted.
//
// # Delivery
//
// [Tenant.Deliver] is the tenant's MTA: each recipient gets its own copy,
// all copies of one delivery share one buffer and one parse, and the
// envelope sender is kept as the copies' P1 sender. Hooks registered with
// [Tenant.OnDeliver] run for each recipient copy after it is stored; the
// calendar part of the tenant uses one to turn meeting invites into
// tentative calendar entries, and detection rules can use the same hook.
// Deliver is not a Store call: it is neither counted nor faulted.
//
// # Store semantics
//
// The Store methods follow the contracts of mailbox.Store exactly; the
// conformance suite mailbox/mailboxtest runs against the mock. Search
// reads each folder from a snapshot and holds no lock while yielding.
// Move and Expunge apply a batch atomically with respect to other calls
// and cost O(batch): a copy is one map entry pointing at the shared
// message.
//
// # Fault injection
//
// Every mailbox.Store and calendar.Store call is counted ([Tenant.Calls])
// and can be made to fail: the nth call from now ([Tenant.FailNth],
// [Tenant.InjectNth]), every call of a kind ([Tenant.FailOp],
// [Tenant.InjectOp]), or all calls slowly ([Tenant.SetLatency]). A
// [Fault] strikes before the call has any effect, after part of a Move or
// Expunge batch or part of a Search stream ([FaultPartial]), or after the
// call took full effect with the reply lost ([FaultAfter]), which is how a test checks that a caller
// stays consistent across a crash. A done ctx fails a call before it does
// anything, and during a batch fails the remaining addresses.
//
// # Concurrency
//
// A Tenant is safe for concurrent use by multiple goroutines. It has no
// package-level state: tests may build as many tenants as they like.
package mock
