/** Current (not deleted) resources per type, read straight from the database. */
import { sql } from '../../src/sql/sql.js';
import type { Store } from '../../src/storage/store.js';

export async function storedCounts(store: Store): Promise<Record<string, number>> {
  const rows = await store.reader.all<{ resource_type: string; n: number }>(
    sql`SELECT resource_type, COUNT(*) AS n FROM resource WHERE deleted = 0 GROUP BY resource_type`,
  );
  return Object.fromEntries(rows.map((r) => [r.resource_type, Number(r.n)]));
}
