/**
 * Search conditions -> SQL (dialect-free, every value bound). Each condition selects rows of one index table; a
 * resource matches when its id is among those rows' ids (`:not` and `:missing=true`: when it has none). Chains and
 * `_has` nest the id sets of other types inside reference rows, so every level is a plain indexed lookup.
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
export type Compiled = { match: Match; idColumn?: string } | { predicate: (alias: string) => Sql; drives?: boolean };

/**
 * A condition whose matches can be listed from its index rows (sampled, counted, written `id IN (...)`): an index
 * match that is neither negated (`:not`, `:missing=true`) nor a presence check (`:missing=false`, Match.presence).
 */
export function isListable(c: Compiled): c is { match: Match; idColumn?: string } {
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
    const x = this.alias('x');
    const id = raw(compiled.idColumn ?? 'id');
    return sql`SELECT COUNT(*) AS n, COUNT(DISTINCT c.id) AS d FROM (SELECT ${raw(x)}.${id} AS id FROM ${table(compiled.match)} ${raw(x)} WHERE ${compiled.match.where(x)} LIMIT ${cap}) c`;
  }

  /** The first `cap` index rows of a condition (`SELECT id`): fewer than `cap` is its exact match list. */
  sample(compiled: Compiled, cap: number): Sql | undefined {
    if (!isListable(compiled)) return undefined;
    const x = this.alias('x');
    return sql`SELECT ${raw(x)}.${raw(compiled.idColumn ?? 'id')} AS id FROM ${table(compiled.match)} ${raw(x)} WHERE ${compiled.match.where(x)} LIMIT ${cap}`;
  }

  /** Counts the resources of a single index condition from the index alone (its rows belong to live resources). */
  countOnly(compiled: Compiled): Sql | undefined {
    if (!isListable(compiled) || compiled.idColumn) return undefined;
    const x = this.alias('x');
    return sql`SELECT COUNT(DISTINCT ${raw(x)}.id) AS n FROM ${table(compiled.match)} ${raw(x)} WHERE ${compiled.match.where(x)}`;
  }

  /** `SELECT id` of the resources of `type` matching every condition. */
  ids(type: string, conditions: readonly Condition[]): Sql {
    const compiled = this.compileAll(type, conditions);
    const only = compiled.length === 1 ? compiled[0] : undefined;
    if (only && isListable(only)) {
      const x = this.alias('x');
      return sql`SELECT ${raw(x)}.${raw(only.idColumn ?? 'id')} FROM ${table(only.match)} ${raw(x)} WHERE ${only.match.where(x)}`;
    }
    const b = this.alias('r');
    const preds = this.predicates(compiled, b);
    return sql`SELECT ${raw(b)}.id FROM resource ${raw(b)} WHERE ${raw(b)}.resource_type = ${type} AND ${raw(b)}.deleted = 0${join(preds.map((p) => sql` AND ${p}`), '')}`;
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
      return sql`EXISTS (SELECT 1 FROM ${table(match)} ${alias} WHERE ${key} AND ${alias}.${id} = ${raw(a)}.id AND CASE WHEN ${match.where(x)} THEN 1 ELSE 0 END = 1)`;
    }
    return sql`${raw(a)}.id IN (SELECT ${alias}.${id} FROM ${table(match)} ${alias} WHERE ${match.where(x)})`;
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
      case 'has':
        return {
          match: referenceRows(c.sourceType, c.ref.code, (x) => sql`${x}.target_type = ${type} AND ${x}.id IN (${this.ids(c.sourceType, [c.inner])})`),
          idColumn: 'target_id',
        };
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
