/**
 * Reads the current DetectedIssues with the given ids in one query. A finding's id is derived from its rule and
 * subject (findings.ts), so a session's possible findings are known ids: one indexed lookup instead of a search per
 * rule, on the write's own transaction.
 */
import { join, sql } from '../sql/sql.js';
import type { Repository, StoredResource } from '../repo/repository.js';
import { toStored } from '../repo/repository.js';
import type { ResourceRow } from '../storage/store.js';

/** Bound parameters per query, well under every engine's limit. */
const CHUNK = 500;

export async function readDetectedIssues(tx: Repository, ids: readonly string[]): Promise<Map<string, StoredResource>> {
  const found = new Map<string, StoredResource>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const list = join(ids.slice(i, i + CHUNK).map((id) => sql`${id}`), ', ');
    const rows = await tx.db.all<ResourceRow>(
      sql`SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource WHERE resource_type = ${'DetectedIssue'} AND id IN (${list})`,
    );
    for (const row of rows) found.set(row.id, toStored(row));
  }
  return found;
}
