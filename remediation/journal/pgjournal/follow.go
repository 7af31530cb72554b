package pgjournal

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eradicate-dev/eradicate/remediation"
)

// Follow calls fn with the entries appended, by any journal on the
// schema, after mark, and returns the mark to pass next time. The empty
// mark means the start. When the journal was rewritten since mark,
// rewritten is true and fn gets every entry from the start: the caller
// starts over. Follow reads one snapshot; it does not verify the chain
// (Replay and Verify do).
func (j *Journal) Follow(ctx context.Context, mark string, fn func(remediation.Entry) error) (next string, rewritten bool, err error) {
	gen, from := int64(-1), int64(0)
	if mark != "" {
		g, s, ok := strings.Cut(mark, ":")
		var err1, err2 error
		gen, err1 = strconv.ParseInt(g, 10, 64)
		from, err2 = strconv.ParseInt(s, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return "", false, fmt.Errorf("pgjournal: follow: bad mark %q", mark)
		}
	}
	if err := j.begin(); err != nil {
		return "", false, err
	}
	defer j.active.Done()
	tx, err := j.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return "", false, fmt.Errorf("pgjournal: follow: %w", err)
	}
	defer tx.Rollback(context.Background())
	var hgen, hnext int64
	if err := tx.QueryRow(ctx, j.q.follow).Scan(&hgen, &hnext); err != nil {
		return "", false, fmt.Errorf("pgjournal: follow: %w", err)
	}
	if hgen != gen {
		rewritten, from = mark != "", 0
	}
	err = scanRowsFrom(ctx, tx, j.q, from-1, func(r row) error {
		return splitBlock(r.payload, func(raw []byte) error {
			e, err := decodeEntry(raw)
			if err != nil {
				return err
			}
			return fn(e)
		})
	})
	if err != nil {
		return "", false, err
	}
	return fmt.Sprintf("%d:%d", hgen, hnext), rewritten, nil
}
