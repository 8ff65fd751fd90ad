/**
 * Conditional create, update and delete (R4 http.html#ccreate, #cond-update, #cdelete): a search decides which
 * resource the write applies to, inside the same transaction as the write.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, conflict, preconditionFailed, statusOf } from '../fhir/outcomes.js';
import type { Repository, StoredResource, WriteResult } from './repository.js';
import { toStored } from './repository.js';
import { criteriaLockKey, lockUntilCommit } from './locks.js';
import { parseQueryString } from '../fhir/query.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

/**
 * `identifier=a|b&status=x` -> parameters; an empty criteria string is refused (it would match everything). A
 * leading `?`, `Patient?` or `[base]/Patient?` is allowed: clients copy If-None-Exist from a search URL.
 */
export function parseCriteria(criteria: string): Record<string, string[]> {
  const text = criteria.slice(prefixLength(criteria));
  const params = parseQueryString(text);
  if (Object.keys(params).length === 0) throw new OperationOutcomeError(badRequest(`Conditional criteria "${readable(criteria)}" has no search parameters`));
  return params;
}

/**
 * Up to two matches: enough to tell none, one and several apart. Inside a transaction, first locks the criteria
 * until commit: under READ COMMITTED two processes could both search, both find nothing and both create (HAPI
 * hapi-fhir#3141, Microsoft fhir-server#1382); with the lock the second one's search runs after the first commits
 * and sees what it wrote. Criteria spelled differently (parameter order, percent-encoding) lock the same key.
 */
export async function findMatches(repo: Repository, type: string, criteria: string): Promise<StoredResource[]> {
  const named = criteria.slice(0, prefixLength(criteria)).replace(/\?$/, '').split('/').pop();
  if (named && named !== type) throw new OperationOutcomeError(badRequest(`Conditional criteria "${readable(criteria)}" are for ${named}, not ${type}`));
  const params = parseCriteria(criteria);
  await lockUntilCommit(repo, criteriaLockKey(type, params));
  try {
    // Strict: an ignored unknown parameter would widen the criteria to every resource of the type, and the write
    // would then update or delete a resource the client never meant.
    const result = await repo.search({ resourceType: type, params, count: 2, offset: 0, total: 'none', strict: true });
    return result.rows.map(toStored);
  } catch (err) {
    if (err instanceof OperationOutcomeError && statusOf(err.outcome) === 400) {
      // The search names Prefer: handling=strict as the reason; here the strictness is the server's, not the client's.
      const text = (err.outcome.issue?.[0]?.details?.text ?? 'invalid').replace(/ \(Prefer: handling=strict\)$/, '');
      throw new OperationOutcomeError(badRequest(`Conditional criteria "${readable(criteria)}" cannot be used: ${text}`, err.outcome.issue?.[0]?.expression?.[0]));
    }
    throw err;
  }
}

/** Length of a `?`, `Type?` or `[base]/Type?` prefix: a `?` before the first `=`. */
function prefixLength(criteria: string): number {
  const q = criteria.indexOf('?');
  const eq = criteria.indexOf('=');
  return q >= 0 && (eq < 0 || q < eq) ? q + 1 : 0;
}

/** Criteria as a person wrote them, for messages (`identifier=urn:x|1`, not `identifier=urn%3Ax%7C1`). */
export function readable(criteria: string): string {
  try {
    return decodeURIComponent(criteria.replace(/\+/g, ' '));
  } catch {
    return criteria;
  }
}

export interface ConditionalCreateResult extends WriteResult {
  /** False when an existing resource matched and nothing was written. */
  created: boolean;
}

export async function conditionalCreate(repo: Repository, resource: Resource, criteria: string, assignedId?: string): Promise<ConditionalCreateResult> {
  return repo.transaction(async (tx) => {
    const matches = await findMatches(tx, resource.resourceType, criteria);
    if (matches.length > 1) {
      throw new OperationOutcomeError(preconditionFailed(`If-None-Exist "${readable(criteria)}" matches more than one ${resource.resourceType}`));
    }
    if (matches.length === 1) {
      const existing = matches[0];
      return { stored: existing, resource: parseJsonKeepingDecimals(existing.json) as Resource, created: false, issues: [] };
    }
    return tx.create(resource, assignedId);
  });
}

export async function conditionalUpdate(repo: Repository, resource: Resource, criteria: string, assignedId?: string): Promise<WriteResult> {
  return repo.transaction(async (tx) => {
    const matches = await findMatches(tx, resource.resourceType, criteria);
    if (matches.length > 1) {
      throw new OperationOutcomeError(preconditionFailed(`Conditional update "${readable(criteria)}" matches more than one ${resource.resourceType}`));
    }
    if (matches.length === 0) {
      if (!resource.id) return tx.create(resource, assignedId);
      // An id that names another, existing resource: updating it would overwrite a resource the criteria did not
      // select (R5 http.html#cond-update states the 409 that R4 leaves open).
      const existing = await tx.readCurrent(resource.resourceType, resource.id);
      if (existing && !existing.deleted) {
        throw new OperationOutcomeError(conflict(`Conditional update "${readable(criteria)}" matches no ${resource.resourceType}, but the body's id "${resource.id}" names an existing one: remove the id or fix the criteria`));
      }
      return tx.update(resource);
    }
    const id = matches[0].id;
    if (resource.id && resource.id !== id) {
      throw new OperationOutcomeError(badRequest(`The body's id "${resource.id}" differs from the matched ${resource.resourceType}/${id}`, 'id'));
    }
    return tx.update({ ...resource, id });
  });
}

/** Deletes the one match; several matches are a 412 (this server deletes one resource per request). */
export async function conditionalDelete(repo: Repository, type: string, criteria: string): Promise<StoredResource | undefined> {
  return repo.transaction(async (tx) => {
    const matches = await findMatches(tx, type, criteria);
    if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`Conditional delete "${readable(criteria)}" matches more than one ${type}`));
    if (matches.length === 0) return undefined;
    return tx.delete(type, matches[0].id);
  });
}
