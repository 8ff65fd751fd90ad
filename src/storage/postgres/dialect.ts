import { join, sql, type Dialect } from '../../sql/sql.js';

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
  // Select-list items are evaluated left to right: the locks are taken in the order given.
  sharedTransactionLocks: (keys) =>
    keys.length === 0 ? undefined : sql`SELECT ${join(keys.map((k) => sql`pg_advisory_xact_lock_shared(CAST(${k} AS BIGINT))`), ', ')}`,
  viewTable: (name) => `views."${name}"`,
  viewTablesSetup: ['CREATE SCHEMA IF NOT EXISTS views'],
  // NUMERIC keeps a FHIR decimal exactly (R4 datatypes.html#decimal); timestamps with their zone, shown in UTC.
  viewColumnTypes: {
    boolean: 'BOOLEAN',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    decimal: 'NUMERIC',
    date: 'DATE',
    timestamp: 'TIMESTAMPTZ',
    time: 'TIME',
    text: 'TEXT',
    json: 'JSONB',
  },
};
