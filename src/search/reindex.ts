/**
 * Rebuilds the search index from the stored resources (issue 3: `stride reindex`). Batches of one type, in id order,
 * each in its own transaction: the batch's rows are locked (so a concurrent write waits instead of being
 * overwritten with older content), their index rows replaced; rows left behind by deleted resources are removed at
 * the end. A server may keep serving meanwhile: every search sees either the old or the new rows of a resource.
 */
import type { Resource } from '@medplum/fhirtypes';
import { join, raw, sql } from '../sql/sql.js';
import type { ResourceRow, Store } from '../storage/store.js';
import { extractRows } from './extract.js';
import { insertIndexRows } from './indexer.js';
import type { ResourceRows } from './types.js';
import { INDEX_TABLES, INDEX_TABLE_NAMES } from './tables.js';

const BATCH = 500;

export interface ReindexProgress {
  type: string;
  resources: number;
  rows: number;
}

export interface ReindexResult {
  byType: Map<string, { resources: number; rows: number }>;
  resources: number;
  rows: number;
}

/** The types that have current resources, or the ones asked for. */
export async function typesToReindex(store: Store, only?: readonly string[]): Promise<string[]> {
  if (only?.length) return [...only];
  const rows = await store.reader.all<{ resource_type: string }>(sql`SELECT DISTINCT resource_type FROM resource ORDER BY resource_type`);
  return rows.map((r) => r.resource_type);
}

export async function reindex(store: Store, types: readonly string[], onBatch?: (p: ReindexProgress) => void): Promise<ReindexResult> {
  const result: ReindexResult = { byType: new Map(), resources: 0, rows: 0 };
  for (const type of types) {
    const counts = { resources: 0, rows: 0 };
    let after = '';
    for (;;) {
      const batch = await store.transaction(async (tx) => {
        const rows = await tx.all<ResourceRow>(
          sql`SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource
              WHERE resource_type = ${type} AND id > ${after} ORDER BY id LIMIT ${BATCH}${raw(store.dialect.lockRows)}`,
        );
        if (rows.length === 0) return { last: undefined, resources: 0, rows: 0 };
        const ids = join(rows.map((r) => sql`${r.id}`), ', ');
        for (const table of INDEX_TABLE_NAMES) {
          await tx.run(sql`DELETE FROM ${raw(INDEX_TABLES[table].name)} WHERE resource_type = ${type} AND id IN (${ids})`);
        }
        const live: ResourceRows[] = rows
          .filter((r) => Number(r.deleted) === 0)
          .map((r) => ({ resourceType: type, id: r.id, rows: extractRows(JSON.parse(r.content) as Resource) }));
        const written = await insertIndexRows(tx, store.dialect, live);
        return { last: rows[rows.length - 1].id, resources: live.length, rows: written };
      });
      if (batch.last === undefined) break;
      after = batch.last;
      counts.resources += batch.resources;
      counts.rows += batch.rows;
      onBatch?.({ type, resources: counts.resources, rows: counts.rows });
    }
    result.byType.set(type, counts);
    result.resources += counts.resources;
    result.rows += counts.rows;
  }
  if (types.length > 0) await removeOrphans(store, types);
  return result;
}

/**
 * Index rows of `types` whose resource no longer exists (a purged row) or is deleted, after every type is reindexed:
 * one pass over each index table for all the types (no index begins with the type: a resource's rows are keyed id
 * first, schema migration 4).
 */
async function removeOrphans(store: Store, types: readonly string[]): Promise<void> {
  const list = join(types.map((t) => sql`${t}`), ', ');
  await store.transaction(async (tx) => {
    for (const table of INDEX_TABLE_NAMES) {
      const name = raw(INDEX_TABLES[table].name);
      await tx.run(
        sql`DELETE FROM ${name} WHERE resource_type IN (${list})
            AND NOT EXISTS (SELECT 1 FROM resource r WHERE r.resource_type = ${name}.resource_type AND r.id = ${name}.id AND r.deleted = 0)`,
      );
    }
  });
}
