/**
 * token (R4 search.html#token): `code`, `system|code`, `|code`, `system|`; Coding, CodeableConcept, Identifier,
 * ContactPoint, code, boolean. Lookups go through hashes of the code and of system|code, scoped to the resource type
 * and parameter. `:text` searches the display texts (indexed as strings under `<param>:text`), `:of-type` the
 * identifier type and value (indexed under `<param>:of-type`), `:not` reverses the match.
 */
import type { TypedValue } from '@medplum/core';
import type { CodeableConcept, Coding, ContactPoint, Identifier } from '@medplum/fhirtypes';
import { join, raw, sql, type Sql } from '../../sql/sql.js';
import { lookupHash } from '../hash.js';
import { MAX_STRING_LENGTH, normalizeString } from '../normalize.js';
import type { IndexRows } from '../tables.js';
import { invalid, splitEscaped, splitSystem, unescape } from '../values.js';
import type { Match, ParamDef, ParamType, ValueContext } from './types.js';
import { stringMatch } from './string.js';

export const TEXT_SUFFIX = ':text';
export const OF_TYPE_SUFFIX = ':of-type';

/** Adds one token row: the hash of the code alone and of system|code (an absent system hashes as `|code`). */
export function addToken(rows: IndexRows, resourceType: string, param: string, system: string | undefined, code: string | undefined): void {
  if (!code) return;
  const sys = system ?? '';
  const systemCode = lookupHash(resourceType, param, `${sys}|${code}`);
  rows.add('token', [param, clip(sys), clip(code), lookupHash(resourceType, param, code), systemCode], systemCode);
}

function clip(text: string): string {
  return text.length > 512 ? text.slice(0, 512) : text;
}

function addText(rows: IndexRows, param: string, text: string | undefined): void {
  if (!text) return;
  const name = param + TEXT_SUFFIX;
  rows.add('string', [name, normalizeString(text), text.slice(0, MAX_STRING_LENGTH)], `${name}\u001f${text}`);
}

function extractOne(def: ParamDef, item: TypedValue, rows: IndexRows): void {
  const { resourceType, code: param } = def;
  const value = item.value as unknown;
  switch (item.type) {
    case 'Coding': {
      const coding = value as Coding;
      addToken(rows, resourceType, param, coding.system, coding.code);
      addText(rows, param, coding.display);
      return;
    }
    case 'CodeableConcept': {
      const concept = value as CodeableConcept;
      for (const coding of concept.coding ?? []) {
        addToken(rows, resourceType, param, coding.system, coding.code);
        addText(rows, param, coding.display);
      }
      addText(rows, param, concept.text);
      return;
    }
    case 'Identifier': {
      const identifier = value as Identifier;
      addToken(rows, resourceType, param, identifier.system, identifier.value);
      addText(rows, param, identifier.type?.text);
      for (const coding of identifier.type?.coding ?? []) {
        if (identifier.value) addToken(rows, resourceType, param + OF_TYPE_SUFFIX, coding.system, `${coding.code ?? ''}|${identifier.value}`);
      }
      return;
    }
    case 'ContactPoint': {
      const point = value as ContactPoint;
      addToken(rows, resourceType, param, point.system, point.value);
      return;
    }
    default:
      if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
        addToken(rows, resourceType, param, undefined, String(value));
      }
  }
}

/** The (system, code) pairs of a value, as a token parameter indexes them (for composite components). */
export function tokenPairs(item: TypedValue): Array<{ system?: string; code: string }> {
  const value = item.value as unknown;
  const out: Array<{ system?: string; code: string }> = [];
  const push = (system: string | undefined, code: string | undefined): void => {
    if (code) out.push({ system, code });
  };
  if (item.type === 'Coding') push((value as Coding).system, (value as Coding).code);
  else if (item.type === 'CodeableConcept') for (const c of (value as CodeableConcept).coding ?? []) push(c.system, c.code);
  else if (item.type === 'Identifier') push((value as Identifier).system, (value as Identifier).value);
  else if (item.type === 'ContactPoint') push((value as ContactPoint).system, (value as ContactPoint).value);
  else if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') push(undefined, String(value));
  return out;
}

/** The hash conditions of one OR list on the rows of alias x. */
function tokenConditions(x: string, resourceType: string, param: string, values: readonly string[]): Sql {
  const codes: number[] = [];
  /** system|code values: the code's hash (the index's first column) and the pair's. */
  const pairCodes: number[] = [];
  const systemCodes: number[] = [];
  const systems: string[] = [];
  for (const value of values) {
    const { system, code } = splitSystem(value);
    if (system === undefined) codes.push(lookupHash(resourceType, param, code));
    else if (code === '') systems.push(system);
    else {
      pairCodes.push(lookupHash(resourceType, param, code));
      systemCodes.push(lookupHash(resourceType, param, `${system}|${code}`));
    }
  }
  const alias = raw(x);
  const list = (hashes: number[]): Sql => join([...new Set(hashes)].map((h) => sql`${h}`), ', ');
  const parts: Sql[] = [];
  if (codes.length) parts.push(sql`${alias}.code_hash IN (${list(codes)})`);
  // One index (code_hash, id, system_code_hash) serves both (schema migration 5). A row's system|code hash implies its
  // code, so pairing every listed code with every listed system|code admits no other row (up to a hash collision).
  if (systemCodes.length) parts.push(sql`(${alias}.code_hash IN (${list(pairCodes)}) AND ${alias}.system_code_hash IN (${list(systemCodes)}))`);
  if (systems.length) {
    parts.push(sql`(${alias}.resource_type = ${resourceType} AND ${alias}.param = ${param} AND ${alias}.system IN (${join(systems.map((s) => sql`${s}`), ', ')}))`);
  }
  return parts.length === 1 ? parts[0] : sql`(${join(parts, ' OR ')})`;
}

function ofTypeValues(ctx: ValueContext, values: readonly string[]): string[] {
  return values.map((value) => {
    const parts = splitEscaped(value, '|');
    if (parts.length !== 3 || parts.some((p) => p === '')) {
      throw invalid(ctx.name, `:of-type takes system|code|value (the identifier type and the value), got "${value}"`);
    }
    return `${unescape(parts[0])}|${unescape(parts[1])}|${unescape(parts[2])}`;
  });
}

export const tokenParam: ParamType = {
  name: 'token',
  table: 'token',
  modifiers: new Set(['not', 'text', 'of-type']),
  extract(def, values, rows) {
    for (const item of values) extractOne(def, item, rows);
  },
  match(ctx, values) {
    const { resourceType, code } = ctx.def;
    for (const value of values) {
      if (value === '|' || value === '') throw invalid(ctx.name, `"${value}" names neither a system nor a code`);
    }
    if (ctx.modifier === 'text') return stringMatch(resourceType, code + TEXT_SUFFIX, values.map(unescape), 'prefix');
    if (ctx.modifier === 'of-type') {
      const param = code + OF_TYPE_SUFFIX;
      const ofType = ofTypeValues(ctx, values);
      return { table: 'token', where: (x) => tokenConditions(x, resourceType, param, ofType) };
    }
    return { table: 'token', where: (x) => tokenConditions(x, resourceType, code, values), negate: ctx.modifier === 'not' };
  },
  sortKey(alias, descending) {
    return sql`${raw(descending ? 'MAX' : 'MIN')}(${raw(alias)}.code)`;
  },
};

/** Rows of a derived token parameter (`subject:identifier`) matching system|value pairs. */
export function tokenMatch(resourceType: string, param: string, values: readonly string[]): Match {
  return { table: 'token', where: (x) => tokenConditions(x, resourceType, param, values) };
}
