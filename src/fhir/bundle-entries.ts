/** Reading the requests of a batch or transaction Bundle (R4 http.html#transaction, bundle.html#BundleEntry). */
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
  /** The resource type the path names (`Patient` for `Patient/1/_history/2`), '' for the base. */
  type: string;
  /** The id the path names, if any. */
  id?: string;
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
    throw new OperationOutcomeError(tooLarge(`The Bundle has ${entries.length} entries; this server takes at most ${ctx.config.maxBundleEntries} (STRIDE_MAX_BUNDLE_ENTRIES)`));
  }
  const read = entries.map((entry, index) => readEntry(entry, index, ctx.baseUrl));
  checkFullUrls(read);
  return { type: bundle.type, entries: read };
}

function readEntry(entry: BundleEntry, index: number, baseUrl: string): EntryRequest {
  const where = `Bundle.entry[${index}]`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new OperationOutcomeError(badRequest(`${where} is not an object`, where));
  const request = entry.request;
  if (!request || typeof request.method !== 'string' || typeof request.url !== 'string' || !METHODS.has(request.method)) {
    throw new OperationOutcomeError(badRequest(`${where}.request needs a method (GET, HEAD, POST, PUT, PATCH or DELETE) and a url`, `${where}.request`));
  }
  for (const header of ['ifNoneExist', 'ifMatch', 'ifNoneMatch', 'ifModifiedSince'] as const) {
    if (request[header] !== undefined && typeof request[header] !== 'string') {
      throw new OperationOutcomeError(badRequest(`${where}.request.${header} must be a string`, `${where}.request.${header}`));
    }
  }
  const url = relativeUrl(request.url, baseUrl, where);
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q + 1) : '';
  const method = request.method as HttpMethod;
  if (path === '' && method !== 'GET' && method !== 'HEAD') {
    throw new OperationOutcomeError(badRequest(`${where}: a Bundle inside a Bundle is not processed; send it on its own`, `${where}.request.url`));
  }
  const resource = entry.resource;
  if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && (typeof resource !== 'object' || resource === null || Array.isArray(resource))) {
    const what = method === 'PATCH' ? 'a Binary holding the JSON Patch' : 'a resource';
    throw new OperationOutcomeError(badRequest(`${where} is a ${method} without ${what}`, `${where}.resource`));
  }
  const [type, id] = path.split('/');
  return { index, entry, method, path, query, type, id: id || undefined, resource };
}

/** `Patient/1`, `/Patient/1` and `[base]/Patient/1` are the same request; a URL of another server is refused. */
function relativeUrl(url: string, baseUrl: string, where: string): string {
  if (url.startsWith(baseUrl + '/') || url.startsWith(baseUrl + '?')) return url.slice(baseUrl.length + 1);
  if (url === baseUrl) return '';
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    throw new OperationOutcomeError(badRequest(`${where}.request.url "${url}" is not on this server (${baseUrl}); use a URL relative to the base, e.g. Patient/1`, `${where}.request.url`));
  }
  return url.startsWith('/') ? url.slice(1) : url;
}

/**
 * fullUrl must be unique in a Bundle unless the entries hold different versions (R4 Bundle invariant bdl-7):
 * otherwise a reference to it would be ambiguous.
 */
function checkFullUrls(entries: readonly EntryRequest[]): void {
  const seen = new Map<string, number>();
  for (const e of entries) {
    const fullUrl = e.entry.fullUrl;
    if (!fullUrl) continue;
    const key = `${fullUrl} ${e.resource?.meta?.versionId ?? ''}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new OperationOutcomeError(badRequest(`Bundle.entry[${e.index}].fullUrl "${fullUrl}" is also the fullUrl of Bundle.entry[${first}]: fullUrls must be unique (bdl-7)`, `Bundle.entry[${e.index}].fullUrl`));
    }
    seen.set(key, e.index);
  }
}

/** The FhirRequest an entry stands for, as if it had been sent alone (with `body` in place of the entry's resource). */
export function entryToRequest(e: EntryRequest, outer: FhirRequest, body: Resource | undefined = e.resource): FhirRequest {
  const r = e.entry.request ?? { method: e.method, url: e.path };
  return {
    method: e.method,
    path: e.path,
    query: parseQueryString(e.query),
    body,
    headers: {
      ifMatch: r.ifMatch,
      ifNoneMatch: r.ifNoneMatch,
      ifNoneExist: r.ifNoneExist,
      ifModifiedSince: r.ifModifiedSince,
      prefer: outer.headers.prefer,
      // A PATCH entry carries its JSON Patch in a Binary (R4 http.html#patch); everything else is a FHIR resource.
      contentType: body?.resourceType === 'Binary' && e.method === 'PATCH' ? undefined : 'application/fhir+json',
    },
  };
}
