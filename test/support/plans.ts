/**
 * Query plans of searches (issue 27): every SQL statement Stride's searcher sends for a search URL, and how the
 * engine reads each table in it (SQLite EXPLAIN QUERY PLAN; PostgreSQL EXPLAIN (FORMAT JSON)), in one form for both
 * engines: an access per table read, the index it uses and whether it reads the whole table or index.
 */
import { createSearcher } from '../../src/search/searcher.js';
import type { SearchQuery } from '../../src/search/types.js';
import { raw, render, sql, type Sql } from '../../src/sql/sql.js';
import type { Queryer, Row, Store } from '../../src/storage/store.js';

/** How one table is read in a plan. */
export interface Access {
  /** The table (resource, search_token, ...), from the statement's `FROM table alias`. */
  table: string;
  alias: string;
  /** The index read, if any. */
  index?: string;
  /**
   * The index key the engine looks up (SQLite: `id=? AND resource_type=?`; PostgreSQL: the Index Cond), empty
   * when it reads the whole table or index.
   */
  key: string;
  /** Every row of the table, or of an index, is read (no key): a full scan. */
  full: boolean;
}

export interface StatementPlan {
  sql: string;
  accesses: Access[];
  /** The engine's plan as text, for failure messages. */
  text: string;
}

/** `/Observation?a=b` or `/Patient/x/Procedure?...` -> the searcher's query (no total, the first page). */
export function toSearchQuery(urlPath: string): SearchQuery {
  const url = new URL(urlPath.replace(/^\/?(fhir\/)?/, '/'), 'http://plan');
  const parts = url.pathname.slice(1).split('/');
  const params: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (params[name] ??= []).push(value);
  const query: SearchQuery = { resourceType: parts.at(-1) as string, params, count: Number(params._count?.[0] ?? 20), offset: 0, total: 'none' };
  if (parts.length === 3) query.compartment = { type: parts[0] as string, id: parts[1] as string };
  return query;
}

/** The statements a search sends, in order, and the plan of each. */
export async function searchPlans(store: Store, urlPath: string): Promise<StatementPlan[]> {
  const statements: Sql[] = [];
  const recording: Queryer = {
    all: async <R extends Row>(query: Sql) => {
      statements.push(query);
      return store.reader.all<R>(query);
    },
    get: async <R extends Row>(query: Sql): Promise<R | undefined> => (await recording.all<R>(query))[0],
    run: (query: Sql) => store.reader.run(query),
  };
  await createSearcher().search(recording, toSearchQuery(urlPath));
  const plans: StatementPlan[] = [];
  for (const statement of statements) plans.push(await explain(store, statement));
  return plans;
}

const isPostgres = (store: Store): boolean => store.dialect.placeholder(1) !== '?';

/** `FROM search_token x1`, `JOIN search_reference x3`, `FROM resource a` -> alias -> table. */
function aliases(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of text.matchAll(/\b(resource|search_[a-z]+)\s+([a-z]+\d*)\b/g)) {
    if (!['WHERE', 'AS', 'ON', 'CROSS', 'JOIN'].includes(m[2].toUpperCase())) map.set(m[2], m[1]);
  }
  return map;
}

let explained = 0;

export async function explain(store: Store, statement: Sql): Promise<StatementPlan> {
  const text = render(statement, store.dialect).text;
  const tables = aliases(text);
  if (!isPostgres(store)) {
    // A new text each time: the store keeps prepared statements by text, and an EXPLAIN reads no table, so a kept
    // one is never re-prepared after an index is dropped (it would show the old plan).
    const rows = await store.reader.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${statement} ${raw(`/* ${++explained} */`)}`);
    const accesses = rows.flatMap((r) => {
      const m = /^(SCAN|SEARCH) (\w+)(?: EXISTS)?(?: USING (?:COVERING |PRIMARY KEY |INTEGER PRIMARY KEY )?INDEX (\w+))?(?: \((.*)\))?/.exec(r.detail);
      if (!m || !tables.has(m[2])) return [];
      return [{ table: tables.get(m[2]) as string, alias: m[2], index: m[3], key: m[4] ?? '', full: m[1] === 'SCAN' }];
    });
    return { sql: text, accesses, text: rows.map((r) => r.detail).join('\n') };
  }
  // A few hundred rows make a sequential scan the cheapest read of any table; off, the planner shows the index
  // path it would take at scale (a cost penalty, not a ban: with no usable index it still scans, and says so).
  const plan = await store.transaction(async (tx) => {
    await tx.run(raw('SET LOCAL enable_seqscan = off'));
    return tx.all<Record<string, unknown>>(sql`EXPLAIN (FORMAT JSON) ${statement}`);
  });
  const root = (plan[0]['QUERY PLAN'] as Array<{ Plan: PgNode }>)[0].Plan;
  const accesses: Access[] = [];
  walk(root, (node, heap) => {
    const type = node['Node Type'];
    if (type === 'Seq Scan') accesses.push({ table: node['Relation Name'] as string, alias: node.Alias as string, key: '', full: true });
    if (type === 'Index Scan' || type === 'Index Only Scan' || type === 'Bitmap Index Scan') {
      const owner = type === 'Bitmap Index Scan' ? heap : node;
      const key = String(node['Index Cond'] ?? '');
      accesses.push({ table: String(owner?.['Relation Name'] ?? tableOfIndex(node['Index Name'] as string)), alias: String(owner?.Alias ?? ''), index: node['Index Name'] as string, key, full: key === '' });
    }
  });
  return { sql: text, accesses, text: JSON.stringify(root, null, 1) };
}

type PgNode = Record<string, unknown> & { Plans?: PgNode[] };

/** Visits every node with the Bitmap Heap Scan above it, if any (its Bitmap Index Scans name only the index). */
function walk(node: PgNode, visit: (node: PgNode, heap?: PgNode) => void, heap?: PgNode): void {
  visit(node, heap);
  for (const child of node.Plans ?? []) walk(child, visit, node['Node Type'] === 'Bitmap Heap Scan' ? node : heap);
}

/** search_token_code -> search_token (the tables' indexes are named after them). */
function tableOfIndex(index: string): string {
  return /^(search_[a-z]+|resource)/.exec(index)?.[1] ?? index;
}
