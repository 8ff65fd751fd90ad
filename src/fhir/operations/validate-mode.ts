/**
 * What $validate's mode=update|delete checks against the stored resource (R4 resource-operation-validate.html):
 * update - the resource has the id of the URL, and what an update would do to the stored version (Stride updates
 * as create, R4 http.html#upsert, so a missing one is a warning, not an error; a stale meta.versionId is one too);
 * delete - there is a current version to delete. Stride does not enforce referential integrity on delete, so other
 * resources referring to it are not an obstacle and are not checked.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Repository } from '../../repo/repository.js';
import type { ValidateInput } from './validate-input.js';
import { issue } from '../../validation/issues.js';

export async function checkMode(repo: Repository, type: string, id: string, input: ValidateInput): Promise<OperationOutcomeIssue[]> {
  const issues: OperationOutcomeIssue[] = [];
  const r = input.resource;
  if (r && r.id !== id) {
    const text = r.id ? `${type}.id: the resource's id "${r.id}" differs from the id in the URL "${id}"` : `${type}.id: the resource has no id; an update needs id "${id}", as in the URL`;
    issues.push(issue('error', 'invalid', text, `${type}.id`));
  }
  if (!input.mode) return issues;
  const stored = await repo.readCurrent(type, id);
  if (input.mode === 'delete') {
    if (!stored) issues.push(issue('error', 'not-found', `${type}/${id} does not exist: there is nothing to delete`, type));
    else if (stored.deleted) issues.push(issue('warning', 'deleted', `${type}/${id} is already deleted (version ${stored.versionId}); a delete would change nothing`, type));
    return issues;
  }
  if (!stored) {
    issues.push(issue('warning', 'not-found', `${type}/${id} does not exist yet: an update would create it (update as create, R4 http.html#upsert)`, type));
  } else if (stored.deleted) {
    issues.push(issue('warning', 'deleted', `${type}/${id} was deleted (version ${stored.versionId}): an update would bring it back as version ${stored.versionId + 1}`, type));
  } else if (r?.meta?.versionId && r.meta.versionId !== String(stored.versionId)) {
    const text = `${type}.meta.versionId: the resource says version ${r.meta.versionId}, but the current version is ${stored.versionId}; an update with If-Match: W/"${r.meta.versionId}" would fail with 412`;
    issues.push(issue('warning', 'conflict', text, `${type}.meta.versionId`));
  }
  return issues;
}
