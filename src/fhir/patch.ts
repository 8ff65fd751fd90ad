/** patch: PATCH [type]/[id] with a JSON Patch document (R4 http.html#patch; RFC 6902 via fast-json-patch). */
import { OperationOutcomeError } from '@medplum/core';
import type { Binary, Resource } from '@medplum/fhirtypes';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { FhirHandler } from './types.js';
import type { Repository, WriteResult } from '../repo/repository.js';
import { badRequest, notFound, preconditionFailed, tooLarge, unprocessable, unsupportedMediaType } from './outcomes.js';
import { MAX_JSON_DEPTH, nestsDeeper } from './body.js';
import { ifMatchVersion, requireCriteria } from './update.js';
import { writeResponse } from './write-response.js';
import { findMatches, readable } from '../repo/conditional.js';
import { decimalText, decimalTextAt, noteWritten, parseJsonKeepingDecimals } from './json-decimals.js';

export const patch: FhirHandler = async (req, ctx, { type, id }) => {
  const operations = parsePatchBody(req.body, req.headers.contentType);
  const result = await applyPatch(ctx.repo, type, id, operations, ifMatchVersion(req), ctx.config.bodyLimit);
  return writeResponse(req, ctx, result, 200, `Patched ${type}/${id} (version ${result.stored.versionId})`);
};

export const conditionalPatch: FhirHandler = async (req, ctx, { type }) => {
  const operations = parsePatchBody(req.body, req.headers.contentType);
  const criteria = requireCriteria(req, 'patch');
  const result = await ctx.repo.transaction(async (tx) => {
    const matches = await findMatches(tx, type, criteria);
    if (matches.length === 0) throw new OperationOutcomeError(notFound(`Conditional patch "${readable(criteria)}" matches no ${type}`));
    if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`Conditional patch "${readable(criteria)}" matches more than one ${type}`));
    return applyPatch(tx, type, matches[0].id, operations, ifMatchVersion(req), ctx.config.bodyLimit);
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
      doc = parseJsonKeepingDecimals(Buffer.from(body.data, 'base64').toString('utf8'));
    } catch {
      throw new OperationOutcomeError(badRequest('The Binary patch data is not base64-encoded JSON'));
    }
  }
  if (!Array.isArray(doc)) throw new OperationOutcomeError(badRequest('A JSON Patch document is an array of operations'));
  const error = jsonpatch.validate(doc as Operation[]);
  if (error) throw new OperationOutcomeError(badRequest(`Invalid JSON Patch operation ${error.index ?? ''}: ${error.message.split('\n')[0]}`));
  // RFC 6902 §4.4: "from" must not be a proper prefix of "path" (fast-json-patch does not check it, and moving the
  // whole document into one of its own members made a cyclic resource that crashed validation).
  (doc as Operation[]).forEach((op, i) => {
    if (op.op === 'move' && op.path !== op.from && (op.from === '' || op.path.startsWith(`${op.from}/`))) {
      throw new OperationOutcomeError(badRequest(`Invalid JSON Patch operation ${i}: cannot move "${op.from}" into its own member "${op.path}" (RFC 6902 §4.4)`));
    }
  });
  return doc as Operation[];
}

function isBinary(body: unknown): body is Binary {
  return typeof body === 'object' && body !== null && (body as Resource).resourceType === 'Binary';
}

async function applyPatch(repo: Repository, type: string, id: string, operations: Operation[], ifMatch: number | '*' | undefined, sizeLimit: number): Promise<WriteResult> {
  return repo.transaction(async (tx) => {
    const current = await tx.readForUpdate(type, id);
    // The patch is applied to the version read here: the update must still find that version current.
    const version = ifMatch === undefined || ifMatch === '*' ? current.versionId : ifMatch;
    let patched: Resource;
    try {
      patched = applyOperations(parseJsonKeepingDecimals(current.json), operations, sizeLimit) as Resource;
    } catch (err) {
      if (err instanceof OperationOutcomeError) throw err;
      throw new OperationOutcomeError(unprocessable(`The patch cannot be applied to ${type}/${id}: ${(err as Error).message.split('\n')[0]}`));
    }
    if (!patched || patched.resourceType !== type || patched.id !== id) {
      throw new OperationOutcomeError(badRequest('A patch may not change resourceType or id'));
    }
    return tx.update(patched, { ifMatch: version });
  });
}

/**
 * Applies the operations one by one. A `copy` can double the document (copy "" into a member, again and again) and
 * `add`s can nest values ever deeper: after each copy, and at the end, the result may not outgrow what a client could
 * PUT (the body limit) nor nest deeper than a body may, or a few hundred bytes of patch would exhaust the server's
 * memory or stack.
 */
/** A JSON Pointer's segments, decoded (RFC 6901: ~1 is /, ~0 is ~). */
function segments(pointer: string): string[] {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyOperations(document: unknown, operations: readonly Operation[], sizeLimit: number): unknown {
  let doc = document;
  const check = (i: number) => {
    if (nestsDeeper(doc, MAX_JSON_DEPTH)) {
      throw new OperationOutcomeError(badRequest(`JSON Patch operation ${i} makes the resource nest more than ${MAX_JSON_DEPTH} levels deep`));
    }
    if (JSON.stringify(doc).length > sizeLimit) {
      throw new OperationOutcomeError(tooLarge(`JSON Patch operation ${i} makes the resource larger than this server's limit of ${sizeLimit} bytes`));
    }
  };
  operations.forEach((operation, i) => {
    checkOwnPath(doc, operation, i);
    // A number the operation writes keeps its written text: the patch document's ("value": 2.50), or the one of the
    // number it copies or moves (json-decimals.ts).
    const from = (operation.op === 'copy' || operation.op === 'move') && typeof doc === 'object' && doc !== null ? decimalTextAt(doc, segments(operation.from)) : undefined;
    doc = jsonpatch.applyOperation(doc, operation, true, true, true, i).newDocument;
    const text = operation.op === 'add' || operation.op === 'replace' ? decimalText(operation, 'value') : from;
    if (operation.op !== 'remove' && operation.op !== 'test' && typeof doc === 'object' && doc !== null) noteWritten(doc, segments(operation.path), text);
    if (operation.op === 'copy') check(i);
  });
  if (operations.length > 0 && operations[operations.length - 1].op !== 'copy') check(operations.length - 1);
  return doc;
}

/**
 * The locations an operation reads must exist as the document's own members (RFC 6902 §4: "the target location
 * MUST exist"). fast-json-patch walks with plain property lookups, which find Object.prototype's members: `remove
 * /constructor` "succeeded" on a resource without one and wrote a new version (issue 25). `add` needs its parent.
 */
function checkOwnPath(doc: unknown, operation: Operation, i: number): void {
  const reads: string[] = [];
  if (operation.op === 'remove' || operation.op === 'replace' || operation.op === 'test') reads.push(operation.path);
  if (operation.op === 'move' || operation.op === 'copy') reads.push(operation.from);
  const parentOfAdd = operation.op === 'add' || operation.op === 'move' || operation.op === 'copy' ? operation.path.slice(0, Math.max(0, operation.path.lastIndexOf('/'))) : undefined;
  for (const pointer of parentOfAdd === undefined ? reads : [...reads, parentOfAdd]) {
    if (!ownPathExists(doc, pointer)) {
      throw new OperationOutcomeError(unprocessable(`JSON Patch operation ${i} (${operation.op}): the path "${pointer}" does not exist in the resource`));
    }
  }
}

function ownPathExists(doc: unknown, pointer: string): boolean {
  if (pointer === '') return true;
  let node = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}
