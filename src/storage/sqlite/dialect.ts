import type { Dialect } from '../../sql/sql.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  placeholder: () => '?',
  // A rowid alias: increasing as long as history rows are never deleted, and without AUTOINCREMENT's extra
  // sqlite_sequence write on every insert.
  autoIncrementKey: 'INTEGER PRIMARY KEY',
  bytesType: 'BLOB',
  // One writer at a time: the open write transaction already holds the database lock.
  lockRows: '',
  // Write transactions are serialised (BEGIN IMMEDIATE and one writer connection): there is nothing to lock.
  transactionLock: () => undefined,
  // BINARY, SQLite's default collation, already compares UTF-8 bytes.
  binaryCollation: '',
  // In-process: a single-row prepared statement run per row beats a VALUES list (measured 9 vs 27 us a row).
  rowsPerInsert: 1,
  // No INSERT or UPDATE inside WITH; in-process, two statements cost no round trip.
  writesInWith: false,
  sharedTransactionLocks: () => undefined,
  // Beside the data, prefixed so they cannot be taken for Stride's own tables.
  viewTable: (name) => `"view_${name}"`,
  viewTablesSetup: [],
  // SQLite keeps any value in any column; the declared type is what a BI tool reads. Dates and times are ISO 8601
  // text (what SQLite's date functions take), timestamps in UTC so that they sort; booleans 1 and 0.
  viewColumnTypes: {
    boolean: 'BOOLEAN',
    integer: 'INTEGER',
    bigint: 'INTEGER',
    decimal: 'REAL',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
    time: 'TIME',
    text: 'TEXT',
    json: 'TEXT',
  },
};
