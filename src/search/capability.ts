/** The search parameters a type really supports, for the CapabilityStatement (R4 capabilitystatement.html). */
import type { CapabilityStatementRestResourceSearchParam } from '@medplum/fhirtypes';
import { paramsOf } from './params/registry.js';

export function supportedSearchParams(resourceType: string): CapabilityStatementRestResourceSearchParam[] {
  return [...paramsOf(resourceType).values()]
    .map((def) => ({
      name: def.code,
      definition: def.url,
      type: def.type as CapabilityStatementRestResourceSearchParam['type'],
      documentation: def.description,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
