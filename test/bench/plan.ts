/**
 * The query plan of a search (issue 3: "report the query plan of the slowest query"): the search runs once through
 * Stride's own searcher on a second connection to the bench database, every SQL statement it sends is recorded, and
 * the engine explains the slowest of them (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).
 */
import { createSearcher } from '../../src/search/searcher.js';
import { openStore } from '../../src/storage/open.js';
import { loadConfig } from '../../src/config.js';
import { sql, type Sql } from '../../src/sql/sql.js';
import type { Queryer, Row } from '../../src/storage/store.js';
import type { SearchQuery } from '../../src/search/types.js';

/** `/fhir/Observation?a=b` or `/fhir/Patient/x/Procedure?...` -> the searcher's query. */
function toQuery(urlPath: string): SearchQuery {
  const url = new URL(urlPath, 'http://bench');
  const parts = url.pathname.replace(/^\/fhir\//, '').split('/');
  const params: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (params[name] ??= []).push(value);
  const count = Number(params._count?.[0] ?? 20);
  const query: SearchQuery = { resourceType: parts.at(-1) as string, params, count, offset: 0, total: 'none' };
  if (parts.length === 3) query.compartment = { type: parts[0] as string, id: parts[1] as string };
  return query;
}

export async function explainSearch(env: Record<string, string>, urlPath: string): Promise<string> {
  const store = await openStore(loadConfig({ ...process.env, ...env }));
  try {
    const timed: Array<{ query: Sql; ms: number }> = [];
    const recording: Queryer = {
      all: async <R extends Row>(query: Sql) => {
        const t = performance.now();
        const rows = await store.reader.all<R>(query);
        timed.push({ query, ms: performance.now() - t });
        return rows;
      },
      get: async <R extends Row>(query: Sql): Promise<R | undefined> => (await recording.all<R>(query))[0],
      run: (query: Sql) => store.reader.run(query),
    };
    await createSearcher().search(recording, toQuery(urlPath));
    const slowest = timed.sort((a, b) => b.ms - a.ms)[0];
    if (!slowest) return 'no SQL ran';
    const postgres = store.dialect.placeholder(1) !== '?';
    const plan = await store.reader.all<Record<string, unknown>>(postgres ? sql`EXPLAIN ANALYZE ${slowest.query}` : sql`EXPLAIN QUERY PLAN ${slowest.query}`);
    const lines = postgres ? plan.map((r) => String(r['QUERY PLAN'])) : plan.map((r) => `${'  '.repeat(depthOf(plan, r))}${String(r.detail)}`);
    return [`slowest statement ${slowest.ms.toFixed(2)} ms of ${timed.length}:`, ...lines.map((l) => `    ${l}`)].join('\n');
  } finally {
    await store.close();
  }
}

/** SQLite's plan rows form a tree by id/parent. */
function depthOf(rows: Array<Record<string, unknown>>, row: Record<string, unknown>): number {
  let depth = 0;
  let parent = row.parent;
  while (parent) {
    depth++;
    parent = rows.find((r) => r.id === parent)?.parent;
  }
  return depth;
}

/** What autovacuum would do after a bulk load (it is off on these machines): Store.analyze on the bench database. */
export async function analyzeDatabase(env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const store = await openStore(loadConfig({ ...process.env, ...env }));
  try {
    await store.analyze();
  } finally {
    await store.close();
  }
  return performance.now() - started;
}
