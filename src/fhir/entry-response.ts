/** Turns one entry's FhirResponse into a batch/transaction-response entry (R4 bundle.html#BundleEntry). */
import type { BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { StoredResource } from '../repo/repository.js';
import type { FhirRequest, FhirResponse, RequestContext } from './types.js';
import { parsePrefer } from './prefer.js';
import { etag } from '../repo/meta.js';
import { parseJsonKeepingDecimals } from './json-decimals.js';

/** What one entry did: the request it stood for, the handler's response, and the version it wrote or answered with. */
export interface EntryResult {
  request: FhirRequest;
  response: FhirResponse;
  version?: StoredResource;
}

/**
 * The response entries, once the database transaction's work is done: the findings that the write hook (the bots,
 * DESIGN §6) made about a resource an entry wrote join that entry's outcome.
 */
export function toEntryResponses(ctx: RequestContext, results: readonly EntryResult[], findings?: ReadonlyMap<string, OperationOutcomeIssue[]>): BundleEntry[] {
  return results.map(({ request, response, version }) => {
    const extra = version && findings?.get(`${version.resourceType}/${version.id}`);
    if (!extra?.length) return toEntryResponse(ctx, response, request, version);
    const issue = [...(response.outcome?.issue ?? []), ...extra];
    return toEntryResponse(ctx, { ...response, outcome: { resourceType: 'OperationOutcome', issue } }, request, version);
  });
}

const REASONS: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified' };

/**
 * `version` is the stored version the entry wrote (or answered with): location, etag and lastModified then come from
 * it, to the millisecond; without it they come from the response headers.
 */
export function toEntryResponse(ctx: RequestContext, response: FhirResponse, req: FhirRequest, version?: StoredResource): BundleEntry {
  const h = response.headers ?? {};
  const entry: BundleEntry = {};
  const result: NonNullable<BundleEntry['response']> = { status: `${response.status}${REASONS[response.status] ? ' ' + REASONS[response.status] : ''}` };
  if (version && !version.deleted) {
    entry.fullUrl = `${ctx.baseUrl}/${version.resourceType}/${version.id}`;
    result.location = `${version.resourceType}/${version.id}/_history/${version.versionId}`;
  } else if (h.Location) {
    result.location = h.Location.startsWith(ctx.baseUrl + '/') ? h.Location.slice(ctx.baseUrl.length + 1) : h.Location;
  }
  const tag = version ? etag(version.versionId) : h.ETag;
  if (tag) result.etag = tag;
  const lastModified = version ? version.lastUpdated : h['Last-Modified'] ? Date.parse(h['Last-Modified']) : NaN;
  if (!Number.isNaN(lastModified)) result.lastModified = new Date(lastModified).toISOString();

  const isRead = req.method === 'GET' || req.method === 'HEAD';
  // Writes answer minimally unless the client asks for the resources (Prefer: return=representation): a bulk load
  // does not get its whole payload echoed back.
  const wantsBody = isRead || (parsePrefer(req.headers.prefer).return === 'representation' && !!req.headers.prefer?.includes('representation'));
  if (wantsBody && req.method !== 'HEAD') {
    const resource = response.resource ?? (response.raw ? (parseJsonKeepingDecimals(response.raw) as Resource) : undefined);
    if (resource) entry.resource = resource;
  }
  entry.response = result;
  if (response.outcome && (parsePrefer(req.headers.prefer).return === 'OperationOutcome' || response.outcome.issue?.some((i) => i.severity !== 'information'))) {
    result.outcome = response.outcome;
  }
  return entry;
}
