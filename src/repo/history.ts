/**
 * History pages, newest first. The first page pins a snapshot (the highest history sequence number then) and the
 * paging links carry it, so that writes made while a client pages do not shift the pages it has not read yet.
 */
import { sql, type Sql } from '../sql/sql.js';
import type { Queryer, ResourceRow } from '../storage/store.js';

export interface HistoryScope {
  type?: string;
  id?: string;
}

export interface HistoryPageOptions {
  count: number;
  offset: number;
  since?: number;
  snapshot?: number;
}

export interface HistoryPage {
  rows: ResourceRow[];
  hasMore: boolean;
  snapshot: number;
  total?: number;
}

function where(scope: HistoryScope, since: number | undefined, snapshot: number): Sql {
  let clause = sql`seq <= ${snapshot}`;
  if (scope.type) clause = sql`${clause} AND resource_type = ${scope.type}`;
  if (scope.id) clause = sql`${clause} AND id = ${scope.id}`;
  if (since !== undefined) clause = sql`${clause} AND last_updated >= ${since}`;
  return clause;
}

export async function readHistory(db: Queryer, scope: HistoryScope, options: HistoryPageOptions): Promise<HistoryPage> {
  const snapshot = options.snapshot ?? Number((await db.get<{ max: number }>(sql`SELECT MAX(seq) AS max FROM resource_history`))?.max ?? 0);
  const filter = where(scope, options.since, snapshot);
  const rows = await db.all<ResourceRow>(
    sql`SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource_history
        WHERE ${filter} ORDER BY seq DESC LIMIT ${options.count + 1} OFFSET ${options.offset}`,
  );
  // A total is cheap for one resource's versions; for a type or the system it would be a scan.
  const total = scope.id
    ? Number((await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM resource_history WHERE ${filter}`))?.n ?? 0)
    : undefined;
  return { rows: rows.slice(0, options.count), hasMore: rows.length > options.count, snapshot, total };
}
