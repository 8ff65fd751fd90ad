/**
 * Query parameters -> search conditions (R4 search.html): `name[:modifier]=a,b` (OR by comma, AND by repetition),
 * chains `subject:Patient.name=x` and reverse chains `_has:Observation:patient:code=x`, checked against the search
 * parameters of the type. An unknown parameter is returned by name (the caller applies `Prefer: handling`); an
 * unsupported modifier, a malformed value or a bound exceeded is a 400 naming the parameter.
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../fhir/outcomes.js';
import { loadDefinitions } from '../validation/definitions.js';
import { SEARCH_LIMITS } from './limits.js';
import { getParam, paramType } from './params/registry.js';
import type { ParamDef } from './params/types.js';
import { splitEscaped } from './values.js';

export type Condition =
  | { kind: 'param'; def: ParamDef; name: string; modifier: string; values: string[] }
  | { kind: 'missing'; def: ParamDef; name: string; missing: boolean }
  | { kind: 'chain'; def: ParamDef; name: string; links: Array<{ type: string; inner: Condition }> }
  | { kind: 'has'; name: string; sourceType: string; ref: ParamDef; inner: Condition }
  | { kind: 'compartment'; params: readonly string[]; target: { type: string; id: string } };

/** Parameters that shape the result rather than select resources; handled by the searcher and the handler. */
export const RESULT_PARAMETERS = new Set([
  '_count', '_offset', '_cursor', '_total', '_summary', '_elements', '_format', '_pretty', '_sort', '_include', '_revinclude', '_type',
]);

export interface ParsedConditions {
  conditions: Condition[];
  /** Parameters this server does not know for the type (names as the client wrote them). */
  unknown: string[];
}

export function parseConditions(resourceType: string, params: Record<string, string[]>): ParsedConditions {
  const conditions: Condition[] = [];
  const unknown: string[] = [];
  for (const [key, values] of Object.entries(params)) {
    if (RESULT_PARAMETERS.has(key.split(':')[0])) continue;
    for (const value of values) {
      const parsed = parseKey(resourceType, key, value, 0);
      if (parsed === null) continue;
      if (parsed === undefined) {
        if (!unknown.includes(key)) unknown.push(key);
        continue;
      }
      conditions.push(parsed);
    }
  }
  if (conditions.length > SEARCH_LIMITS.conditions) {
    throw new OperationOutcomeError(badRequest(`A search may have at most ${SEARCH_LIMITS.conditions} conditions; this one has ${conditions.length}`));
  }
  return { conditions, unknown };
}

/** One `key=value`: a condition, undefined when the parameter is unknown, null when the value is empty (ignored). */
export function parseKey(type: string, key: string, value: string, depth: number, whole = key): Condition | undefined | null {
  if (depth > SEARCH_LIMITS.chainDepth) {
    throw new OperationOutcomeError(badRequest(`"${whole}" goes deeper than ${SEARCH_LIMITS.chainDepth} chained or _has levels`, whole));
  }
  if (key.startsWith('_has:')) return parseHas(type, key, value, depth, whole);
  const dot = key.indexOf('.');
  if (dot > 0) return parseChain(type, key, dot, value, depth, whole);
  const colon = key.indexOf(':');
  const name = colon < 0 ? key : key.slice(0, colon);
  const modifier = colon < 0 ? '' : key.slice(colon + 1);
  const def = getParam(type, name);
  if (!def) return undefined;
  const values = splitEscaped(value, ',').filter((v) => v !== '');
  if (values.length === 0) return null;
  if (values.length > SEARCH_LIMITS.orValues) {
    throw new OperationOutcomeError(badRequest(`"${key}" lists ${values.length} values; at most ${SEARCH_LIMITS.orValues} may be ORed`, key));
  }
  if (modifier === 'missing') {
    if (values.length !== 1 || (values[0] !== 'true' && values[0] !== 'false')) {
      throw new OperationOutcomeError(badRequest(`"${key}" takes true or false, got "${value}"`, key));
    }
    return { kind: 'missing', def, name: key, missing: values[0] === 'true' };
  }
  checkModifier(def, key, modifier);
  return { kind: 'param', def, name: key, modifier, values };
}

function checkModifier(def: ParamDef, key: string, modifier: string): void {
  if (modifier === '') return;
  if (def.column === 'id' && modifier === 'not') return;
  if (def.type === 'reference' && loadDefinitions().resourceTypeSet.has(modifier)) return;
  const handler = paramType(def);
  if (!def.column && handler?.modifiers.has(modifier)) return;
  throw new OperationOutcomeError(badRequest(`"${key}": the modifier :${modifier} is not supported on the ${def.type} parameter ${def.code}`, key));
}

/** `subject:Patient.name=x`: resources whose subject is a Patient matching `name=x` (R4 search.html#chaining). */
function parseChain(type: string, key: string, dot: number, value: string, depth: number, whole: string): Condition | undefined | null {
  const head = key.slice(0, dot);
  const rest = key.slice(dot + 1);
  const [name, typeModifier] = head.split(':');
  const def = getParam(type, name);
  if (!def) return undefined;
  if (def.type !== 'reference') throw new OperationOutcomeError(badRequest(`"${key}": ${name} is a ${def.type} parameter, not a reference; it cannot be chained`, key));
  if (typeModifier !== undefined && !loadDefinitions().resourceTypeSet.has(typeModifier)) {
    throw new OperationOutcomeError(badRequest(`"${key}": ${typeModifier} is not a resource type`, key));
  }
  const targets = typeModifier ? [typeModifier] : def.targets;
  const links: Array<{ type: string; inner: Condition }> = [];
  for (const target of targets) {
    const inner = parseKey(target, rest, value, depth + 1, whole);
    if (inner === null) return null;
    if (inner) links.push({ type: target, inner });
  }
  if (links.length === 0) return undefined;
  return { kind: 'chain', def, name: key, links };
}

/** `_has:Observation:patient:code=x`: resources that an Observation matching `code=x` refers to by `patient`. */
function parseHas(type: string, key: string, value: string, depth: number, whole: string): Condition | undefined | null {
  const parts = key.split(':');
  const [, sourceType, refName] = parts;
  const rest = parts.slice(3).join(':');
  if (!sourceType || !refName || !rest) {
    throw new OperationOutcomeError(badRequest(`"${key}" is not _has:Type:reference:parameter`, key));
  }
  if (!loadDefinitions().resourceTypeSet.has(sourceType)) throw new OperationOutcomeError(badRequest(`"${key}": ${sourceType} is not a resource type`, key));
  const ref = getParam(sourceType, refName);
  if (!ref || ref.type !== 'reference') {
    throw new OperationOutcomeError(badRequest(`"${key}": ${refName} is not a reference parameter of ${sourceType}`, key));
  }
  if (ref.targets.length > 0 && !ref.targets.includes(type)) {
    throw new OperationOutcomeError(badRequest(`"${key}": ${sourceType}.${refName} cannot refer to a ${type}`, key));
  }
  const inner = parseKey(sourceType, rest, value, depth + 1, whole);
  if (!inner) return inner;
  return { kind: 'has', name: key, sourceType, ref, inner };
}
