/**
 * search: GET [type]?..., POST [type]/_search, GET [base]?_type=A,B, GET [compartment]/[id]/[type]
 * (R4 search.html, http.html#search). The searcher does the work; this builds the searchset Bundle.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { BundleEntry, BundleLink } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, FhirResponse, RequestContext } from './types.js';
import { bundle, fullUrl, link, pageUrl } from './bundle.js';
import { integerParam, mergeQueries, newQuery, parseQueryString, single, withoutParams } from './query.js';
import { badRequest, notFound } from './outcomes.js';
import { parsePrefer } from './prefer.js';
import { toStored } from '../repo/repository.js';
import type { ResourceRow } from '../storage/store.js';
import { loadDefinitions } from '../validation/definitions.js';
import { COMPARTMENT_TYPES } from '../search/compartment.js';
import type { SearchQuery, SearchResult, TotalMode } from '../search/types.js';
import { searchAccess } from '../auth/search-access.js';
import { parseJsonKeepingDecimals } from './json-decimals.js';

type Scope = Pick<SearchQuery, 'resourceType' | 'types' | 'compartment'>;

export const typeSearch: FhirHandler = (req, ctx, { type }) => search(req, ctx, { resourceType: type }, type, req.query);

/** POST [type]/_search: parameters in a form-encoded body, and/or in the URL. */
export const typeSearchPost: FhirHandler = (req, ctx, { type }) => {
  const form = typeof req.body === 'string' ? parseQueryString(req.body) : newQuery();
  return search(req, ctx, { resourceType: type }, type, mergeQueries(req.query, form));
};

export const systemSearch: FhirHandler = (req, ctx) => {
  const types = (req.query._type ?? []).flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  if (types.length === 0) throw new OperationOutcomeError(badRequest('A search across all types needs _type, e.g. ?_type=Patient,Practitioner', '_type'));
  const known = loadDefinitions().resourceTypeSet;
  const unknown = types.filter((t) => !known.has(t));
  if (unknown.length) throw new OperationOutcomeError(badRequest(`Unknown resource type in _type: ${unknown.join(', ')}`, '_type'));
  return search(req, ctx, { resourceType: types[0], types: [...new Set(types)] }, '', req.query);
};

/** GET Patient/1/Procedure: the search restricted to one patient's compartment (R4 search.html#compartment). */
export const compartmentSearch: FhirHandler = (req, ctx, { compartmentType, id, type }) => {
  if (!COMPARTMENT_TYPES.includes(compartmentType)) {
    throw new OperationOutcomeError(notFound(`No ${compartmentType} compartment here: Stride serves the Patient compartment (Patient/[id]/[type])`));
  }
  return search(req, ctx, { resourceType: type, compartment: { type: compartmentType, id } }, `${compartmentType}/${id}/${type}`, req.query);
};

function totalParam(params: Record<string, string[]>): TotalMode {
  const value = single(params, '_total') ?? 'accurate';
  if (value !== 'none' && value !== 'estimate' && value !== 'accurate') {
    throw new OperationOutcomeError(badRequest(`_total must be none, estimate or accurate; got "${value}"`, '_total'));
  }
  return value;
}

async function search(req: FhirRequest, ctx: RequestContext, scope: Scope, path: string, params: Record<string, string[]>): Promise<FhirResponse> {
  const countOnly = single(params, '_summary') === 'count';
  const count = countOnly ? 0 : integerParam(params, '_count', ctx.config.defaultCount, 0, ctx.config.maxCount);
  const offset = integerParam(params, '_offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const total = countOnly ? 'accurate' : totalParam(params);
  const strict = parsePrefer(req.headers.prefer).handling === 'strict';
  const access = ctx.access ? searchAccess(ctx.access) : undefined;
  const result = await ctx.repo.search({ ...scope, params, count, offset, total, strict, baseUrl: ctx.baseUrl, access });
  const entry: BundleEntry[] = [...result.rows.map((row) => toEntry(ctx, row, 'match')), ...(result.included ?? []).map((row) => toEntry(ctx, row, 'include'))];
  if (result.issues?.length) entry.push({ resource: { resourceType: 'OperationOutcome', issue: result.issues }, search: { mode: 'outcome' } });
  return { status: 200, resource: bundle('searchset', entry, { ...(result.total !== undefined ? { total: result.total } : {}), link: links(ctx, path, params, result) }) };
}

function toEntry(ctx: RequestContext, row: ResourceRow, mode: 'match' | 'include'): BundleEntry {
  const stored = toStored(row);
  return { fullUrl: fullUrl(ctx, stored.resourceType, stored.id), resource: parseJsonKeepingDecimals(stored.json) as BundleEntry['resource'], search: { mode } };
}

/** self is the request as made; next and previous replace its paging parameters (R4 http.html#paging). */
function links(ctx: RequestContext, path: string, params: Record<string, string[]>, result: SearchResult): BundleLink[] {
  const rest = withoutParams(params, ['_cursor', '_offset']);
  const out = [link('self', pageUrl(ctx, path, params))];
  if (result.next) out.push(link('next', pageUrl(ctx, path, Object.assign(newQuery(), rest, result.next))));
  if (result.previous) out.push(link('previous', pageUrl(ctx, path, Object.assign(newQuery(), rest, result.previous))));
  return out;
}
