// Package rules holds the detection rules of the remediation engine: a
// [Rule] is criteria, an action and a mode ([Mode]: propose or execute).
// A [Set] holds rules bound to a [remediation.Engine]: [Set.OnDeliver] is
// a delivery hook (the mock tenant's OnDeliver, or a mail server's
// delivery notification) that checks every enabled rule exactly against
// the delivered copy and acts on that copy; [Set.Run] and [Set.RunRule]
// run a rule over the mail already in every mailbox. Their actions are
// recorded with source [remediation.SourceDetectionRule] and the rule's
// name. Criteria are validated when a rule is added: empty or
// match-everything criteria are refused ([ErrInvalid]).
//
// Rules survive a restart through a [Store] ([Options.Store]): every
// change is saved before it takes effect (a change the store refuses is
// not made, [ErrNotSaved]), and [Open] gives a set with the rules saved
// before. The package hunt/sqlstore keeps them beside the events index.
//
// A Set acts only through the engine's methods (Execute, Propose), so
// the engine's guards, blast-radius limit and four-eyes rule apply to
// rules as to any other request.
package rules
