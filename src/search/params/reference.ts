/**
 * reference (R4 search.html#reference): `Type/id`, `id`, an absolute URL, `:Type` and `:identifier`. A local
 * reference is stored as (target type, target id) so that chains, `_has` and `_revinclude` can join on it; an
 * absolute URL or a canonical is stored whole with an empty target type. An absolute URL that starts with this
 * server's base is searched as the local reference it is.
 */
import type { TypedValue } from '@medplum/core';
import type { Identifier, Reference } from '@medplum/fhirtypes';
import { join, raw, sql, type Sql } from '../../sql/sql.js';
import { loadDefinitions } from '../../validation/definitions.js';
import type { IndexRows } from '../tables.js';
import { invalid, unescape } from '../values.js';
import { addToken, tokenMatch } from './token.js';
import type { Match, ParamType, ValueContext } from './types.js';

export const IDENTIFIER_SUFFIX = ':identifier';
const MAX_URL_LENGTH = 2000;

const LOCAL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

export interface Target {
  type: string;
  id: string;
}

/** `Patient/1` -> local target; `http://...` and `urn:...` -> stored whole (a canonical without its `|version`). */
export function parseReference(reference: string): Target | undefined {
  const local = LOCAL.exec(reference);
  if (local) return { type: local[1], id: local[2] };
  if (ABSOLUTE.test(reference) && reference.length <= MAX_URL_LENGTH) return { type: '', id: reference.split('|')[0] };
  return undefined;
}

function addTarget(rows: IndexRows, param: string, target: Target | undefined): void {
  if (target) rows.add('reference', [param, target.type, target.id], `${param}\u001f${target.type}/${target.id}`);
}

function extractOne(param: string, resourceType: string, item: TypedValue, rows: IndexRows): void {
  const value = item.value as unknown;
  if (typeof value === 'string') return addTarget(rows, param, parseReference(value));
  if (!value || typeof value !== 'object') return;
  const resource = value as { resourceType?: unknown; id?: unknown };
  if (typeof resource.resourceType === 'string' && typeof resource.id === 'string') {
    return addTarget(rows, param, { type: resource.resourceType, id: resource.id });
  }
  const ref = value as Reference;
  if (typeof ref.reference === 'string') addTarget(rows, param, parseReference(ref.reference));
  const identifier = ref.identifier as Identifier | undefined;
  if (identifier?.value) addToken(rows, resourceType, param + IDENTIFIER_SUFFIX, identifier.system, identifier.value);
}

/** The target a search value names, or a list of possible types for a bare id. */
function searchTarget(ctx: ValueContext, value: string): { types: readonly string[]; id: string } {
  const text = unescape(value);
  const typeModifier = ctx.modifier && ctx.modifier !== 'missing' ? ctx.modifier : undefined;
  const local = typeModifier && !text.includes('/') ? { type: typeModifier, id: text } : localTarget(ctx, text);
  if (local) {
    if (typeModifier && local.type !== typeModifier) throw invalid(ctx.name, `"${text}" is not a ${typeModifier} reference`);
    return { types: [local.type], id: local.id };
  }
  if (ABSOLUTE.test(text)) return { types: [''], id: text.split('|')[0] };
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(text)) throw invalid(ctx.name, `"${text}" is neither Type/id, an id nor an absolute URL`);
  return { types: ctx.def.targets.length ? ctx.def.targets : loadDefinitions().resourceTypes, id: text };
}

function localTarget(ctx: ValueContext, text: string): Target | undefined {
  const relative = ctx.baseUrl && text.startsWith(`${ctx.baseUrl}/`) ? text.slice(ctx.baseUrl.length + 1) : text;
  const m = LOCAL.exec(relative);
  if (!m) return undefined;
  if (!loadDefinitions().resourceTypeSet.has(m[1])) throw invalid(ctx.name, `"${m[1]}" is not a resource type`);
  return { type: m[1], id: m[2] };
}

function targetCondition(x: Sql, types: readonly string[], id: string): Sql {
  if (types.length === 1) return sql`(${x}.target_type = ${types[0]} AND ${x}.target_id = ${id})`;
  return sql`(${x}.target_type IN (${join(types.map((t) => sql`${t}`), ', ')}) AND ${x}.target_id = ${id})`;
}

/** Reference rows of `param` in resources of `resourceType` whose target satisfies `target` (SQL over alias). */
export function referenceRows(resourceType: string, param: string | readonly string[], target: (x: Sql) => Sql): Match {
  return {
    table: 'reference',
    where(alias) {
      const x = raw(alias);
      const params = typeof param === 'string' ? sql`${x}.param = ${param}` : sql`${x}.param IN (${join(param.map((p) => sql`${p}`), ', ')})`;
      return sql`${x}.resource_type = ${resourceType} AND ${params} AND ${target(x)}`;
    },
  };
}

export const referenceParam: ParamType = {
  name: 'reference',
  table: 'reference',
  // Any resource type is also a modifier (`subject:Patient`); search/parse.ts checks those.
  modifiers: new Set(['identifier']),
  extract(def, values, rows) {
    for (const item of values) extractOne(def.code, def.resourceType, item, rows);
  },
  match(ctx, values) {
    const { resourceType, code } = ctx.def;
    if (ctx.modifier === 'identifier') return tokenMatch(resourceType, code + IDENTIFIER_SUFFIX, values);
    const targets = values.map((v) => searchTarget(ctx, v));
    return referenceRows(resourceType, code, (x) => sql`(${join(targets.map((t) => targetCondition(x, t.types, t.id)), ' OR ')})`);
  },
  sortKey(alias, descending) {
    return sql`${raw(descending ? 'MAX' : 'MIN')}(${raw(alias)}.target_id)`;
  },
};
