/** read: GET [type]/[id] (R4 http.html#read), with If-None-Match / If-Modified-Since -> 304. */
import type { FhirHandler, FhirRequest, FhirResponse } from './types.js';
import type { StoredResource } from '../repo/repository.js';
import { etag, parseETag } from '../repo/meta.js';

export const read: FhirHandler = async (req, ctx, { type, id }) => {
  const stored = await ctx.repo.read(type, id);
  return storedResponse(req, stored);
};

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
