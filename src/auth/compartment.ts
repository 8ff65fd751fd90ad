/**
 * Whether a resource is in a patient's compartment (R4 compartmentdefinition-patient: the reference parameters that
 * place each type in it), read from the resource itself with the search indexer, so that it holds inside a transaction
 * before its index rows are written.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { compartmentParams } from '../search/compartment.js';

export function inPatientCompartment(repo: Repository, resource: Resource, patient: string): boolean {
  if (resource.resourceType === 'Patient') return resource.id === patient;
  const params = compartmentParams('Patient', resource.resourceType) ?? [];
  if (params.length === 0 || !repo.deps.indexer) return false;
  const rows = repo.deps.indexer.extract(resource).rows.get('reference') ?? [];
  return rows.some(([param, type, id]) => type === 'Patient' && id === patient && params.includes(param as string));
}

/** The stored resource's current version is in the compartment; false when there is no such resource. */
export async function storedInPatientCompartment(repo: Repository, type: string, id: string, patient: string): Promise<boolean> {
  if (type === 'Patient') return id === patient;
  const stored = await repo.readCurrent(type, id);
  if (!stored || stored.json === '') return false;
  return inPatientCompartment(repo, JSON.parse(stored.json) as Resource, patient);
}
