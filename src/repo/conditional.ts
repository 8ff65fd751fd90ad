/**
 * Conditional create, update and delete (R4 http.html#ccreate, #cond-update, #cdelete): a search decides which
 * resource the write applies to, inside the same transaction as the write.
 */
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

/** Up to two matches: enough to tell none, one and several apart. */
export async function findMatches(repo: Repository, type: string, criteria: string): Promise<StoredResource[]> {
  const params = parseCriteria(criteria);
  const result = await repo.search({ resourceType: type, params, count: 2, offset: 0, total: 'none' });
  return result.rows.map(toStored);
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
