/** patch: PATCH [type]/[id] with a JSON Patch document (R4 http.html#patch; RFC 6902 via fast-json-patch). */
import { OperationOutcomeError } from '@medplum/core';
import type { Binary, Resource } from '@medplum/fhirtypes';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { FhirHandler } from './types.js';
import type { Repository, WriteResult } from '../repo/repository.js';
import { badRequest, notFound, preconditionFailed, unprocessable, unsupportedMediaType } from './outcomes.js';
import { ifMatchVersion, requireCriteria } from './update.js';
import { writeResponse } from './write-response.js';
import { findMatches, readable } from '../repo/conditional.js';

export const patch: FhirHandler = async (req, ctx, { type, id }) => {
  const operations = parsePatchBody(req.body, req.headers.contentType);
  const result = await applyPatch(ctx.repo, type, id, operations, ifMatchVersion(req));
  return writeResponse(req, ctx, result, 200, `Patched ${type}/${id} (version ${result.stored.versionId})`);
};

export const conditionalPatch: FhirHandler = async (req, ctx, { type }) => {
  const operations = parsePatchBody(req.body, req.headers.contentType);
  const criteria = requireCriteria(req, 'patch');
  const result = await ctx.repo.transaction(async (tx) => {
    const matches = await findMatches(tx, type, criteria);
    if (matches.length === 0) throw new OperationOutcomeError(notFound(`Conditional patch "${readable(criteria)}" matches no ${type}`));
    if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`Conditional patch "${readable(criteria)}" matches more than one ${type}`));
    return applyPatch(tx, type, matches[0].id, operations, ifMatchVersion(req));
  });
  return writeResponse(req, ctx, result, 200, `Patched ${type}/${result.stored.id} (version ${result.stored.versionId})`);
};

/** The patch document: a JSON Patch array, or (in a Bundle entry) a Binary holding one (R4 http.html#patch). */
export function parsePatchBody(body: unknown, contentType: string | undefined): Operation[] {
  if (contentType && !contentType.startsWith('application/json-patch+json') && !isBinary(body)) {
    throw new OperationOutcomeError(unsupportedMediaType(`PATCH takes a JSON Patch document (Content-Type: application/json-patch+json), not ${contentType}`));
  }
  let doc: unknown = body;
  if (isBinary(body)) {
    if (body.contentType !== 'application/json-patch+json' || !body.data) {
      throw new OperationOutcomeError(badRequest('A PATCH entry must hold a Binary with contentType application/json-patch+json and data'));
    }
    try {
      doc = JSON.parse(Buffer.from(body.data, 'base64').toString('utf8'));
    } catch {
      throw new OperationOutcomeError(badRequest('The Binary patch data is not base64-encoded JSON'));
    }
  }
  if (!Array.isArray(doc)) throw new OperationOutcomeError(badRequest('A JSON Patch document is an array of operations'));
  const error = jsonpatch.validate(doc as Operation[]);
  if (error) throw new OperationOutcomeError(badRequest(`Invalid JSON Patch operation ${error.index ?? ''}: ${error.message.split('\n')[0]}`));
  return doc as Operation[];
}

function isBinary(body: unknown): body is Binary {
  return typeof body === 'object' && body !== null && (body as Resource).resourceType === 'Binary';
}

async function applyPatch(repo: Repository, type: string, id: string, operations: Operation[], ifMatch?: number | '*'): Promise<WriteResult> {
  return repo.transaction(async (tx) => {
    const current = await tx.readForUpdate(type, id);
    // The patch is applied to the version read here: the update must still find that version current.
    const version = ifMatch === undefined || ifMatch === '*' ? current.versionId : ifMatch;
    let patched: Resource;
    try {
      patched = jsonpatch.applyPatch(JSON.parse(current.json), operations, true, false).newDocument as Resource;
    } catch (err) {
      throw new OperationOutcomeError(unprocessable(`The patch cannot be applied to ${type}/${id}: ${(err as Error).message.split('\n')[0]}`));
    }
    if (!patched || patched.resourceType !== type || patched.id !== id) {
      throw new OperationOutcomeError(badRequest('A patch may not change resourceType or id'));
    }
    return tx.update(patched, { ifMatch: version });
  });
}
