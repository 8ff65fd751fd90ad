/** Turns one entry's FhirResponse into a batch/transaction-response entry (R4 bundle.html#BundleEntry). */
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse, RequestContext } from './types.js';
import { parsePrefer } from './prefer.js';

const REASONS: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified' };

export interface EntryTarget {
  type: string;
  id: string;
  version: number;
  lastUpdated: number;
}

export function toEntryResponse(ctx: RequestContext, response: FhirResponse, target: EntryTarget | undefined, req: FhirRequest): BundleEntry {
  const h = response.headers ?? {};
  const status = `${response.status}${REASONS[response.status] ? ' ' + REASONS[response.status] : ''}`;
  const entry: BundleEntry = { response: { status } };
  const location = target ? `${target.type}/${target.id}/_history/${target.version}` : h.Location?.replace(ctx.baseUrl + '/', '');
  if (location) entry.response!.location = location;
  const etag = target ? `W/"${target.version}"` : h.ETag;
  if (etag) entry.response!.etag = etag;
  const lastModified = target ? target.lastUpdated : h['Last-Modified'] ? Date.parse(h['Last-Modified']) : undefined;
  if (lastModified !== undefined && !Number.isNaN(lastModified)) entry.response!.lastModified = new Date(lastModified).toISOString();
  if (target) entry.fullUrl = `${ctx.baseUrl}/${target.type}/${target.id}`;

  const isRead = req.method === 'GET' || req.method === 'HEAD';
  const preference = parsePrefer(req.headers.prefer).return;
  // Writes answer minimally unless the client asks (Prefer: return=representation): bulk loads stay lean.
  const wantsBody = isRead || preference === 'representation' && req.headers.prefer?.includes('representation');
  if (wantsBody) {
    const resource = response.resource ?? (response.raw ? (JSON.parse(response.raw) as Resource) : undefined);
    if (resource) entry.resource = resource;
  }
  if (response.outcome && (preference === 'OperationOutcome' || response.outcome.issue?.some((i) => i.severity !== 'information'))) {
    entry.response!.outcome = response.outcome;
  }
  return entry;
}
