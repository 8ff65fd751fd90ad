/** Bundle building blocks shared by search, history and transaction responses. */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { StoredResource } from '../repo/repository.js';
import type { RequestContext } from './types.js';

export function fullUrl(ctx: RequestContext, type: string, id: string): string {
  return `${ctx.baseUrl}/${type}/${id}`;
}

export function parseStored(stored: StoredResource): Resource {
  return JSON.parse(stored.json) as Resource;
}

export function link(relation: string, url: string): BundleLink {
  return { relation, url };
}

export function bundle(type: Bundle['type'], entry: BundleEntry[], extra: Partial<Bundle> = {}): Bundle {
  return { resourceType: 'Bundle', type, ...extra, entry };
}

/** `base/path?query` with the given parameters, for paging links. */
export function pageUrl(ctx: RequestContext, path: string, params: Record<string, string[]>): string {
  const search = new URLSearchParams();
  for (const [name, values] of Object.entries(params)) for (const v of values) search.append(name, v);
  const text = search.toString();
  return `${ctx.baseUrl}${path ? `/${path}` : ''}${text ? `?${text}` : ''}`;
}
