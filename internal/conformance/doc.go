// Package conformance is the runner the project's conformance suites
// (mailbox/mailboxtest, calendar/calendartest, remediation/journaltest)
// share, so that they have one shape: a factory that returns a fresh
// *Harness for each case, cases grouped and run as subtests named
// "Group/Case", a skip map keyed by those names whose reasons show in the
// test log, contexts from the case's *testing.T, and optional interfaces
// tested the way testing/fstest tests ReadFileFS: only on an
// implementation that has them, with a skip saying so otherwise.
//
// It is internal because it is test plumbing: the suites export their own
// Run and Harness, and nothing of this package shows in their API.
package conformance
