import type { Dialect } from '../../sql/sql.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  placeholder: () => '?',
  autoIncrementKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  // One writer at a time: the open write transaction already holds the database lock.
  lockRows: '',
};
