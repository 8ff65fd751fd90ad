/** create: POST [type], and conditional create with If-None-Exist (R4 http.html#create, #ccreate). */
import type { FhirHandler } from './types.js';
import { requireResource } from './body.js';
import { conditionalCreate } from '../repo/conditional.js';
import { writeResponse } from './write-response.js';

export const create: FhirHandler = async (req, ctx, { type }) => {
  const resource = requireResource(req.body, type);
  // The server assigns the id of a created resource; a client-supplied id is ignored (R4 http.html#create).
  const { id: _ignored, ...body } = resource;
  const criteria = req.headers.ifNoneExist;
  if (criteria) {
    const result = await conditionalCreate(ctx.repo, body as typeof resource, criteria);
    if (!result.created) return writeResponse(req, ctx, result, 200, `If-None-Exist matched ${type}/${result.stored.id}: nothing created`);
    return writeResponse(req, ctx, result, 201, `Created ${type}/${result.stored.id}`);
  }
  const result = await ctx.repo.create(body as typeof resource);
  return writeResponse(req, ctx, result, 201, `Created ${type}/${result.stored.id}`);
};
