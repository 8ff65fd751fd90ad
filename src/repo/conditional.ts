/**
 * Conditional create, update and delete (R4 http.html#ccreate, #cond-update, #cdelete): a search decides which
 * resource the write applies to, inside the same transaction as the write.
 */
import { createHash } from 'node:crypto';
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, preconditionFailed } from '../fhir/outcomes.js';
import type { Repository, StoredResource, WriteResult } from './repository.js';
import { toStored } from './repository.js';

/** `identifier=a|b&status=x` -> parameters; an empty criteria string is refused (it would match everything). */
export function parseCriteria(criteria: string): Record<string, string[]> {
  const text = criteria.startsWith('?') ? criteria.slice(1) : criteria;
  const params: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) (params[name] ??= []).push(value);
  if (Object.keys(params).length === 0) throw new OperationOutcomeError(badRequest(`Conditional criteria "${criteria}" has no search parameters`));
  return params;
}

/**
 * Up to two matches: enough to tell none, one and several apart. Inside a transaction, first locks the criteria
 * until commit: under READ COMMITTED two processes could both search, both find nothing and both create (HAPI
 * hapi-fhir#3141, Microsoft fhir-server#1382); with the lock the second one's search runs after the first commits
 * and sees what it wrote. Criteria spelled differently (parameter order, percent-encoding) lock the same key.
 */
export async function findMatches(repo: Repository, type: string, criteria: string): Promise<StoredResource[]> {
  const params = parseCriteria(criteria);
  const lock = repo.inTransaction ? repo.deps.store.dialect.transactionLock(criteriaLockKey(type, params)) : undefined;
  if (lock) await repo.db.run(lock);
  const result = await repo.search({ resourceType: type, params, count: 2, offset: 0, total: 'none' });
  return result.rows.map(toStored);
}

/** A signed 64-bit key for `type?criteria`, independent of how the criteria were spelled. */
export function criteriaLockKey(type: string, params: Record<string, string[]>): string {
  const normal = Object.keys(params)
    .sort()
    .map((name) => `${encodeURIComponent(name)}=${[...params[name]].sort().map(encodeURIComponent).join('&')}`)
    .join('&');
  const digest = createHash('sha256').update(`${type}?${normal}`).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0)).toString();
}

export interface ConditionalCreateResult extends WriteResult {
  /** False when an existing resource matched and nothing was written. */
  created: boolean;
}

export async function conditionalCreate(repo: Repository, resource: Resource, criteria: string, assignedId?: string): Promise<ConditionalCreateResult> {
  return repo.transaction(async (tx) => {
    const matches = await findMatches(tx, resource.resourceType, criteria);
    if (matches.length > 1) {
      throw new OperationOutcomeError(preconditionFailed(`If-None-Exist "${criteria}" matches more than one ${resource.resourceType}`));
    }
    if (matches.length === 1) {
      const existing = matches[0];
      return { stored: existing, resource: JSON.parse(existing.json) as Resource, created: false, issues: [] };
    }
    return tx.create(resource, assignedId);
  });
}

export async function conditionalUpdate(repo: Repository, resource: Resource, criteria: string, assignedId?: string): Promise<WriteResult> {
  return repo.transaction(async (tx) => {
    const matches = await findMatches(tx, resource.resourceType, criteria);
    if (matches.length > 1) {
      throw new OperationOutcomeError(preconditionFailed(`Conditional update "${criteria}" matches more than one ${resource.resourceType}`));
    }
    if (matches.length === 0) {
      return resource.id ? tx.update(resource) : tx.create(resource, assignedId);
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
    if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`Conditional delete "${criteria}" matches more than one ${type}`));
    if (matches.length === 0) return undefined;
    return tx.delete(type, matches[0].id);
  });
}
