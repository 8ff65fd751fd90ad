/**
 * References between the entries of a transaction (R4 http.html#trules): `urn:uuid:...` and the other fullUrls of
 * the Bundle become the `Type/id` the server settled for them; conditional references (`Patient?identifier=...`)
 * become their one match. The spec asks for every matching link to be replaced: resource references, `url`
 * elements and `<a href>` / `<img src>` in the narrative.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, preconditionFailed } from './outcomes.js';
import { setMember } from './body.js';
import { copyDecimalTexts } from './json-decimals.js';
import type { Repository } from '../repo/repository.js';
import { findMatches, parseCriteria } from '../repo/conditional.js';

const CONDITIONAL = /^([A-Z][A-Za-z]+)\?(.+)$/;
const NARRATIVE_LINK = /\b(href|src)="([^"]+)"/g;

/** Calls `visit` for every `reference` string in the value, without changing anything. */
export function forEachReference(value: unknown, visit: (reference: string) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null && typeof item === 'object') forEachReference(item, visit);
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    const child = obj[key];
    if (typeof child === 'string') {
      if (key === 'reference') visit(child);
    } else if (child !== null && typeof child === 'object') {
      forEachReference(child, visit);
    }
  }
}

/** The conditional references of the resources, for resolution before any write. */
export function conditionalReferences(resources: Iterable<Resource>): Set<string> {
  const found = new Set<string>();
  for (const r of resources) forEachReference(r, (ref) => CONDITIONAL.test(ref) && found.add(ref));
  return found;
}

/**
 * `Patient?identifier=a|b&name=x` and `Patient?name=x&identifier=a%7Cb` name the same search: one key for both, so
 * that entries and references using the same criteria can be matched to each other.
 */
export function criteriaKey(type: string, criteria: string): string {
  const params = parseCriteria(criteria);
  const pairs = Object.entries(params).flatMap(([name, values]) => values.map((v) => `${encodeURIComponent(name)}=${encodeURIComponent(v)}`));
  return `${type}?${pairs.sort().join('&')}`;
}

/** `Patient?identifier=x` -> its key, or undefined when the text is not a conditional reference. */
export function conditionalReferenceKey(reference: string): string | undefined {
  const m = CONDITIONAL.exec(reference);
  return m ? criteriaKey(m[1], m[2]) : undefined;
}

/** Searches the database for a conditional reference's target: it must match exactly one resource. */
export async function resolveConditionalReference(repo: Repository, reference: string): Promise<string> {
  const m = CONDITIONAL.exec(reference) as RegExpExecArray;
  const matches = await findMatches(repo, m[1], m[2]);
  if (matches.length !== 1) {
    throw new OperationOutcomeError(preconditionFailed(`Conditional reference "${reference}" matches ${matches.length === 0 ? 'no' : 'more than one'} ${m[1]}: it must match exactly one`));
  }
  return `${m[1]}/${matches[0].id}`;
}

/**
 * The resource with its links rewritten through `map` (fullUrl or conditional reference -> `Type/id`). The input is
 * never changed: only the objects on the way to a rewritten link are copied, so a transaction that the database
 * retries starts again from the client's resources, and a resource without such links costs one walk and no copy.
 * A `urn:uuid:`/`urn:oid:` reference that names no entry of the Bundle is a 400: it could never be resolved.
 */
export function rewriteLinks(resource: Resource, map: ReadonlyMap<string, string>, where: string): Resource {
  return rewriteValue(resource, (key, text) => {
    if (key === 'div') return map.size ? text.replace(NARRATIVE_LINK, (all, attr: string, url: string) => (map.has(url) ? `${attr}="${map.get(url)}"` : all)) : text;
    const target = map.get(text);
    if (target) return target;
    if (key === 'reference' && (text.startsWith('urn:uuid:') || text.startsWith('urn:oid:'))) {
      throw new OperationOutcomeError(badRequest(`${where} refers to ${text}, which is not the fullUrl of any entry in this Bundle`, where));
    }
    return text;
  }) as Resource;
}

const LINK_KEYS = new Set(['reference', 'url', 'div']);

function rewriteValue(value: object, visit: (key: string, text: string) => string): object {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === null || typeof item !== 'object') continue;
      const next = rewriteValue(item, visit);
      if (next !== item) (out ??= value.slice())[i] = next;
    }
    if (out) copyDecimalTexts(value, out);
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const child = obj[key];
    let next = child;
    if (typeof child === 'string') {
      if (LINK_KEYS.has(key)) next = visit(key, child);
    } else if (child !== null && typeof child === 'object') {
      next = rewriteValue(child, visit);
    }
    if (next !== child) setMember((out ??= { ...obj }), key, next);
  }
  // A copy on the way to a rewritten reference keeps the written text of its decimals (json-decimals.ts).
  if (out) copyDecimalTexts(obj, out);
  return out ?? obj;
}
