/** update: PUT [type]/[id] (upsert), and conditional update PUT [type]?criteria (R4 http.html#update, #cond-update). */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, FhirRequest } from './types.js';
import { requireResource } from './body.js';
import { badRequest } from './outcomes.js';
import { conditionalUpdate } from '../repo/conditional.js';
import { writeResponse } from './write-response.js';
import { parseETag } from '../repo/meta.js';
import { queryString } from './query.js';

export const update: FhirHandler = async (req, ctx, { type, id }) => {
  const resource = requireResource(req.body, type);
  const bodyId: unknown = resource.id;
  if (bodyId === undefined) throw new OperationOutcomeError(badRequest(`The body has no id: an update of ${type}/${id} must carry "id": "${id}"`, `${type}.id`));
  if (typeof bodyId !== 'string') throw new OperationOutcomeError(badRequest(`${type}.id must be a JSON string ("${id}"), not ${JSON.stringify(bodyId)}`, `${type}.id`));
  if (bodyId !== id) throw new OperationOutcomeError(badRequest(`The body's id "${bodyId}" does not match the URL's id "${id}"`, `${type}.id`));
  const result = await ctx.repo.update(resource, { ifMatch: ifMatchVersion(req) });
  return writeResponse(req, ctx, result, result.created ? 201 : 200, `${result.created ? 'Created' : 'Updated'} ${type}/${id} (version ${result.stored.versionId})`);
};

export const conditionalUpdateHandler: FhirHandler = async (req, ctx, { type }) => {
  const resource = requireResource(req.body, type);
  const result = await conditionalUpdate(ctx.repo, resource, requireCriteria(req, 'update'));
  const { id, versionId } = result.stored;
  return writeResponse(req, ctx, result, result.created ? 201 : 200, `${result.created ? 'Created' : 'Updated'} ${type}/${id} (version ${versionId})`);
};

/** If-Match as a version number (or `*`: any current version); a header that is not an ETag is a 400, not ignored. */
export function ifMatchVersion(req: FhirRequest): number | '*' | undefined {
  const header = req.headers.ifMatch;
  if (header === undefined) return undefined;
  if (header.trim() === '*') return '*';
  const version = parseETag(header);
  if (version === undefined) throw new OperationOutcomeError(badRequest(`If-Match "${header}" is not a version ETag such as W/"3"`));
  return version;
}

export function requireCriteria(req: FhirRequest, what: string): string {
  const criteria = queryString(req.query);
  if (!criteria) throw new OperationOutcomeError(badRequest(`A conditional ${what} needs search criteria in the URL, e.g. ?identifier=system|value`));
  return criteria;
}
