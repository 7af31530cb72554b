// Package api is eradicate's HTTP API: an [http.Handler] over a
// [remediation.Engine] that an embedding program mounts and that the
// eradicate binary serves.
//
// # Graph's shape
//
// Where Microsoft Graph has an operation, the handler answers in its shape,
// so that a playbook written for Defender works with its base URL changed
// (the handler serves Graph's paths bare and under /v1.0 and /beta):
//
//   - POST /security/collaboration/analyzedEmails/remediate: displayName,
//     description, severity, action (moveToJunk, moveToInbox, hardDelete,
//     softDelete, moveToDeletedItems, and moveToQuarantine, which Graph
//     lists but Defender does not run yet), remediateSendersCopy and
//     analyzedEmails (networkMessageId, recipientEmailAddress; or, Graph's
//     beta form, an id of the hunting index alone). It answers 202
//     Accepted with an absolute Location to poll ([Options.BaseURL]).
//     eradicate has no network message id: networkMessageId is the
//     message's Message-ID. Exactly the copies named are acted on: one
//     action for a campaign (the same messages for every recipient), else
//     one per set of recipients named for the same messages. An analyst's
//     hard delete is proposed for approval; an admin's runs. approverUpn
//     (beta) is kept as the caller's statement where the caller may run
//     the action, and refused on a proposal: only another identity's
//     approve call carries a proposal out. A client-request-id header is
//     echoed, in errors' innerError too.
//   - GET /security/collaboration/analyzedEmails and .../{id} read the
//     hunting index ([Options.Index]; package hunt/huntapi serves the email
//     events index, with a subset of OData $filter); without one they answer
//     501.
//
// Errors are Graph's error JSON ([ErrorBody]) with a stable code.
//
// # eradicate's own resources
//
// Under /eradicate/v1: POST actions (execute or propose), POST dryrun, GET
// actions (query), GET actions/{id}, GET actions/{id}/outcomes (NDJSON),
// POST actions/{id}/approve, decline and undo, GET quarantine (what it
// holds), POST quarantine/release, GET clusters and clusters/of (the cluster
// index, [Options.Clusters]), the detection rules (GET, POST rules;
// GET, DELETE rules/{name}; POST rules/{name}/enable and disable; persisted
// through [Options.SaveRules]), GET me, and GET openapi.yaml,
// the OpenAPI 3 document of every route ([OpenAPI]).
//
// # Who may do what
//
// Every call but the API document is authenticated ([Options.Auth]: bearer
// tokens stored as SHA-256 hashes, [NewTokens]; TLS client certificates,
// [NewClientCerts]; JWTs of an OpenID Connect issuer, [NewOIDC]; combined
// with [AnyOf]) and logged with its identity. Roles: reader reads; analyst dry-runs, proposes, executes
// reversible actions (all but a hard delete) and undoes; approver approves
// and declines; admin does everything, a direct hard delete among it. The
// four-eyes rule is the server's: nobody approves their own proposal,
// whatever the engine's [remediation.Options.FourEyes]. A wrong token is
// answered 401, a missing role 403.
//
// # Limits
//
// Bodies are bounded ([Options.MaxBodyBytes]) and read within
// [Options.BodyTimeout]; unknown JSON fields, trailing data and criteria
// nested deeper than [MaxCriteriaDepth] are refused before anything is
// acted on. Actions run in the background: a 202 is answered once the
// engine has journaled the action, its Location naming the id the
// engine's [remediation.Engine.Start] returned. [Handler.Shutdown] waits
// for the approvals and undos calls began, and the engine's Close for the
// actions it started.
package api
