/**
 * Search conditions -> SQL (dialect-free, every value bound). Each condition selects rows of one index table; a
 * resource matches when its id is among those rows' ids (`:not` and `:missing=true`: when it has none). Chains and
 * `_has` nest the id sets of other types inside reference rows, so every level is a plain indexed lookup; `_has`
 * joins from its inner resources' rows to their reference rows. test/search/plans.test.ts guards the plans.
 */
import { join, raw, sql, type Sql } from '../sql/sql.js';
import type { Condition } from './parse.js';
import { rangeCondition } from './params/date.js';
import { referenceRows } from './params/reference.js';
import { paramType } from './params/registry.js';
import type { Match } from './params/types.js';
import { INDEX_TABLES } from './tables.js';
import { clampTime, dateRange, invalid, splitPrefix, unescape } from './values.js';

/**
 * A condition ready for SQL: rows of an index table, or a predicate on the resource row itself (`drives`: the
 * predicate is a primary-key lookup, `_id`, so nothing else need drive the search).
 */
export type Compiled = IndexCompiled | { predicate: (alias: string) => Sql; drives?: boolean };

/** An index condition: the resources whose `idColumn` (default id) is in its rows. */
export interface IndexCompiled {
  match: Match;
  idColumn?: string;
  /** `SELECT ... AS id` of the matches when the rows are not read from `match` alone (`_has`: a join). */
  list?: () => Sql;
  /** The test of one row of the candidate's own when not `match.where` (checked per candidate). */
  check?: (alias: string) => Sql;
}

/**
 * A condition whose matches can be listed from its index rows (sampled, counted, written `id IN (...)`): an index
 * match that is neither negated (`:not`, `:missing=true`) nor a presence check (`:missing=false`, Match.presence).
 */
export function isListable(c: Compiled): c is IndexCompiled {
  return 'match' in c && !c.match.negate && !c.match.presence;
}

export interface PlanOptions {
  baseUrl?: string;
}

export class Planner {
  private aliases = 0;

  constructor(private readonly options: PlanOptions = {}) {}

  /** A fresh table alias: nested subqueries never shadow each other's names. */
  alias(prefix: string): string {
    this.aliases++;
    return `${prefix}${this.aliases}`;
  }

  compileAll(type: string, conditions: readonly Condition[]): Compiled[] {
    return conditions.map((c) => this.compile(type, c));
  }

  /**
   * The conditions as predicates on resource alias `a`. The `driver` condition is written `a.id IN (...)`, which
   * the engine can start from; the others as correlated `EXISTS`, checked per candidate row with an index probe.
   * Without a driver (undefined) every condition is an IN; with -1, none is (a primary-key predicate or a scan in
   * id order drives).
   */
  predicates(compiled: readonly Compiled[], a: string, driver?: number): Sql[] {
    return compiled.map((c, i) => this.predicate(c, a, driver === undefined || driver === i));
  }

  /**
   * Counts a positive index condition's rows (n) and distinct resources (d), up to `cap` rows: how selective it is,
   * at the cost of at most `cap` index entries.
   */
  probe(compiled: Compiled, cap: number): Sql | undefined {
    if (!isListable(compiled)) return undefined;
    return sql`SELECT COUNT(*) AS n, COUNT(DISTINCT c.id) AS d FROM (${this.list(compiled)} LIMIT ${cap}) c`;
  }

  /** The first `cap` index rows of a condition (`SELECT id`): fewer than `cap` is its exact match list. */
  sample(compiled: Compiled, cap: number): Sql | undefined {
    if (!isListable(compiled)) return undefined;
    return sql`${this.list(compiled)} LIMIT ${cap}`;
  }

  /** `SELECT ... AS id` of an index condition's rows, one per row (a resource may have several). */
  private list(compiled: IndexCompiled): Sql {
    if (compiled.list) return compiled.list();
    const x = this.alias('x');
    return sql`SELECT ${raw(x)}.${raw(compiled.idColumn ?? 'id')} AS id FROM ${table(compiled.match)} ${raw(x)} WHERE ${compiled.match.where(x)}`;
  }

  /** Counts the resources of a single index condition from the index alone (its rows belong to live resources). */
  countOnly(compiled: Compiled): Sql | undefined {
    if (!isListable(compiled) || compiled.idColumn) return undefined;
    const x = this.alias('x');
    return sql`SELECT COUNT(DISTINCT ${raw(x)}.id) AS n FROM ${table(compiled.match)} ${raw(x)} WHERE ${compiled.match.where(x)}`;
  }

  /** `SELECT ... AS id` of the resources of `type` matching every condition (an id may come more than once). */
  ids(type: string, conditions: readonly Condition[]): Sql {
    const compiled = this.compileAll(type, conditions);
    const only = compiled.length === 1 ? compiled[0] : undefined;
    if (only && isListable(only)) return this.list(only);
    const b = this.alias('r');
    const preds = this.predicates(compiled, b);
    return sql`SELECT ${raw(b)}.id AS id FROM resource ${raw(b)} WHERE ${raw(b)}.resource_type = ${type} AND ${raw(b)}.deleted = 0${join(preds.map((p) => sql` AND ${p}`), '')}`;
  }

  private predicate(compiled: Compiled, a: string, drive: boolean): Sql {
    if ('predicate' in compiled) return compiled.predicate(a);
    const { match } = compiled;
    const x = this.alias('x');
    const alias = raw(x);
    const id = raw(compiled.idColumn ?? 'id');
    if (match.negate) {
      return sql`NOT EXISTS (SELECT 1 FROM ${table(match)} ${alias} WHERE ${alias}.resource_type = ${raw(a)}.resource_type AND ${alias}.id = ${raw(a)}.id AND ${match.where(x)})`;
    }
    if (!drive || match.presence) {
      // Checked per candidate: find the candidate's own rows by its key, then test them. The CASE hides the value
      // test from index choice: without statistics SQLite would rather range-scan a value index than look up one
      // resource's rows.
      const key = compiled.idColumn ? sql`${alias}.target_type = ${raw(a)}.resource_type` : sql`${alias}.resource_type = ${raw(a)}.resource_type`;
      const test = 'check' in compiled && compiled.check ? compiled.check(x) : match.where(x);
      return sql`EXISTS (SELECT 1 FROM ${table(match)} ${alias} WHERE ${key} AND ${alias}.${id} = ${raw(a)}.id AND CASE WHEN ${test} THEN 1 ELSE 0 END = 1)`;
    }
    if (compiled.list) return sql`${raw(a)}.id IN (${compiled.list()})`;
    return sql`${raw(a)}.id IN (SELECT ${alias}.${id} FROM ${table(match)} ${alias} WHERE ${match.where(x)})`;
  }

  /**
   * A condition on the resource whose key is (`x`.resource_type, `x`.id) (a reference row's source), checked by
   * that key: an index condition by the resource's own rows, a predicate on its resource row.
   */
  private ownCheck(compiled: Compiled, x: string): Sql {
    if ('match' in compiled) return this.predicate(compiled, x, false);
    const r = this.alias('r');
    return sql`EXISTS (SELECT 1 FROM resource ${raw(r)} WHERE ${raw(r)}.resource_type = ${raw(x)}.resource_type AND ${raw(r)}.id = ${raw(x)}.id AND ${raw(r)}.deleted = 0 AND ${compiled.predicate(r)})`;
  }

  private compile(type: string, c: Condition): Compiled {
    switch (c.kind) {
      case 'param':
        if (c.def.column) return { predicate: columnPredicate(c), drives: c.def.column === 'id' && c.modifier !== 'not' };
        return { match: (paramType(c.def) as NonNullable<ReturnType<typeof paramType>>).match({ def: c.def, name: c.name, modifier: c.modifier, baseUrl: this.options.baseUrl }, c.values) };
      case 'missing': {
        const handler = paramType(c.def);
        if (c.def.column || !handler) return { predicate: () => (c.missing ? raw('1 = 0') : raw('1 = 1')) };
        const { resourceType, code } = c.def;
        const where = (alias: string): Sql => sql`${raw(alias)}.resource_type = ${resourceType} AND ${raw(alias)}.param = ${code}`;
        return { match: { table: handler.table, where, negate: c.missing, presence: true } };
      }
      case 'chain':
        return {
          match: referenceRows(type, c.def.code, (x) => {
            const links = c.links.map((l) => sql`(${x}.target_type = ${l.type} AND ${x}.target_id IN (${this.ids(l.type, [l.inner])}))`);
            return links.length === 1 ? links[0] : sql`(${join(links, ' OR ')})`;
          }),
        };
      case 'has': {
        const { sourceType, inner } = c;
        const code = c.ref.code;
        const match = referenceRows(sourceType, code, (x) => sql`${x}.target_type = ${type} AND ${x}.id IN (${this.ids(sourceType, [inner])})`);
        // Listed (driving, sampled), the inner resources lead: their own index rows, then each one's reference rows
        // by the (id, resource_type, param) index, whose targets are the matches. CROSS JOIN keeps that order in
        // SQLite, which streams it (a LIMIT stops early); given `x.id IN (inner)` instead, it walked every reference
        // to the type testing each id against the list (issue 27: 1.7 s at 1M resources). PostgreSQL plans the
        // join from its statistics.
        const list = (): Sql => {
          const s = raw(this.alias('s'));
          const x = raw(this.alias('x'));
          return sql`SELECT ${x}.target_id AS id FROM (${this.ids(sourceType, [inner])}) ${s} CROSS JOIN ${raw(INDEX_TABLES.reference.name)} ${x} WHERE ${x}.id = ${s}.id AND ${x}.resource_type = ${sourceType} AND ${x}.param = ${code} AND ${x}.target_type = ${type}`;
        };
        // Checked per candidate (another condition drives), the candidate's own reference rows lead and each
        // referring resource is tested by its key: never the list of every inner match.
        const compiledInner = this.compile(sourceType, inner);
        const check = (x: string): Sql => sql`${raw(x)}.resource_type = ${sourceType} AND ${raw(x)}.param = ${code} AND ${this.ownCheck(compiledInner, x)}`;
        return { match, idColumn: 'target_id', list, check };
      }
      case 'compartment': {
        const rows = c.params.length ? referenceRows(type, c.params, (x) => sql`${x}.target_type = ${c.target.type} AND ${x}.target_id = ${c.target.id}`) : undefined;
        if (type !== c.target.type) return rows ? { match: rows } : { predicate: () => raw('1 = 0') };
        // The compartment's own resource is in it (R4 compartmentdefinition.html).
        const self = (a: string): Sql => sql`${raw(a)}.id = ${c.target.id}`;
        return { predicate: (a) => (rows ? sql`(${self(a)} OR ${this.predicate({ match: rows }, a, true)})` : self(a)) };
      }
    }
  }
}

function table(match: Match): Sql {
  return raw(INDEX_TABLES[match.table].name);
}

/** `_id` and `_lastUpdated`: conditions on the resource row's own columns. */
function columnPredicate(c: Extract<Condition, { kind: 'param' }>): (alias: string) => Sql {
  if (c.def.column === 'id') {
    const ids = c.values.map(unescape);
    const list = join(ids.map((id) => sql`${id}`), ', ');
    return (a) => sql`${raw(a)}.id ${raw(c.modifier === 'not' ? 'NOT IN' : 'IN')} (${list})`;
  }
  const conditions = c.values.map((value) => {
    const { prefix, rest } = splitPrefix(value);
    const range = dateRange(rest);
    if (!range) throw invalid(c.name, `"${value}" is not a date or instant`);
    const gap = Math.max(Math.abs(Date.now() - range.low) * 0.1, 86_400_000);
    return (column: Sql) => rangeCondition(column, column, prefix, range.low, range.high, () => [clampTime(range.low - gap), clampTime(range.high + gap)]);
  });
  return (a) => sql`(${join(conditions.map((f) => f(sql`${raw(a)}.last_updated`)), ' OR ')})`;
}
