package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
)

// temporalDSN is the DSN of Temporal's main database on the cluster's
// PostgreSQL: the store's DSN with the database `temporal` (cluster up
// creates both on the same server).
func temporalDSN(storeDSN string) (string, error) {
	u, err := url.Parse(storeDSN)
	if err != nil {
		return "", fmt.Errorf("store DSN: %w", err)
	}
	u.Path = "/temporal"
	return u.String(), nil
}

// shardCounts counts the call workflows each history shard holds, read
// from Temporal's executions table: the history service exports no
// per-shard metric, and a step's new rows per shard show how evenly the
// workflow IDs' hash spread its calls.
func shardCounts(ctx context.Context, dsn string) (map[int]int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal's database: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT shard_id, count(*) FROM executions WHERE workflow_id LIKE 'call-%' GROUP BY shard_id`)
	if err != nil {
		return nil, fmt.Errorf("count executions per shard: %w", err)
	}
	out := map[int]int{}
	for rows.Next() {
		var shard, n int
		if err := rows.Scan(&shard, &n); err != nil {
			return nil, fmt.Errorf("count executions per shard: %w", err)
		}
		out[shard] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count executions per shard: %w", err)
	}
	return out, nil
}
