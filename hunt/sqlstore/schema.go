package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// migrations are the schema's versions, applied in order; migration i
// brings the schema from version i to i+1. A migration once released is
// never changed: a new version is a new entry.
//
// Types are written once for both dialects: {id} is the type of an
// automatically numbered primary key, {wr} the suffix that makes a table
// of composite key clustered on it (SQLite's WITHOUT ROWID).
var migrations = [...]string{
	`
CREATE TABLE messages (
	id            {id},
	network_id    TEXT NOT NULL UNIQUE,
	message_id    TEXT NOT NULL,
	envelope_from TEXT NOT NULL,
	from_addr     TEXT NOT NULL,
	from_domain   TEXT NOT NULL,
	from_name     TEXT NOT NULL,
	recipients    TEXT NOT NULL,
	subject       TEXT NOT NULL,
	subject_fold  TEXT NOT NULL,
	date          BIGINT NOT NULL,
	size          BIGINT NOT NULL,
	truncated     INTEGER NOT NULL
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_from ON messages (from_addr);
CREATE INDEX messages_envelope_from ON messages (envelope_from);

CREATE TABLE sender_domains (
	domain TEXT NOT NULL,
	msg    BIGINT NOT NULL,
	PRIMARY KEY (domain, msg)
){wr};

CREATE TABLE recipients (
	addr TEXT NOT NULL,
	msg  BIGINT NOT NULL,
	PRIMARY KEY (addr, msg)
){wr};

CREATE TABLE urls (
	url  TEXT NOT NULL,
	msg  BIGINT NOT NULL,
	ord  INTEGER NOT NULL,
	host TEXT NOT NULL,
	PRIMARY KEY (url, msg)
){wr};
CREATE INDEX urls_msg ON urls (msg);

CREATE TABLE attachments (
	msg    BIGINT NOT NULL,
	ord    INTEGER NOT NULL,
	name   TEXT NOT NULL,
	type   TEXT NOT NULL,
	size   BIGINT NOT NULL,
	sha256 TEXT NOT NULL,
	tlsh   TEXT NOT NULL,
	inline INTEGER NOT NULL,
	PRIMARY KEY (msg, ord)
){wr};
CREATE INDEX attachments_sha256 ON attachments (sha256);

CREATE TABLE copies (
	id               {id},
	msg              BIGINT NOT NULL,
	mailbox          TEXT NOT NULL,
	delivered_folder TEXT NOT NULL,
	folder           TEXT NOT NULL,
	role             TEXT NOT NULL,
	uidvalidity      BIGINT NOT NULL,
	uid              BIGINT NOT NULL,
	removed          BIGINT NOT NULL,
	delivered        BIGINT NOT NULL,
	updated          BIGINT NOT NULL
);
CREATE UNIQUE INDEX copies_address ON copies (mailbox, folder, uidvalidity, uid) WHERE removed = 0;
CREATE INDEX copies_msg ON copies (msg);
CREATE INDEX copies_mailbox ON copies (mailbox);
CREATE INDEX copies_delivered ON copies (delivered);

CREATE TABLE annotations (
	id          {id},
	msg         BIGINT NOT NULL,
	copy        BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	name        TEXT NOT NULL,
	record      TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	actor       TEXT NOT NULL,
	mailbox     TEXT NOT NULL,
	folder      TEXT NOT NULL,
	uidvalidity BIGINT NOT NULL,
	uid         BIGINT NOT NULL,
	at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX annotations_key ON annotations (msg, kind, name, record, outcome, actor, mailbox, folder, uidvalidity, uid);
CREATE INDEX annotations_copy ON annotations (copy);

CREATE TABLE cursors (
	mailbox TEXT NOT NULL PRIMARY KEY,
	fresh   BIGINT NOT NULL,
	folders TEXT NOT NULL
);
`,
}

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// types replaces the {…} markers of the migrations.
	types *strings.Replacer
	// dollar numbers placeholders $1, $2, … instead of writing ?.
	dollar bool
	// contains is the SQL that tests whether the text a contains the
	// text b: "instr(a, b) > 0".
	contains func(a, b string) string
}

var sqlite = dialect{
	name:     "sqlite",
	types:    strings.NewReplacer("{id}", "INTEGER PRIMARY KEY", "{wr}", " WITHOUT ROWID"),
	contains: func(a, b string) string { return "instr(" + a + ", " + b + ") > 0" },
}

// rebind rewrites the ? placeholders of q for d.
func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrate brings the schema to the newest version, one transaction per
// migration. A database written by a newer version is refused.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: create schema_version: %w", err)
	}
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		var v int
		err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case err == sql.ErrNoRows:
			if _, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				tx.Rollback()
				return fmt.Errorf("sqlstore: migrate: %w", err)
			}
		case err != nil:
			tx.Rollback()
			return fmt.Errorf("sqlstore: read schema version: %w", err)
		}
		if v > len(migrations) {
			tx.Rollback()
			return fmt.Errorf("sqlstore: the index has schema version %d, newer than this program's %d", v, len(migrations))
		}
		if v == len(migrations) {
			return tx.Commit()
		}
		for _, stmt := range strings.Split(d.types.Replace(migrations[v]), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("sqlstore: migration %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.rebind(`UPDATE schema_version SET version = ?`), v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlstore: migration %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlstore: migration %d: %w", v+1, err)
		}
	}
}
