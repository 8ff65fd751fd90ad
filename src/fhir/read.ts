/** read: GET [type]/[id] (R4 http.html#read), with If-None-Match / If-Modified-Since -> 304. */
import type { Binary } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, FhirResponse } from './types.js';
import type { StoredResource } from '../repo/repository.js';
import { etag, parseETag } from '../repo/meta.js';

export const read: FhirHandler = async (req, ctx, { type, id }) => {
  const stored = await ctx.repo.read(type, id);
  if (type === 'Binary' && wantsRaw(req)) return rawBinary(req, stored);
  return storedResponse(req, stored);
};

/**
 * R4 binary.html#rest: a read of a Binary with an Accept that is not a FHIR format returns the content itself, in its
 * own contentType (an X12 file as application/edi-x12). `Accept: application/fhir+json` (or none, or _format) gets the
 * Binary resource.
 */
function wantsRaw(req: FhirRequest): boolean {
  const accept = req.headers.accept;
  return !!accept && !req.query._format && !/json|\*\/\*/i.test(accept);
}

function rawBinary(req: FhirRequest, stored: StoredResource): FhirResponse {
  const headers = { ETag: etag(stored.versionId), 'Last-Modified': new Date(stored.lastUpdated).toUTCString() };
  if (notModified(req, stored)) return { status: 304, headers };
  const binary = JSON.parse(stored.json) as Binary;
  const data = Buffer.from(binary.data ?? '', 'base64');
  return { status: 200, headers: { ...headers, 'Content-Length': String(data.length) }, body: { contentType: binary.contentType, data: oneChunk(data) } };
}

async function* oneChunk(data: Buffer): AsyncIterable<Buffer> {
  yield data;
}

export function storedResponse(req: FhirRequest, stored: StoredResource): FhirResponse {
  const headers = { ETag: etag(stored.versionId), 'Last-Modified': new Date(stored.lastUpdated).toUTCString() };
  if (notModified(req, stored)) return { status: 304, headers };
  return { status: 200, headers, raw: stored.json };
}

function notModified(req: FhirRequest, stored: StoredResource): boolean {
  const { ifNoneMatch, ifModifiedSince } = req.headers;
  if (ifNoneMatch) {
    if (ifNoneMatch.trim() === '*') return true;
    return ifNoneMatch.split(',').some((tag) => parseETag(tag) === stored.versionId);
  }
  if (ifModifiedSince) {
    const since = Date.parse(ifModifiedSince);
    // HTTP dates have whole seconds: compare at that precision.
    return !Number.isNaN(since) && Math.floor(stored.lastUpdated / 1000) * 1000 <= since;
  }
  return false;
}
