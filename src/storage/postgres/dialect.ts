import { sql, type Dialect } from '../../sql/sql.js';

export const postgresDialect: Dialect = {
  name: 'postgres',
  placeholder: (index) => `$${index + 1}`,
  autoIncrementKey: 'BIGSERIAL PRIMARY KEY',
  bytesType: 'BYTEA',
  // Several Stride processes may write at once: lock the rows a write reads before it changes them.
  lockRows: ' FOR UPDATE',
  // A transaction-scoped advisory lock: released by COMMIT or ROLLBACK, so no path can leak it; waits are seen by
  // the deadlock detector (40P01, retried by the store).
  transactionLock: (key) => sql`SELECT pg_advisory_xact_lock(CAST(${key} AS BIGINT))`,
  // A database's default collation may be linguistic (en_US skips punctuation): prefix ranges need code point order.
  binaryCollation: ' COLLATE "C"',
  // Every statement is a round trip to the server: many rows per INSERT.
  rowsPerInsert: 200,
  writesInWith: true,
};
