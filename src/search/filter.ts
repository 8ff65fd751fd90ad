/**
 * The WHERE of a search and how to count its matches. With several index conditions, each is first counted up to
 * PROBE_CAP rows and the most selective drives the query (Planner.predicates); if none is under the cap, none
 * drives, and the engine walks the type in id order checking each row, which finds a first page quickly when
 * matches are common. (An engine would choose this itself from statistics if it had them for each value; SQLite's
 * IN lists give it none.) A single condition's probe is also its exact count when it stays under the cap.
 */
import { join, sql, type Sql } from '../sql/sql.js';
import type { Queryer } from '../storage/store.js';
import type { Condition } from './parse.js';
import type { Compiled, Planner } from './plan.js';

const PROBE_CAP = 1000;

export interface Filter {
  /** Condition on resource alias `a`: current, not deleted, of the types, matching every condition. */
  where: Sql;
  /** The number of matches, when planning already counted them exactly. */
  total?: number;
  /** The cheapest query counting the matches (`n`). */
  count: Sql;
}

export async function buildFilter(db: Queryer, planner: Planner, types: string[], conditions: Condition[][]): Promise<Filter> {
  const and = (preds: Sql[]): Sql => join(preds.map((p) => sql` AND ${p}`), '');
  if (types.length > 1) {
    const per = types.map((type, i) => ({ type, preds: planner.predicates(planner.compileAll(type, conditions[i]), 'a') }));
    let where = sql`a.resource_type IN (${join(types.map((t) => sql`${t}`), ', ')}) AND a.deleted = 0`;
    if (per.some((p) => p.preds.length > 0)) where = sql`${where} AND (${join(per.map((p) => sql`(a.resource_type = ${p.type}${and(p.preds)})`), ' OR ')})`;
    return { where, count: countAll(where) };
  }
  const compiled = planner.compileAll(types[0], conditions[0]);
  const { driver, total } = await chooseDriver(db, planner, compiled);
  const where = sql`a.resource_type = ${types[0]} AND a.deleted = 0${and(planner.predicates(compiled, 'a', driver))}`;
  const single = compiled.length === 1 ? planner.countOnly(compiled[0]) : undefined;
  return { where, total: compiled.length === 1 ? total : undefined, count: single ?? countAll(where) };
}

function countAll(where: Sql): Sql {
  return sql`SELECT COUNT(*) AS n FROM resource a WHERE ${where}`;
}

async function chooseDriver(db: Queryer, planner: Planner, compiled: Compiled[]): Promise<{ driver?: number; total?: number }> {
  if (compiled.some((c) => 'drives' in c && c.drives)) return { driver: -1 };
  const probes = compiled.map((c, i) => ({ i, probe: planner.probe(c, PROBE_CAP), own: !('idColumn' in c && c.idColumn) }));
  let best: { i: number; n: number; d: number; own: boolean } | undefined;
  for (const { i, probe, own } of probes) {
    if (!probe) continue;
    const row = await db.get<{ n: number; d: number }>(probe);
    const n = Number(row?.n ?? 0);
    if (!best || n < best.n) best = { i, n, d: Number(row?.d ?? 0), own };
    if (n === 0) break;
  }
  if (!best) return {};
  if (best.n >= PROBE_CAP) return { driver: -1 };
  return { driver: best.i, total: best.own ? best.d : undefined };
}
