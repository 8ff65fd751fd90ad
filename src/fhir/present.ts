/**
 * Applies _summary and _elements to what a read, search or history returns (R4 search.html#summary,
 * search.html#elements, http.html#history: "_summary and _elements apply to the resources in the Bundle").
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse } from './types.js';
import { parseSubset, subset, type SubsetOptions } from './subset.js';
import { parseJsonKeepingDecimals } from './json-decimals.js';

export function present(req: FhirRequest, response: FhirResponse): FhirResponse {
  if (req.method !== 'GET' && req.method !== 'HEAD' && !req.path.endsWith('_search')) return response;
  const options = parseSubset(req.query);
  if (!options) return response;
  // A Bundle the server built for this request (no stored JSON) is subsetted entry by entry; a stored Bundle that
  // is read is a resource like any other.
  if (response.raw === undefined && isResultBundle(response.resource)) {
    return { ...response, resource: subsetEntries(response.resource, options) };
  }
  const resource = response.resource ?? (response.raw ? (parseJsonKeepingDecimals(response.raw) as Resource) : undefined);
  if (!resource || options.summary === 'count') return response;
  return { ...response, raw: undefined, resource: subset(resource, options) };
}

function isResultBundle(resource: Resource | undefined): resource is Bundle {
  return resource?.resourceType === 'Bundle' && (resource.type === 'searchset' || resource.type === 'history');
}

/** _summary=count keeps the total and the links only; otherwise each entry's resource is reduced (not outcomes). */
function subsetEntries(b: Bundle, options: SubsetOptions): Bundle {
  if (options.summary === 'count') {
    const { entry: _dropped, ...rest } = b;
    return rest;
  }
  const entry = b.entry?.map((e) => (e.resource && e.search?.mode !== 'outcome' ? { ...e, resource: subset(e.resource, options) } : e));
  return { ...b, entry };
}
