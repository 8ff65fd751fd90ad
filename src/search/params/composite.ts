/**
 * composite (R4 search.html#composite): `code$value`, e.g. Observation `code-value-quantity=
 * http://loinc.org|8480-6$gt100`. Each element the composite's expression selects (the Observation, or each
 * component) gives rows pairing every code of its first component with every value of its second, so both halves
 * must hold in the same element. The first component is a token; the second a token, quantity, number, date,
 * string or reference (every R4 composite but MolecularSequence's three-part ones and DocumentReference
 * relationship, whose definition lists a reference over a code).
 */
import type { TypedValue } from '@medplum/core';
import { join, raw, sql, type Sql } from '../../sql/sql.js';
import { lookupHash } from '../hash.js';
import { normalizeString, prefixUpperBound } from '../normalize.js';
import type { IndexRows } from '../tables.js';
import { dateRange, invalid, splitEscaped, splitPrefix, splitSystem, unescape, clampTime } from '../values.js';
import { dateRanges, rangeCondition } from './date.js';
import { numberCondition, numberRange, parseNumberValue } from './number.js';
import { parseQuantityValue, quantityUnits } from './quantity.js';
import { parseReference } from './reference.js';
import { tokenPairs } from './token.js';
import type { ComponentDef, ParamDef, ParamType, ValueContext } from './types.js';

/** Second-component types a composite row can hold. */
export const COMPOSITE_SECOND = new Set(['token', 'quantity', 'number', 'date', 'string', 'reference']);

type Second = [number | null, number | null, number | null, number | null, string | null];

function seconds(def: ParamDef, component: ComponentDef, item: TypedValue): Second[] {
  const scope = (v: string): number => lookupHash(def.resourceType, `${def.code}$2`, v);
  switch (component.type) {
    case 'token':
      return tokenPairs(item).map((t) => [scope(t.code), scope(`${t.system ?? ''}|${t.code}`), null, null, null]);
    case 'quantity': {
      const range = numberRange(item);
      if (!range) return [];
      return quantityUnits(item).map(([system, code]) => [scope(code), scope(`${system}|${code}`), range[0], range[1], null]);
    }
    case 'number': {
      const range = numberRange(item);
      return range ? [[null, null, range[0], range[1], null]] : [];
    }
    case 'date':
      return dateRanges(item).map((r) => [null, null, r.low, r.high, null]);
    case 'string':
      return typeof item.value === 'string' ? [[null, null, null, null, normalizeString(item.value)]] : [];
    default: {
      const ref = item.value as { reference?: string } | undefined;
      const target = typeof ref?.reference === 'string' ? parseReference(ref.reference) : undefined;
      return target ? [[scope(target.type ? `${target.type}/${target.id}` : target.id), null, null, null, null]] : [];
    }
  }
}

function extract(def: ParamDef, values: TypedValue[], rows: IndexRows): void {
  const [first, second] = def.components ?? [];
  for (const element of values) {
    const rest = second.evaluate([element]).flatMap((v) => seconds(def, second, v));
    if (rest.length === 0) continue;
    const codes = first.evaluate([element]).flatMap(tokenPairs);
    for (const c of codes) {
      const c1 = lookupHash(def.resourceType, def.code, c.code);
      const c1s = lookupHash(def.resourceType, def.code, `${c.system ?? ''}|${c.code}`);
      for (const s of rest) rows.add('composite', [def.code, c1, c1s, ...s]);
    }
  }
}

function firstCondition(x: Sql, def: ParamDef, value: string): Sql {
  const { system, code } = splitSystem(value);
  if (system === undefined) return sql`${x}.c1_code_hash = ${lookupHash(def.resourceType, def.code, code)}`;
  return sql`${x}.c1_system_code_hash = ${lookupHash(def.resourceType, def.code, `${system}|${code}`)}`;
}

function secondCondition(x: Sql, ctx: ValueContext, component: ComponentDef, value: string): Sql {
  const { def } = ctx;
  const scope = (v: string): number => lookupHash(def.resourceType, `${def.code}$2`, v);
  switch (component.type) {
    case 'token': {
      const { system, code } = splitSystem(value);
      return system === undefined ? sql`${x}.c2_code_hash = ${scope(code)}` : sql`${x}.c2_system_code_hash = ${scope(`${system}|${code}`)}`;
    }
    case 'quantity': {
      const q = parseQuantityValue(ctx, value);
      let c = numberCondition(sql`${x}.c2_low`, sql`${x}.c2_high`, q);
      if (q.code !== undefined) c = q.system !== undefined ? sql`${c} AND ${x}.c2_system_code_hash = ${scope(`${q.system}|${q.code}`)}` : sql`${c} AND ${x}.c2_code_hash = ${scope(q.code)}`;
      return sql`(${c})`;
    }
    case 'number':
      return numberCondition(sql`${x}.c2_low`, sql`${x}.c2_high`, parseNumberValue(ctx, value));
    case 'date': {
      const { prefix, rest } = splitPrefix(value);
      const r = dateRange(rest);
      if (!r) throw invalid(ctx.name, `"${value}" is not a date`);
      const gap = Math.max(Math.abs(Date.now() - r.low) * 0.1, 86_400_000);
      return rangeCondition(sql`${x}.c2_low`, sql`${x}.c2_high`, prefix, r.low, r.high, () => [clampTime(r.low - gap), clampTime(r.high + gap)]);
    }
    case 'string': {
      const n = normalizeString(unescape(value));
      return sql`(${x}.c2_text >= ${n} AND ${x}.c2_text < ${prefixUpperBound(n)})`;
    }
    default: {
      const target = parseReference(unescape(value));
      return sql`${x}.c2_code_hash = ${scope(target?.type ? `${target.type}/${target.id}` : unescape(value))}`;
    }
  }
}

export const compositeParam: ParamType = {
  name: 'composite',
  table: 'composite',
  modifiers: new Set(),
  extract,
  match(ctx, values) {
    const [, second] = ctx.def.components ?? [];
    const conditions = values.map((value) => {
      const parts = splitEscaped(value, '$');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw invalid(ctx.name, `"${value}" is not first$second (e.g. http://loinc.org|8480-6$gt100)`);
      return (x: Sql) => sql`(${firstCondition(x, ctx.def, parts[0])} AND ${secondCondition(x, ctx, second, parts[1])})`;
    });
    // The first component's hash is scoped by type and parameter (search/hash.ts), as a token's is: no test of
    // resource_type and param, which are not in the covering (code, value, id) indexes and would cost each row a
    // table read (issue 27).
    return {
      table: 'composite',
      where(alias) {
        const x = raw(alias);
        return sql`(${join(conditions.map((c) => c(x)), ' OR ')})`;
      },
    };
  },
};
