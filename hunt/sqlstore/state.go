package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// What a restarted process needs besides the events index is kept beside
// it: the cluster index's log and the detection rules.
var (
	_ cluster.Log = (*Store)(nil)
	_ rules.Store = (*Store)(nil)
)

// AppendClusterEntries implements [cluster.Log]: the entries are written
// in one transaction, after those written before (on PostgreSQL also
// after those of other processes sharing the database).
func (s *Store) AppendClusterEntries(ctx context.Context, entries [][]byte) error {
	if len(entries) == 0 {
		return s.check(ctx)
	}
	return s.inTx(ctx, "append cluster entries", func(st *stmts) error {
		rows := rowsOf(`INSERT INTO cluster_entries (entry)`, 1, ``)
		for _, e := range entries {
			rows.add(slices.Clone(e))
		}
		return rows.flush(st)
	})
}

// clusterPage is how many cluster entries one query reads.
const clusterPage = 10000

// ClusterEntries implements [cluster.Log]. It reads the entries a page
// at a time, so that no read transaction stays open while the caller
// rebuilds its index.
func (s *Store) ClusterEntries(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		after := int64(0)
		for {
			if err := s.check(ctx); err != nil {
				yield(nil, err)
				return
			}
			page, last, err := s.clusterPage(ctx, after)
			if err != nil {
				yield(nil, s.wrap(ctx, "read cluster entries", err))
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
			}
			if len(page) < clusterPage {
				return
			}
			after = last
		}
	}
}

// clusterPage reads the entries after seq after, and the last one's seq.
func (s *Store) clusterPage(ctx context.Context, after int64) ([][]byte, int64, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT seq, entry FROM cluster_entries WHERE seq > ? ORDER BY seq LIMIT ?`), after, clusterPage)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var page [][]byte
	last := after
	for rows.Next() {
		var e []byte
		if err := rows.Scan(&last, &e); err != nil {
			return nil, 0, err
		}
		page = append(page, e)
	}
	return page, last, rows.Err()
}

// LoadRules implements [rules.Store]: the rules last saved, in their
// order; none when none were saved.
func (s *Store) LoadRules(ctx context.Context) ([]rules.Rule, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT name, rule FROM detection_rules ORDER BY pos`)
	if err != nil {
		return nil, s.wrap(ctx, "load detection rules", err)
	}
	defer rows.Close()
	var out []rules.Rule
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, s.wrap(ctx, "load detection rules", err)
		}
		var r rules.Rule
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("sqlstore: load detection rules: rule %q: %w", name, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "load detection rules", err)
	}
	return out, nil
}

// SaveRules implements [rules.Store]: list replaces the rules saved
// before, in one transaction.
func (s *Store) SaveRules(ctx context.Context, list []rules.Rule) error {
	raws := make([]string, len(list))
	for i := range list {
		raw, err := json.Marshal(&list[i])
		if err != nil {
			return fmt.Errorf("sqlstore: save detection rules: rule %q: %w", list[i].Name, err)
		}
		raws[i] = string(raw)
	}
	return s.inTx(ctx, "save detection rules", func(st *stmts) error {
		if _, err := st.exec(`DELETE FROM detection_rules`); err != nil {
			return err
		}
		rows := rowsOf(`INSERT INTO detection_rules (pos, name, rule)`, 3, ``)
		for i := range list {
			rows.add(i, list[i].Name, raws[i])
		}
		return rows.flush(st)
	})
}
