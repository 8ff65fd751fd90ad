/**
 * The WHERE of a search and how to count its matches. Before the query, each index condition is sampled (token
 * conditions first): its first FIRST_CAP index rows, by a plain indexed SELECT. A condition with fewer is exactly
 * known and, the most selective one, drives the query (Planner.predicates); its sample is also the exact count of a
 * single condition. When every condition has FIRST_CAP rows or more, each is counted up to PROBE_CAP (each only as
 * far as the best so far) and the smallest drives; if none is under PROBE_CAP, none drives, and the engine walks the
 * type in id order checking each row, which finds a first page quickly when matches are common. (An engine would
 * choose this itself from statistics if it had them for each value; SQLite's IN lists give it none.)
 */
import { join, sql, type Sql } from '../sql/sql.js';
import type { Queryer } from '../storage/store.js';
import type { Condition } from './parse.js';
import { isListable, type Compiled, type Planner } from './plan.js';

const PROBE_CAP = 1000;
const FIRST_CAP = 64;
/** Index rows few enough that sampling stops there (the bots' patient-level prior-level search: one row). */
const ENOUGH = 8;

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
  const probes = compiled.map((c, i) => ({ i, c, own: !('idColumn' in c && c.idColumn) })).filter((p) => isListable(p.c));
  if (probes.length === 0) return {};
  // Token conditions (codes, identifiers) are sampled first: they are usually the selective ones, and each later
  // sample reads no further than the best so far, so a patient's thousands of references are not read to 64 when
  // the code has one match. The choice itself does not depend on the order.
  probes.sort((a, b) => Number(!isToken(a.c)) - Number(!isToken(b.c)) || a.i - b.i);
  // A first pass reads each condition's first FIRST_CAP index rows (a plain indexed SELECT, cheaper than the
  // aggregate below): a selective condition (an identifier, a patient's one prior-level Observation beside the
  // patient's thousands) is found, and counted exactly, without counting the common ones up to PROBE_CAP.
  const first = await sampleAll(db, planner, probes);
  if (first.n < FIRST_CAP) return { driver: first.i, total: first.own ? first.d : undefined };
  const best = await probeAll(db, planner, probes, PROBE_CAP);
  if (best.n >= PROBE_CAP) return { driver: -1 };
  return { driver: best.i, total: best.own ? best.d : undefined };
}

function isToken(c: Compiled): boolean {
  return 'match' in c && c.match.table === 'token';
}

interface Probed {
  i: number;
  /** Index rows, up to the cap. */
  n: number;
  /** Distinct resources among them. */
  d: number;
  own: boolean;
}

type Probe = { i: number; c: Compiled; own: boolean };

/** The first FIRST_CAP rows of each condition (stopping at one that has none); the condition with the fewest. */
async function sampleAll(db: Queryer, planner: Planner, probes: Probe[]): Promise<Probed> {
  let best: Probed | undefined;
  for (const { i, c, own } of probes) {
    // Fewer rows than the best so far is all that can win: no need to read more.
    const rows = await db.all<{ id: string }>(planner.sample(c, best ? best.n : FIRST_CAP) as Sql);
    if (!best || rows.length < best.n) best = { i, n: rows.length, d: new Set(rows.map((r) => r.id)).size, own };
    // A driver this selective leaves the others a few candidates to check by key: cheaper than sampling them too.
    if (best.n <= ENOUGH) break;
  }
  return best as Probed;
}

/** Counts each condition up to `cap` (each later one only up to the best so far) and returns the smallest. */
async function probeAll(db: Queryer, planner: Planner, probes: Probe[], cap: number): Promise<Probed> {
  let best: Probed | undefined;
  for (const { i, c, own } of probes) {
    const limit = best ? Math.min(cap, best.n) : cap;
    const row = await db.get<{ n: number; d: number }>(planner.probe(c, limit) as Sql);
    const n = Number(row?.n ?? 0);
    if (!best || n < best.n) best = { i, n, d: Number(row?.d ?? 0), own };
    if (n === 0) break;
  }
  return best as Probed;
}
