/**
 * string (R4 search.html#string): by default a case- and accent-insensitive prefix match on a normalised copy of
 * each value; `:exact` compares the value as written, `:contains` matches anywhere. HumanName and Address are
 * searched through each of their parts.
 */
import type { TypedValue } from '@medplum/core';
import type { Address, HumanName } from '@medplum/fhirtypes';
import { join, raw, sql, type Sql } from '../../sql/sql.js';
import { MAX_EXACT_LENGTH, escapeLike, normalizeString, prefixUpperBound } from '../normalize.js';
import type { IndexRows } from '../tables.js';
import { unescape } from '../values.js';
import type { Match, ParamType } from './types.js';

export type StringMode = 'prefix' | 'exact' | 'contains';

function addString(rows: IndexRows, param: string, text: unknown): void {
  if (typeof text !== 'string' || text === '') return;
  rows.add('string', [param, normalizeString(text), text.length > MAX_EXACT_LENGTH ? text.slice(0, MAX_EXACT_LENGTH) : text], `${param}\u001f${text}`);
}

/** The strings a value is searched by: each part of a name or an address, else the value itself. */
export function stringParts(item: TypedValue): unknown[] {
  const value = item.value as unknown;
  if (item.type === 'HumanName') {
    const name = value as HumanName;
    return [name.text, name.family, ...(name.given ?? []), ...(name.prefix ?? []), ...(name.suffix ?? [])];
  }
  if (item.type === 'Address') {
    const a = value as Address;
    return [a.text, ...(a.line ?? []), a.city, a.district, a.state, a.postalCode, a.country];
  }
  return [value];
}

function condition(x: Sql, mode: StringMode, value: string): Sql {
  const normalized = normalizeString(value);
  if (mode === 'exact') return sql`(${x}.value = ${normalized} AND ${x}.exact = ${value})`;
  if (mode === 'contains') return sql`${x}.value LIKE ${`%${escapeLike(normalized)}%`} ESCAPE '\\'`;
  return sql`(${x}.value >= ${normalized} AND ${x}.value < ${prefixUpperBound(normalized)})`;
}

/** Rows of a string parameter (or of a token's `:text`) matching any of the values. */
export function stringMatch(resourceType: string, param: string, values: readonly string[], mode: StringMode): Match {
  return {
    table: 'string',
    where(alias) {
      const x = raw(alias);
      const any = join(values.map((v) => condition(x, mode, v)), ' OR ');
      return sql`${x}.resource_type = ${resourceType} AND ${x}.param = ${param} AND (${any})`;
    },
  };
}

export const stringParam: ParamType = {
  name: 'string',
  table: 'string',
  modifiers: new Set(['exact', 'contains']),
  extract(def, values, rows) {
    for (const item of values) for (const part of stringParts(item)) addString(rows, def.code, part);
  },
  match(ctx, values) {
    const mode: StringMode = ctx.modifier === 'exact' ? 'exact' : ctx.modifier === 'contains' ? 'contains' : 'prefix';
    return stringMatch(ctx.def.resourceType, ctx.def.code, values.map(unescape), mode);
  },
  sortKey(alias, descending) {
    return sql`${raw(descending ? 'MAX' : 'MIN')}(${raw(alias)}.value)`;
  },
};
