import type { Dialect } from '../../sql/sql.js';

export const postgresDialect: Dialect = {
  name: 'postgres',
  placeholder: (index) => `$${index + 1}`,
  autoIncrementKey: 'BIGSERIAL PRIMARY KEY',
  // Several Stride processes may write at once: lock the rows a write reads before it changes them.
  lockRows: ' FOR UPDATE',
};
