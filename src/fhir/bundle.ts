/** Bundle building blocks shared by search, history and transaction responses. */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { StoredResource } from '../repo/repository.js';
import type { RequestContext } from './types.js';
import { holdsDecimalText, markHolding, parseJsonKeepingDecimals } from './json-decimals.js';

export function fullUrl(ctx: RequestContext, type: string, id: string): string {
  return `${ctx.baseUrl}/${type}/${id}`;
}

export function parseStored(stored: StoredResource): Resource {
  return parseJsonKeepingDecimals(stored.json) as Resource;
}

export function link(relation: string, url: string): BundleLink {
  return { relation, url };
}

export function bundle(type: Bundle['type'], entry: BundleEntry[], extra: Partial<Bundle> = {}): Bundle {
  const out: Bundle = { resourceType: 'Bundle', type, ...extra, entry };
  // Entries whose decimals keep their written text: the Bundle is serialised so that they do (json-decimals.ts).
  if (entry.some((e) => e.resource && holdsDecimalText(e.resource))) markHolding(out);
  return out;
}

/** `base/path?query` with the given parameters, for paging links. */
export function pageUrl(ctx: RequestContext, path: string, params: Record<string, string[]>): string {
  const search = new URLSearchParams();
  for (const [name, values] of Object.entries(params)) for (const v of values) search.append(name, v);
  const text = search.toString();
  return `${ctx.baseUrl}${path ? `/${path}` : ''}${text ? `?${text}` : ''}`;
}
