/** Applies _summary and _elements to what a read or search returns (R4 search.html#summary). */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse } from './types.js';
import { parseSubset, subset } from './subset.js';

export function present(req: FhirRequest, response: FhirResponse): FhirResponse {
  if (req.method !== 'GET' && req.method !== 'HEAD' && !req.path.endsWith('_search')) return response;
  const options = parseSubset(req.query);
  if (!options) return response;
  const resource = response.resource ?? (response.raw ? (JSON.parse(response.raw) as Resource) : undefined);
  if (!resource) return response;
  if (resource.resourceType === 'Bundle' && (resource as Bundle).type === 'searchset') {
    const b = resource as Bundle;
    const entry = options.summary === 'count' ? undefined : b.entry?.map((e) => (e.resource ? { ...e, resource: subset(e.resource, options) } : e));
    return { ...response, raw: undefined, resource: { ...b, entry } };
  }
  if (options.summary === 'count') return response;
  return { ...response, raw: undefined, resource: subset(resource, options) };
}
