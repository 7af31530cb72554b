package pgjournal

import (
	"context"
	"encoding/binary"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// MigrateTo brings schema to version, as an older version of this package
// would have left it.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, schema string, version int) error {
	return migrate(ctx, pool, newQueries(schema), nil, version)
}

// EncodeRowV1 encodes entries as a row of format 1, as versions before
// schema version 4 wrote them.
func EncodeRowV1(entries []remediation.Entry) ([]byte, error) {
	var b []byte
	for _, e := range entries {
		raw, err := journal.MarshalEntry(nil, e)
		if err != nil {
			return nil, err
		}
		b = binary.AppendUvarint(b, uint64(len(raw)))
		b = append(b, raw...)
	}
	return b, nil
}
