/** Reading the requests of a batch or transaction Bundle (R4 http.html#transaction). */
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, HttpMethod, RequestContext } from './types.js';
import { badRequest, tooLarge } from './outcomes.js';
import { parseQueryString } from './query.js';

export interface EntryRequest {
  index: number;
  entry: BundleEntry;
  method: HttpMethod;
  /** Path below the base (`Patient/1`, `Patient`), and the query (`identifier=...`) if any. */
  path: string;
  query: string;
  resource?: Resource;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

export function readEntries(body: unknown, ctx: RequestContext): { type: 'batch' | 'transaction'; entries: EntryRequest[] } {
  const bundle = body as Bundle;
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw new OperationOutcomeError(badRequest(`POST to the base takes a Bundle of type batch or transaction, not "${bundle.type ?? '(none)'}"`, 'Bundle.type'));
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw new OperationOutcomeError(badRequest('Bundle.entry must be an array', 'Bundle.entry'));
  if (entries.length > ctx.config.maxBundleEntries) {
    throw new OperationOutcomeError(tooLarge(`The Bundle has ${entries.length} entries; this server takes at most ${ctx.config.maxBundleEntries}`));
  }
  return { type: bundle.type, entries: entries.map((entry, index) => readEntry(entry, index, ctx.baseUrl)) };
}

function readEntry(entry: BundleEntry, index: number, baseUrl: string): EntryRequest {
  const where = `Bundle.entry[${index}]`;
  if (typeof entry !== 'object' || entry === null) throw new OperationOutcomeError(badRequest(`${where} is not an object`, where));
  const request = entry.request;
  if (!request || typeof request.method !== 'string' || typeof request.url !== 'string' || !METHODS.has(request.method)) {
    throw new OperationOutcomeError(badRequest(`${where}.request needs a method (GET, POST, PUT, PATCH, DELETE) and a url`, `${where}.request`));
  }
  let url = request.url;
  if (url.startsWith(baseUrl + '/')) url = url.slice(baseUrl.length + 1);
  if (url.startsWith('/')) url = url.slice(1);
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q + 1) : '';
  const method = request.method as HttpMethod;
  if (path === '' && method !== 'GET') throw new OperationOutcomeError(badRequest(`${where}: a Bundle inside a Bundle is not processed; send it on its own`, `${where}.request.url`));
  if ((method === 'POST' || method === 'PUT') && (typeof entry.resource !== 'object' || entry.resource === null)) {
    throw new OperationOutcomeError(badRequest(`${where} is a ${method} without a resource`, `${where}.resource`));
  }
  return { index, entry, method, path, query, resource: entry.resource };
}

/** The FhirRequest an entry stands for, as if it had been sent alone. */
export function entryToRequest(e: EntryRequest, outer: FhirRequest): FhirRequest {
  const r = e.entry.request ?? { method: e.method, url: e.path };
  return {
    method: e.method,
    path: e.path,
    query: parseQueryString(e.query),
    body: e.resource,
    headers: {
      ifMatch: r.ifMatch,
      ifNoneMatch: r.ifNoneMatch,
      ifNoneExist: r.ifNoneExist,
      ifModifiedSince: r.ifModifiedSince,
      prefer: outer.headers.prefer,
      contentType: e.resource?.resourceType === 'Binary' ? undefined : 'application/fhir+json',
    },
  };
}
