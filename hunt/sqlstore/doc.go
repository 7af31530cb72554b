// Package sqlstore implements [hunt.Store], the email events index, in a
// SQL database: SQLite (through modernc.org/sqlite, pure Go, so no cgo)
// in one file, the embedded default ([OpenSQLite]); or PostgreSQL, where
// several engines share one index ([OpenPostgres], over a *sql.DB the
// caller opens with a PostgreSQL driver). Both run the same schema and
// pass the same conformance suite (package hunttest).
//
// # Schema
//
// A message is stored once, with lookup tables keyed by value for each
// field a hunt names (Message-ID, senders, sender domains and their parent
// domains, recipients, canonical URLs, attachment SHA-256), so that a hunt
// costs index look-ups of the values it names, not a scan. Each copy is a
// row with its delivery folder and current address; annotations
// (clusters, detections, actions) and crawl cursors sit beside them.
// Beside them the store keeps what a restarted process needs to resume:
// the cluster index's log ([Store.AppendClusterEntries], a
// [cluster.Log] for [cluster.Open]) and the detection rules
// ([Store.SaveRules], a [rules.Store] for [rules.Open]).
// The schema is versioned: opening an index written by an older version
// migrates it in place, one transaction per step; an index written by a
// newer version is refused.
//
// # Concurrency
//
// A [Store] is safe for concurrent use. SQLite runs in WAL mode: reads
// proceed beside the one writer; writes are serialised, each call one
// transaction.
package sqlstore
