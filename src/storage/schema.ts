/**
 * Versioned migrations, one logical schema for every engine (DESIGN §4). Plain column types only; the dialect
 * supplies the one spelling that differs (an auto-increment key).
 */
import type { Dialect } from '../sql/sql.js';

export interface Migration {
  version: number;
  name: string;
  statements(dialect: Dialect): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resource and history',
    statements: (d) => [
      `CREATE TABLE resource (
        resource_type VARCHAR(64) NOT NULL,
        id VARCHAR(64) NOT NULL,
        version_id INTEGER NOT NULL,
        last_updated BIGINT NOT NULL,
        deleted INTEGER NOT NULL,
        content TEXT NOT NULL,
        PRIMARY KEY (resource_type, id)
      )`,
      `CREATE TABLE resource_history (
        seq ${d.autoIncrementKey},
        resource_type VARCHAR(64) NOT NULL,
        id VARCHAR(64) NOT NULL,
        version_id INTEGER NOT NULL,
        last_updated BIGINT NOT NULL,
        deleted INTEGER NOT NULL,
        content TEXT NOT NULL
      )`,
      // Every index costs each write a b-tree page: history has only what its three scopes need.
      `CREATE UNIQUE INDEX resource_history_version ON resource_history (resource_type, id, version_id)`,
      `CREATE INDEX resource_history_type_seq ON resource_history (resource_type, seq)`,
    ],
  },
];
