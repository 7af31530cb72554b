package pgjournal

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/remediation"
)

// MigrateTo brings schema to version, as an older version of this package
// would have left it.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, schema string, version int) error {
	return migrate(ctx, pool, newQueries(schema), nil, version)
}

// EncodeBlock is encodeBlock.
func EncodeBlock(entries []remediation.Entry) ([]byte, error) { return encodeBlock(nil, entries) }
