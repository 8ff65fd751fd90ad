/**
 * Rewrites the references of transaction entries: `urn:uuid:...` and other fullUrls of the Bundle become the
 * `Type/id` the server gave them; conditional references (`Patient?identifier=...`) become the one match
 * (R4 http.html#trules).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, preconditionFailed } from './outcomes.js';
import type { Repository } from '../repo/repository.js';
import { findMatches } from '../repo/conditional.js';

/** Calls `visit` for every `reference` string in the resource, replacing it with what `visit` returns. */
export function mapReferences(value: unknown, visit: (reference: string) => string): void {
  if (Array.isArray(value)) {
    for (const item of value) mapReferences(item, visit);
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const child = obj[key];
      if (key === 'reference' && typeof child === 'string') obj[key] = visit(child);
      else if (child && typeof child === 'object') mapReferences(child, visit);
    }
  }
}

const CONDITIONAL = /^([A-Z][A-Za-z]+)\?(.+)$/;

/** Collects the conditional references of the resources, for resolution before any write. */
export function conditionalReferences(resources: Resource[]): Set<string> {
  const found = new Set<string>();
  for (const r of resources) mapReferences(r, (ref) => (CONDITIONAL.test(ref) ? (found.add(ref), ref) : ref));
  return found;
}

export async function resolveConditionalReference(repo: Repository, reference: string): Promise<string> {
  const m = CONDITIONAL.exec(reference) as RegExpExecArray;
  const matches = await findMatches(repo, m[1], m[2]);
  if (matches.length !== 1) {
    throw new OperationOutcomeError(preconditionFailed(`Conditional reference "${reference}" matches ${matches.length === 0 ? 'no' : 'more than one'} ${m[1]}: it must match exactly one`));
  }
  return `${m[1]}/${matches[0].id}`;
}

export function rewrite(resource: Resource, map: ReadonlyMap<string, string>, where: string): void {
  mapReferences(resource, (ref) => {
    const target = map.get(ref);
    if (target) return target;
    if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) {
      throw new OperationOutcomeError(badRequest(`${where} refers to ${ref}, which is not the fullUrl of any entry in this Bundle`, where));
    }
    return ref;
  });
}
