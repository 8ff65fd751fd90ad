/**
 * quantity (R4 search.html#quantity): `[prefix]number[|system|code]`; `number||code` matches the code or the unit
 * text whatever the system. Numbers compare as for `number`; units are compared as written (no UCUM conversion).
 */
import type { TypedValue } from '@medplum/core';
import type { Money, Quantity, Range } from '@medplum/fhirtypes';
import { join, raw, sql, type Sql } from '../../sql/sql.js';
import type { IndexRows } from '../tables.js';
import { invalid, splitEscaped, unescape } from '../values.js';
import { numberCondition, numberRange, parseNumberValue, type NumberValue } from './number.js';
import type { ParamType, ValueContext } from './types.js';

const CURRENCY_SYSTEM = 'urn:iso:std:iso:4217';

/** The units a quantity-like value is searched by: [system, code] pairs (the unit text counts as a code). */
export function quantityUnits(item: TypedValue): Array<[string, string]> {
  const value = item.value as unknown;
  if (!value || typeof value !== 'object') return [['', '']];
  if (item.type === 'Money') {
    const money = value as Money;
    return [[money.currency ? CURRENCY_SYSTEM : '', money.currency ?? '']];
  }
  const q = (item.type === 'Range' ? ((value as Range).low ?? (value as Range).high) : value) as Quantity | undefined;
  const units: Array<[string, string]> = [[q?.system ?? '', q?.code ?? q?.unit ?? '']];
  if (q?.unit && q.code && q.unit !== q.code) units.push(['', q.unit]);
  return units;
}

export function addQuantity(rows: IndexRows, param: string, item: TypedValue): void {
  const range = numberRange(item);
  if (!range) return;
  for (const [system, code] of quantityUnits(item)) rows.add('quantity', [param, system, code, range[0], range[1]]);
}

export interface QuantityValue extends NumberValue {
  system?: string;
  code?: string;
}

export function parseQuantityValue(ctx: ValueContext, text: string): QuantityValue {
  const parts = splitEscaped(text, '|');
  if (parts.length !== 1 && parts.length !== 3) throw invalid(ctx.name, `"${text}" is not [prefix]number or [prefix]number|system|code`);
  const n = parseNumberValue(ctx, parts[0]);
  if (parts.length === 1) return n;
  return { ...n, system: unescape(parts[1]) || undefined, code: unescape(parts[2]) || undefined };
}

/** One quantity value against columns low, high, system, code of the rows of x. */
export function quantityCondition(x: Sql, q: QuantityValue, columns = { low: 'low', high: 'high', system: 'system', code: 'code' }): Sql {
  let condition = numberCondition(sql`${x}.${raw(columns.low)}`, sql`${x}.${raw(columns.high)}`, q);
  if (q.system !== undefined) condition = sql`${condition} AND ${x}.${raw(columns.system)} = ${q.system}`;
  if (q.code !== undefined) condition = sql`${condition} AND ${x}.${raw(columns.code)} = ${q.code}`;
  return sql`(${condition})`;
}

export const quantityParam: ParamType = {
  name: 'quantity',
  table: 'quantity',
  modifiers: new Set(),
  extract(def, values, rows) {
    for (const item of values) addQuantity(rows, def.code, item);
  },
  match(ctx, values) {
    const quantities = values.map((v) => parseQuantityValue(ctx, v));
    const { resourceType, code } = ctx.def;
    return {
      table: 'quantity',
      where(alias) {
        const x = raw(alias);
        return sql`${x}.resource_type = ${resourceType} AND ${x}.param = ${code} AND (${join(quantities.map((q) => quantityCondition(x, q)), ' OR ')})`;
      },
    };
  },
  sortKey(alias, descending) {
    return descending ? sql`MAX(${raw(alias)}.high)` : sql`MIN(${raw(alias)}.low)`;
  },
};
