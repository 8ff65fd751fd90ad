/**
 * Code systems and displays the billing code writes into Claims and ChargeItems. Systems and displays are those of
 * the Stride guide (profiles/README.md §6 and the ValueSet-*.json files), so generated resources match the examples.
 */
import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import type { Discipline } from './types.js';

export const SYSTEMS = {
  cpt: 'http://www.ama-assn.org/go/cpt',
  hcpcs: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  nucc: 'http://nucc.org/provider-taxonomy',
  npi: 'http://hl7.org/fhir/sid/us-npi',
  ein: 'urn:oid:2.16.840.1.113883.4.4',
  sopt: 'urn:oid:2.16.840.1.113883.3.221.5',
  pos: 'https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set',
  payerId: 'http://stride-fhir.org/fhir/sid/payer-id',
  claimType: 'http://terminology.hl7.org/CodeSystem/claim-type',
  careTeamRole: 'http://terminology.hl7.org/CodeSystem/claimcareteamrole',
  processPriority: 'http://terminology.hl7.org/CodeSystem/processpriority',
  /** Stride's deterministic key for generated Claims and ChargeItems (patient, date, coverage, provider [+ line]). */
  billingKey: 'http://stride-fhir.org/fhir/sid/billing-key',
  /** The patient control number Stride sends as CLM01 (837P), by which acknowledgments and remittances name a claim. */
  patientControlNumber: 'http://stride-fhir.org/fhir/sid/patient-control-number',
} as const;

export const STRIDE_EXTENSION = 'http://stride-fhir.org/fhir/StructureDefinition/';
export const EXTENSIONS = {
  timedMinutes: `${STRIDE_EXTENSION}timed-minutes`,
  performerMinutes: `${STRIDE_EXTENSION}performer-minutes`,
  distinctService: `${STRIDE_EXTENSION}distinct-service`,
  justification: `${STRIDE_EXTENSION}justification`,
} as const;

export const THERAPY_CLAIM_PROFILE = 'http://stride-fhir.org/fhir/StructureDefinition/stride-therapy-claim';
/** The guide's therapy session Encounter: the sessions the bots check and bill. */
export const SESSION_ENCOUNTER_PROFILE = 'http://stride-fhir.org/fhir/StructureDefinition/stride-therapy-encounter';

/** NUCC taxonomy -> discipline and assistant status (guide §3.2). */
export const NUCC_TAXONOMY: Readonly<Record<string, { discipline: Discipline; assistant: boolean; display: string }>> = {
  '225100000X': { discipline: 'PT', assistant: false, display: 'Physical Therapist' },
  '225200000X': { discipline: 'PT', assistant: true, display: 'Physical Therapy Assistant' },
  '225X00000X': { discipline: 'OT', assistant: false, display: 'Occupational Therapist' },
  '224Z00000X': { discipline: 'OT', assistant: true, display: 'Occupational Therapy Assistant' },
  '235Z00000X': { discipline: 'SLP', assistant: false, display: 'Speech-Language Pathologist' },
};

/** Modifier code -> system and display (profiles/ValueSet-therapy-modifiers.json). 59 is CPT, the rest HCPCS. */
export const MODIFIER_CODES: Readonly<Record<string, { system: string; display: string }>> = {
  GP: { system: SYSTEMS.hcpcs, display: 'Services delivered under an outpatient physical therapy plan of care' },
  GO: { system: SYSTEMS.hcpcs, display: 'Services delivered under an outpatient occupational therapy plan of care' },
  GN: { system: SYSTEMS.hcpcs, display: 'Services delivered under an outpatient speech-language pathology plan of care' },
  CQ: { system: SYSTEMS.hcpcs, display: 'Outpatient physical therapy services furnished in whole or in part by a physical therapist assistant' },
  CO: { system: SYSTEMS.hcpcs, display: 'Outpatient occupational therapy services furnished in whole or in part by an occupational therapy assistant' },
  KX: { system: SYSTEMS.hcpcs, display: 'Requirements specified in the medical policy have been met' },
  XE: { system: SYSTEMS.hcpcs, display: 'Separate encounter' },
  XS: { system: SYSTEMS.hcpcs, display: 'Separate structure/organ' },
  XP: { system: SYSTEMS.hcpcs, display: 'Separate practitioner' },
  XU: { system: SYSTEMS.hcpcs, display: 'Unusual non-overlapping service' },
  '59': { system: SYSTEMS.cpt, display: 'Distinct procedural service' },
};

/** CMS place-of-service codes of profiles/ValueSet-place-of-service.json. */
export const PLACE_OF_SERVICE: Readonly<Record<string, string>> = {
  '02': "Telehealth Provided Other than in Patient's Home",
  '10': "Telehealth Provided in Patient's Home",
  '11': 'Office',
  '12': 'Home',
  '13': 'Assisted Living Facility',
  '19': 'Off Campus-Outpatient Hospital',
  '22': 'On Campus-Outpatient Hospital',
  '31': 'Skilled Nursing Facility',
  '32': 'Nursing Facility',
  '49': 'Independent Clinic',
  '62': 'Comprehensive Outpatient Rehabilitation Facility',
  '99': 'Other Place of Service',
};

export function modifierConcept(code: string): CodeableConcept {
  const known = MODIFIER_CODES[code];
  return { coding: [known ? { system: known.system, code, display: known.display } : { system: SYSTEMS.hcpcs, code }] };
}

export function placeOfServiceConcept(code: string): CodeableConcept {
  const display = PLACE_OF_SERVICE[code];
  return { coding: [display ? { system: SYSTEMS.pos, code, display } : { system: SYSTEMS.pos, code }] };
}

export function taxonomyCoding(code: string): Coding {
  const known = NUCC_TAXONOMY[code];
  return known ? { system: SYSTEMS.nucc, code, display: known.display } : { system: SYSTEMS.nucc, code };
}

/** The first coding of a concept in one of the given systems. */
export function codingIn(concept: CodeableConcept | undefined, ...systems: string[]): Coding | undefined {
  return concept?.coding?.find((c) => c.system !== undefined && systems.includes(c.system) && c.code !== undefined);
}
