package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// where builds a WHERE clause with ? placeholders and its arguments.
type where struct {
	b    strings.Builder
	args []any
}

func (w *where) str(s string) { w.b.WriteString(s) }

// in writes "col IN (?, ?, …)" for the values.
func (w *where) in(col string, vs []string) {
	w.str(col + " IN (")
	for i, v := range vs {
		if i > 0 {
			w.str(", ")
		}
		w.str("?")
		w.args = append(w.args, v)
	}
	w.str(")")
}

func mapped(vs []string, f func(string) string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if n := f(v); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// criteria writes the SQL condition that selects, over copies c joined
// with messages m, exactly the copies c.Match selects.
func (w *where) criteria(d dialect, c *mailbox.Criteria) {
	w.str("(1 = 1")
	if len(c.Folders)+len(c.Roles) > 0 {
		w.str(" AND (1 = 0")
		if len(c.Folders) > 0 {
			w.str(" OR ")
			w.in("c.folder", c.Folders)
			for _, f := range c.Folders {
				if strings.EqualFold(f, "INBOX") {
					w.str(" OR upper(c.folder) = 'INBOX'")
					break
				}
			}
		}
		var roles []string
		for _, r := range c.Roles {
			if r != mailbox.RoleNone {
				roles = append(roles, string(r))
			}
		}
		if len(roles) > 0 {
			w.str(" OR ")
			w.in("c.role", roles)
		}
		w.str(")")
	}
	if len(c.MessageIDs) > 0 {
		w.str(" AND ")
		w.in("m.message_id", mapped(c.MessageIDs, mailbox.NormalizeMessageID))
	}
	if len(c.Senders) > 0 {
		vs := mapped(c.Senders, normAddr)
		w.str(" AND (")
		w.in("m.from_addr", vs)
		w.str(" OR ")
		w.in("m.envelope_from", vs)
		w.str(")")
	}
	if len(c.SenderDomains) > 0 {
		w.str(" AND c.msg IN (SELECT msg FROM sender_domains WHERE ")
		w.in("domain", mapped(c.SenderDomains, func(s string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(s), "@*.")) }))
		w.str(")")
	}
	if len(c.Recipients) > 0 {
		vs := mapped(c.Recipients, normAddr)
		// The mailbox owner or an addressee: written as one set of
		// copies so that both sides are index look-ups.
		w.str(" AND c.id IN (SELECT id FROM copies WHERE ")
		w.in("mailbox", vs)
		w.str(" UNION ALL SELECT id FROM copies WHERE msg IN (SELECT msg FROM recipients WHERE ")
		w.in("addr", vs)
		w.str("))")
	}
	if c.Subject != "" {
		w.str(" AND " + d.contains("m.subject_fold", "?"))
		w.args = append(w.args, strings.ToLower(c.Subject))
	}
	if !c.Since.IsZero() {
		w.str(" AND m.date >= ?")
		w.args = append(w.args, nanos(c.Since))
	}
	if !c.Before.IsZero() {
		w.str(" AND m.date < ?")
		w.args = append(w.args, nanos(c.Before))
	}
	if len(c.URLs) > 0 {
		w.str(" AND c.msg IN (SELECT msg FROM urls WHERE ")
		w.in("url", mapped(c.URLs, mailbox.NormalizeURL))
		w.str(")")
	}
	if len(c.AttachmentSHA256) > 0 {
		w.str(" AND c.msg IN (SELECT msg FROM attachments WHERE ")
		w.in("sha256", mapped(c.AttachmentSHA256, strings.ToLower))
		w.str(")")
	}
	for i := range c.And {
		w.str(" AND ")
		w.criteria(d, &c.And[i])
	}
	if len(c.Or) > 0 {
		w.str(" AND (1 = 0")
		for i := range c.Or {
			w.str(" OR ")
			w.criteria(d, &c.Or[i])
		}
		w.str(")")
	}
	w.str(")")
}

// query writes the condition of q.
func (w *where) query(d dialect, q *hunt.Query) error {
	c := q.Criteria
	if c != nil && !isZero(c) || len(q.Mailboxes)+len(q.NetworkIDs) == 0 {
		if c == nil {
			c = &mailbox.Criteria{}
		}
		if err := c.Validate(); err != nil {
			return err
		}
		w.criteria(d, c)
	} else {
		w.str("1 = 1")
	}
	if len(q.Mailboxes) > 0 {
		w.str(" AND ")
		w.in("c.mailbox", mapped(q.Mailboxes, normMailbox))
	}
	if len(q.NetworkIDs) > 0 {
		w.str(" AND ")
		w.in("m.network_id", mapped(q.NetworkIDs, strings.TrimSpace))
	}
	if !q.Removed {
		w.str(" AND c.removed = 0")
	}
	return nil
}

func isZero(c *mailbox.Criteria) bool {
	err := c.Validate()
	return errors.Is(err, mailbox.ErrEmptyCriteria)
}

const copyColumns = `c.mailbox, c.delivered_folder, c.folder, c.role, c.uidvalidity, c.uid, c.removed, c.delivered, c.updated,
	m.network_id, m.message_id, m.envelope_from, m.from_addr, m.from_name, m.recipients, m.subject, m.date, m.size, m.truncated`

func scanCopy(rows *sql.Rows) (hunt.Copy, error) {
	var cp hunt.Copy
	var uidv, uid, removed, delivered, updated, date int64
	var role, rj string
	var trunc int
	err := rows.Scan(&cp.Mailbox, &cp.DeliveredFolder, &cp.Address.Folder, &role, &uidv, &uid, &removed, &delivered, &updated,
		&cp.Message.NetworkID, &cp.Message.MessageID, &cp.Message.EnvelopeFrom, &cp.Message.From, &cp.Message.FromName,
		&rj, &cp.Message.Subject, &date, &cp.Message.Size, &trunc)
	if err != nil {
		return cp, err
	}
	cp.Role = mailbox.Role(role)
	if removed != 0 {
		cp.Removed = fromNanos(removed)
		cp.Address = mailbox.Address{}
	} else {
		cp.Address.Mailbox = cp.Mailbox
		if uid > 0 { // else pending: the mailbox only
			cp.Address.UIDValidity = uint32(uidv)
			cp.Address.UID = uint32(uid)
		}
	}
	cp.Delivered = fromNanos(delivered)
	cp.Updated = fromNanos(updated)
	cp.Message.Date = fromNanos(date)
	cp.Message.Truncated = trunc != 0
	if err := json.Unmarshal([]byte(rj), &cp.Message.Recipients); err != nil {
		return cp, fmt.Errorf("recipients: %w", err)
	}
	return cp, nil
}

// Copies implements [hunt.Store].
func (s *Store) Copies(ctx context.Context, q hunt.Query) iter.Seq2[hunt.Copy, error] {
	return func(yield func(hunt.Copy, error) bool) {
		if err := s.check(ctx); err != nil {
			yield(hunt.Copy{}, err)
			return
		}
		var w where
		if err := w.query(s.d, &q); err != nil {
			yield(hunt.Copy{}, fmt.Errorf("sqlstore: %w", err))
			return
		}
		rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+copyColumns+`
			FROM copies c JOIN messages m ON m.id = c.msg WHERE `+w.b.String()+` ORDER BY c.id`), s.d.values(w.args)...)
		if err != nil {
			yield(hunt.Copy{}, s.wrap(ctx, "copies", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			cp, err := scanCopy(rows)
			if err != nil {
				yield(hunt.Copy{}, s.wrap(ctx, "copies", err))
				return
			}
			if !yield(cp, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(hunt.Copy{}, s.wrap(ctx, "copies", err))
		}
	}
}

// dimension returns the SQL of a dimension's key and the join it needs.
func dimension(by hunt.Dimension) (key, join string, ok bool) {
	switch by {
	case hunt.BySender:
		return "m.from_addr", "", true
	case hunt.BySenderDomain:
		return "m.from_domain", "", true
	case hunt.ByRecipient:
		return "c.mailbox", "", true
	case hunt.ByFolder:
		return "c.delivered_folder", "", true
	case hunt.ByURL:
		return "u.url", " JOIN urls u ON u.msg = c.msg", true
	case hunt.ByURLDomain:
		return "u.host", " JOIN urls u ON u.msg = c.msg", true
	case hunt.ByFile:
		return "a.sha256", " JOIN attachments a ON a.msg = c.msg", true
	}
	return "", "", false
}

// Counts implements [hunt.Store].
func (s *Store) Counts(ctx context.Context, q hunt.CountQuery) iter.Seq2[hunt.Count, error] {
	return func(yield func(hunt.Count, error) bool) {
		if err := s.check(ctx); err != nil {
			yield(hunt.Count{}, err)
			return
		}
		key, join, ok := dimension(q.By)
		if !ok {
			yield(hunt.Count{}, fmt.Errorf("%w: unknown dimension %q", hunt.ErrInvalidQuery, q.By))
			return
		}
		if q.Top < 0 || q.Bucket < 0 {
			yield(hunt.Count{}, fmt.Errorf("%w: negative Top or Bucket", hunt.ErrInvalidQuery))
			return
		}
		top := q.Top
		if top == 0 {
			top = 10
		}
		var w where
		w.str(key + " <> ''")
		if q.Criteria != nil {
			if err := q.Criteria.Validate(); err != nil {
				yield(hunt.Count{}, fmt.Errorf("sqlstore: %w", err))
				return
			}
			w.str(" AND ")
			w.criteria(s.d, q.Criteria)
		}
		if !q.Since.IsZero() {
			w.str(" AND c.delivered >= ?")
			w.args = append(w.args, nanos(q.Since))
		}
		if !q.Before.IsZero() {
			w.str(" AND c.delivered < ?")
			w.args = append(w.args, nanos(q.Before))
		}
		from := ` FROM copies c JOIN messages m ON m.id = c.msg` + join + ` WHERE ` + w.b.String()
		// A file or URL is counted once per copy even when the message
		// carries it twice.
		countExpr := "count(DISTINCT c.id)"
		rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+key+`, `+countExpr+` AS n`+from+` GROUP BY `+key+` ORDER BY n DESC, `+key+` LIMIT ?`),
			s.d.values(append(slices.Clone(w.args), top))...)
		if err != nil {
			yield(hunt.Count{}, s.wrap(ctx, "counts", err))
			return
		}
		var totals []hunt.Count
		for rows.Next() {
			var c hunt.Count
			if err := rows.Scan(&c.Key, &c.Copies); err != nil {
				rows.Close()
				yield(hunt.Count{}, s.wrap(ctx, "counts", err))
				return
			}
			totals = append(totals, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			yield(hunt.Count{}, s.wrap(ctx, "counts", err))
			return
		}
		if q.Bucket == 0 {
			for _, c := range totals {
				if !yield(c, nil) {
					return
				}
			}
			return
		}
		if len(totals) == 0 {
			return
		}
		keys := make([]string, len(totals))
		for i, c := range totals {
			keys[i] = c.Key
		}
		w.str(" AND ")
		w.in(key, keys)
		bucket := int64(q.Bucket)
		from = ` FROM copies c JOIN messages m ON m.id = c.msg` + join + ` WHERE ` + w.b.String()
		rows, err = s.r.QueryContext(ctx, s.d.rebind(`SELECT `+key+`, c.delivered / ? AS b, `+countExpr+from+` GROUP BY `+key+`, b`),
			s.d.values(append([]any{bucket}, w.args...))...)
		if err != nil {
			yield(hunt.Count{}, s.wrap(ctx, "counts", err))
			return
		}
		defer rows.Close()
		byKey := map[string][]hunt.Count{}
		for rows.Next() {
			var c hunt.Count
			var b int64
			if err := rows.Scan(&c.Key, &b, &c.Copies); err != nil {
				yield(hunt.Count{}, s.wrap(ctx, "counts", err))
				return
			}
			c.Start = time.Unix(0, b*bucket).UTC()
			byKey[c.Key] = append(byKey[c.Key], c)
		}
		if err := rows.Err(); err != nil {
			yield(hunt.Count{}, s.wrap(ctx, "counts", err))
			return
		}
		for _, k := range keys {
			cs := byKey[k]
			slices.SortFunc(cs, func(a, b hunt.Count) int { return a.Start.Compare(b.Start) })
			for _, c := range cs {
				if !yield(c, nil) {
					return
				}
			}
		}
	}
}

// Entity implements [hunt.Store].
func (s *Store) Entity(ctx context.Context, networkID string) (hunt.Entity, error) {
	var e hunt.Entity
	if err := s.check(ctx); err != nil {
		return e, err
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return e, s.wrap(ctx, "entity", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT id FROM messages WHERE network_id = ?`), s.d.values([]any{strings.TrimSpace(networkID)})...).Scan(&id)
	if err == sql.ErrNoRows {
		return e, fmt.Errorf("sqlstore: message %q: %w", networkID, hunt.ErrNotFound)
	}
	if err != nil {
		return e, s.wrap(ctx, "entity", err)
	}
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT `+copyColumns+` FROM copies c JOIN messages m ON m.id = c.msg WHERE c.msg = ? ORDER BY c.id`), id)
	if err != nil {
		return e, s.wrap(ctx, "entity", err)
	}
	for rows.Next() {
		cp, err := scanCopy(rows)
		if err != nil {
			rows.Close()
			return e, s.wrap(ctx, "entity", err)
		}
		e.Copies = append(e.Copies, cp)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return e, s.wrap(ctx, "entity", err)
	}
	if len(e.Copies) > 0 {
		e.Message = e.Copies[0].Message
	} else {
		// A message whose copies all expired but which is still being
		// dropped; report it as gone.
		return hunt.Entity{}, fmt.Errorf("sqlstore: message %q: %w", networkID, hunt.ErrNotFound)
	}
	if err := s.messageContent(ctx, tx, id, &e.Message); err != nil {
		return hunt.Entity{}, s.wrap(ctx, "entity", err)
	}
	for i := range e.Copies {
		e.Copies[i].Message = e.Message
	}
	rows, err = tx.QueryContext(ctx, s.d.rebind(`SELECT kind, name, record, outcome, actor, mailbox, folder, uidvalidity, uid, at
		FROM annotations WHERE msg = ? ORDER BY at, id`), id)
	if err != nil {
		return hunt.Entity{}, s.wrap(ctx, "entity", err)
	}
	defer rows.Close()
	for rows.Next() {
		a := hunt.Annotation{NetworkID: e.Message.NetworkID}
		var kind string
		var uidv, uid, at int64
		if err := rows.Scan(&kind, &a.Name, &a.Record, &a.Outcome, &a.Actor, &a.Address.Mailbox, &a.Address.Folder, &uidv, &uid, &at); err != nil {
			return hunt.Entity{}, s.wrap(ctx, "entity", err)
		}
		a.Kind = hunt.AnnotationKind(kind)
		a.Address.UIDValidity, a.Address.UID = uint32(uidv), uint32(uid)
		a.At = fromNanos(at)
		e.Annotations = append(e.Annotations, a)
	}
	if err := rows.Err(); err != nil {
		return hunt.Entity{}, s.wrap(ctx, "entity", err)
	}
	return e, nil
}

// messageContent reads the URLs and attachments of message id into m.
func (s *Store) messageContent(ctx context.Context, tx *sql.Tx, id int64, m *hunt.Message) error {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT url FROM urls WHERE msg = ? ORDER BY ord`), id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return err
		}
		m.URLs = append(m.URLs, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, s.d.rebind(`SELECT name, type, size, sha256, tlsh, inline FROM attachments WHERE msg = ? ORDER BY ord`), id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a hunt.Attachment
		var inline int
		if err := rows.Scan(&a.Name, &a.Type, &a.Size, &a.SHA256, &a.TLSH, &inline); err != nil {
			return err
		}
		a.Inline = inline != 0
		m.Attachments = append(m.Attachments, a)
	}
	return rows.Err()
}
