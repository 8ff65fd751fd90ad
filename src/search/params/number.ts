/**
 * number (R4 search.html#number): a stored value is a range [low, high] (a point for a decimal, the ends of a
 * Range). Without a prefix, `100` matches values in [99.5, 100.5), the precision the client wrote; with a prefix
 * the value is taken as exact, as the spec says.
 */
import type { TypedValue } from '@medplum/core';
import type { Range } from '@medplum/fhirtypes';
import { join, raw, sql, type Sql } from '../../sql/sql.js';
import { MAX_NUMBER, MIN_NUMBER } from '../tables.js';
import { invalid, parseNumber, splitPrefix, type Prefix } from '../values.js';
import type { ParamType, ValueContext } from './types.js';

/** [low, high] of a number, a Quantity-like value or a Range; undefined for anything else. */
export function numberRange(item: TypedValue): [number, number] | undefined {
  const value = item.value as unknown;
  if (typeof value === 'number') return [value, value];
  if (!value || typeof value !== 'object') return undefined;
  if (item.type === 'Range') {
    const range = value as Range;
    if (range.low?.value === undefined && range.high?.value === undefined) return undefined;
    return [range.low?.value ?? MIN_NUMBER, range.high?.value ?? MAX_NUMBER];
  }
  const q = value as { value?: unknown };
  return typeof q.value === 'number' ? [q.value, q.value] : undefined;
}

export interface NumberValue {
  prefix: Prefix;
  value: number;
  low: number;
  high: number;
}

export function parseNumberValue(ctx: ValueContext, text: string): NumberValue {
  const { prefix, rest } = splitPrefix(text);
  if (rest === '') throw invalid(ctx.name, `"${text}" has no number after its prefix`);
  return { prefix, ...parseNumber(ctx.name, rest) };
}

/** One prefixed number against the stored range [low, high]. */
export function numberCondition(low: Sql, high: Sql, n: NumberValue): Sql {
  const { value: v } = n;
  switch (n.prefix) {
    case 'eq':
      return sql`(${low} >= ${n.low} AND ${high} < ${n.high})`;
    case 'ne':
      return sql`(${low} < ${n.low} OR ${high} >= ${n.high})`;
    case 'gt':
      return sql`${high} > ${v}`;
    case 'lt':
      return sql`${low} < ${v}`;
    case 'ge':
      return sql`${high} >= ${v}`;
    case 'le':
      return sql`${low} <= ${v}`;
    case 'sa':
      return sql`${low} > ${v}`;
    case 'eb':
      return sql`${high} < ${v}`;
    case 'ap': {
      // "within 10% of the stated value" (R4 #prefix)
      const a = v * 0.9;
      const b = v * 1.1;
      return sql`(${low} <= ${Math.max(a, b)} AND ${high} >= ${Math.min(a, b)})`;
    }
  }
}

export const numberParam: ParamType = {
  name: 'number',
  table: 'number',
  modifiers: new Set(),
  extract(def, values, rows) {
    for (const item of values) {
      const range = numberRange(item);
      if (range) rows.add('number', [def.code, range[0], range[1]]);
    }
  },
  match(ctx, values) {
    const numbers = values.map((v) => parseNumberValue(ctx, v));
    const { resourceType, code } = ctx.def;
    return {
      table: 'number',
      where(alias) {
        const x = raw(alias);
        const any = join(numbers.map((n) => numberCondition(sql`${x}.low`, sql`${x}.high`, n)), ' OR ');
        return sql`${x}.resource_type = ${resourceType} AND ${x}.param = ${code} AND (${any})`;
      },
    };
  },
  sortKey(alias, descending) {
    return descending ? sql`MAX(${raw(alias)}.high)` : sql`MIN(${raw(alias)}.low)`;
  },
};
