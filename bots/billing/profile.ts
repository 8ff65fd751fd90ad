/** The Stride guide's session Encounter profile: only Encounters that claim it are billed (profiles/README.md §2). */
export const ENCOUNTER_PROFILE = 'http://stride-fhir.org/fhir/StructureDefinition/stride-therapy-encounter';
