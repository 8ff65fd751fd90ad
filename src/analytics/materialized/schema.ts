/**
 * Migration 8: which views are materialised (one row per view), read by every write that changes a resource type a
 * view reads, by every Stride process on the database. `definition` is the ViewDefinition as it was materialised (the
 * table's columns follow it), `view_version` its version; `last_issue` the last value a column could not hold.
 */
import type { Dialect } from '../../sql/sql.js';

export function materializedViewTables(d: Dialect): string[] {
  return [
    ...d.viewTablesSetup,
    `CREATE TABLE view_materialized (
      view_id VARCHAR(64) NOT NULL PRIMARY KEY,
      table_name VARCHAR(64) NOT NULL UNIQUE,
      resource_type VARCHAR(64) NOT NULL,
      view_version INTEGER NOT NULL,
      definition TEXT NOT NULL,
      synced_at BIGINT NOT NULL,
      last_issue TEXT
    )`,
    'CREATE INDEX view_materialized_type ON view_materialized (resource_type)',
  ];
}
