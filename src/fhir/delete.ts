/** delete: DELETE [type]/[id], and conditional delete DELETE [type]?criteria (R4 http.html#delete, #cdelete). */
import type { FhirHandler, FhirResponse } from './types.js';
import type { StoredResource } from '../repo/repository.js';
import { conditionalDelete } from '../repo/conditional.js';
import { ifMatchVersion, requireCriteria } from './update.js';
import { etag } from '../repo/meta.js';
import { allOk } from './outcomes.js';
import { parsePrefer } from './prefer.js';

export const deleteHandler: FhirHandler = async (req, ctx, { type, id }) => {
  const deleted = await ctx.repo.delete(type, id, { ifMatch: ifMatchVersion(req) });
  return deleteResponse(req.headers.prefer, deleted, `${type}/${id}`);
};

export const conditionalDeleteHandler: FhirHandler = async (req, ctx, { type }) => {
  const deleted = await conditionalDelete(ctx.repo, type, requireCriteria(req, 'delete'));
  return deleteResponse(req.headers.prefer, deleted, deleted ? `${type}/${deleted.id}` : `no ${type} matched`);
};

/** 204 whether or not there was something to delete: delete is idempotent (R4 http.html#delete). */
function deleteResponse(prefer: string | undefined, deleted: StoredResource | undefined, what: string): FhirResponse {
  const headers: Record<string, string> = deleted ? { ETag: etag(deleted.versionId) } : {};
  const message = deleted ? `Deleted ${what} (version ${deleted.versionId})` : `Nothing to delete: ${what} does not exist or is already deleted`;
  // The outcome goes out as the body: without the status key that outcomes.ts keeps in `id` for thrown outcomes.
  const { id: _key, ...outcome } = allOk(message);
  if (parsePrefer(prefer).return === 'OperationOutcome') return { status: 200, headers, resource: outcome, outcome };
  return { status: 204, headers, outcome };
}
