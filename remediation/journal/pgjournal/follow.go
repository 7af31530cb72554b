package pgjournal

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// Follow calls fn with the entries appended, by any journal on the
// schema, after mark, and returns the mark to pass next time. The empty
// mark means the start. When the journal was rewritten since mark,
// rewritten is true and fn gets every entry from the start: the caller
// starts over. Follow reads one snapshot and, with a key, verifies the
// entries it reads as Replay does: the mark carries the chain.
func (j *Journal) Follow(ctx context.Context, mark string, fn func(remediation.Entry) error) (next string, rewritten bool, err error) {
	m, err := parseMark(mark)
	if err != nil {
		return "", false, err
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
	var stored head
	if err := stored.scan(tx.QueryRow(ctx, j.q.head)); err != nil {
		return "", false, fmt.Errorf("pgjournal: follow: %w", err)
	}
	var gen int64
	if err := tx.QueryRow(ctx, j.q.follow).Scan(&gen); err != nil {
		return "", false, fmt.Errorf("pgjournal: follow: %w", err)
	}
	if mark != "" && gen != m.gen {
		rewritten, m = true, followMark{}
	}
	if mark == "" || rewritten {
		m = followMark{gen: gen}
	}
	var c *journal.Chain
	if j.key != nil {
		if m.next == 0 {
			c = journal.NewChain(j.key)
		} else if c, err = j.chainAt(head{entries: m.entries, mac: m.mac}); err != nil {
			return "", false, err
		}
	}
	var hs *journal.Heads
	if len(j.heads) > 0 {
		hs, _ = journal.NewHeads(j.key, j.heads) // checked by Open
	}
	if _, err := walkFrom(ctx, tx, j.q, stored, c, m.next-1, hs, fn); err != nil {
		return "", false, err
	}
	return followMark{gen: gen, next: stored.next, entries: stored.entries, mac: stored.mac}.String(), rewritten, nil
}

// followMark is where a Follow ended: the journal's generation, the seq
// of the next row, and the chain there.
type followMark struct {
	gen, next, entries int64
	mac                []byte
}

func (m followMark) String() string {
	return fmt.Sprintf("%d:%d:%d:%s", m.gen, m.next, m.entries, hex.EncodeToString(m.mac))
}

func parseMark(s string) (followMark, error) {
	if s == "" {
		return followMark{}, nil
	}
	f := strings.Split(s, ":")
	var m followMark
	var errs [4]error
	if len(f) == 4 {
		m.gen, errs[0] = strconv.ParseInt(f[0], 10, 64)
		m.next, errs[1] = strconv.ParseInt(f[1], 10, 64)
		m.entries, errs[2] = strconv.ParseInt(f[2], 10, 64)
		m.mac, errs[3] = hex.DecodeString(f[3])
	}
	if len(f) != 4 || errors.Join(errs[:]...) != nil || m.next < 0 || m.entries < 0 {
		return followMark{}, fmt.Errorf("pgjournal: follow: bad mark %q", s)
	}
	return m, nil
}
