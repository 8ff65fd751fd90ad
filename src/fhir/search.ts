/** search: GET [type]?..., POST [type]/_search, GET ?_type=A,B (R4 search.html). */
import { OperationOutcomeError } from '@medplum/core';
import type { BundleEntry } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, RequestContext } from './types.js';
import { bundle, fullUrl, link, pageUrl } from './bundle.js';
import { FORMAT_PARAMETERS, integerParam, parseQueryString } from './query.js';
import { badRequest } from './outcomes.js';
import { toStored } from '../repo/repository.js';
import { loadDefinitions } from '../validation/definitions.js';

export const typeSearch: FhirHandler = (req, ctx, { type }) => search(req, ctx, [type], type, req.query);

/** POST [type]/_search: parameters in a form-encoded body, and/or in the URL. */
export const typeSearchPost: FhirHandler = (req, ctx, { type }) => {
  const form = typeof req.body === 'string' ? parseQueryString(req.body) : {};
  const params = { ...req.query };
  for (const [name, values] of Object.entries(form)) params[name] = [...(params[name] ?? []), ...values];
  return search(req, ctx, [type], type, params);
};

export const systemSearch: FhirHandler = (req, ctx) => {
  const types = (req.query._type ?? []).flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  if (types.length === 0) throw new OperationOutcomeError(badRequest('A search across all types needs _type, e.g. ?_type=Patient,Practitioner', '_type'));
  const known = loadDefinitions().resourceTypeSet;
  const unknown = types.filter((t) => !known.has(t));
  if (unknown.length) throw new OperationOutcomeError(badRequest(`Unknown resource type in _type: ${unknown.join(', ')}`, '_type'));
  const { _type, ...params } = req.query;
  return search(req, ctx, types, '', params, _type);
};

async function search(req: FhirRequest, ctx: RequestContext, types: string[], path: string, params: Record<string, string[]>, typeParam?: string[]) {
  const count = integerParam(params, '_count', ctx.config.defaultCount, 0, ctx.config.maxCount);
  const offset = integerParam(params, '_offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const filters: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(params)) if (!FORMAT_PARAMETERS.has(name) && name !== '_count' && name !== '_offset') filters[name] = values;
  const entries: BundleEntry[] = [];
  let total = 0;
  for (const resourceType of types) {
    const result = await ctx.repo.search({ resourceType, params: filters, count: count + offset, offset: 0, total: 'accurate' });
    total += result.total ?? 0;
    for (const row of result.rows) {
      const stored = toStored(row);
      entries.push({ fullUrl: fullUrl(ctx, stored.resourceType, stored.id), resource: JSON.parse(stored.json), search: { mode: 'match' } });
    }
  }
  const page = entries.slice(offset, offset + count);
  const linkParams = { ...filters, ...(typeParam ? { _type: typeParam } : {}), _count: [String(count)] };
  const links = [link('self', pageUrl(ctx, path, { ...linkParams, _offset: [String(offset)] }))];
  if (offset + count < total) links.push(link('next', pageUrl(ctx, path, { ...linkParams, _offset: [String(offset + count)] })));
  if (offset > 0) links.push(link('previous', pageUrl(ctx, path, { ...linkParams, _offset: [String(Math.max(0, offset - count))] })));
  return { status: 200, resource: bundle('searchset', page, { total, link: links }) };
}
