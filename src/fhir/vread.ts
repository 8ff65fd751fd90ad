/** vread: GET [type]/[id]/_history/[vid] (R4 http.html#vread). */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler } from './types.js';
import { storedResponse } from './read.js';
import { notFound } from './outcomes.js';

export const vread: FhirHandler = async (req, ctx, { type, id, vid }) => {
  const version = Number(vid);
  if (!/^\d+$/.test(vid) || version < 1) throw new OperationOutcomeError(notFound(`Version "${vid}" of ${type}/${id} not found: versions are 1, 2, 3 ...`));
  return storedResponse(req, await ctx.repo.vread(type, id, version));
};
