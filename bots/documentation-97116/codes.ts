/** Code systems, codes and extension URLs the documentation rules read (profiles/README.md §2-§6). */
import { TIMED_CODES as BILLING_TIMED_CODES } from '../../src/billing/units.js';

export const SYSTEMS = {
  cpt: 'http://www.ama-assn.org/go/cpt',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  loinc: 'http://loinc.org',
  nucc: 'http://nucc.org/provider-taxonomy',
  icf: 'http://hl7.org/fhir/sid/icf',
  documentType: 'http://stride-fhir.org/fhir/CodeSystem/document-type',
} as const;

const EXT = 'http://stride-fhir.org/fhir/StructureDefinition/';
export const EXTENSIONS = {
  timedMinutes: `${EXT}timed-minutes`,
  assistanceLevel: `${EXT}assistance-level`,
  assistanceType: `${EXT}assistance-type`,
  justification: `${EXT}justification`,
  distinctService: `${EXT}distinct-service`,
} as const;

export { SESSION_ENCOUNTER_PROFILE as ENCOUNTER_PROFILE } from '../../src/billing/codes.js';
export const OUTCOME_PROFILE = 'http://stride-fhir.org/fhir/StructureDefinition/stride-outcome-observation';

export const GAIT_TRAINING = '97116';

/**
 * The timed 15-minute therapy codes (ValueSet timed-therapy-cpt): the services these rules document. One list for
 * documentation and billing: src/billing/units.ts, with its sources.
 */
export const TIMED_CODES: readonly string[] = BILLING_TIMED_CODES;

/** Seed: gait training in the same session as home management (97535), orthotic (97760) or prosthetic (97761) training. */
export const SEED_DISTINCT_PAIRS: readonly string[] = ['97535', '97760', '97761'];

export type Discipline = 'PT' | 'OT' | 'SLP';

/** NUCC taxonomy -> discipline and assistant status (profiles/README.md §3.2). */
export const NUCC: Readonly<Record<string, { discipline: Discipline; assistant: boolean; label: string }>> = {
  '225100000X': { discipline: 'PT', assistant: false, label: 'physical therapist' },
  '225200000X': { discipline: 'PT', assistant: true, label: 'physical therapist assistant' },
  '225X00000X': { discipline: 'OT', assistant: false, label: 'occupational therapist' },
  '224Z00000X': { discipline: 'OT', assistant: true, label: 'occupational therapy assistant' },
  '235Z00000X': { discipline: 'SLP', assistant: false, label: 'speech-language pathologist' },
};

/** Prior level of function (ValueSet prior-level-of-function): LOINC GG0100A self-care, GG0100B indoor mobility. */
export const PRIOR_LEVEL_CODES: readonly string[] = ['85070-1', '85071-9'];

/** Objective outcome measures (ValueSet outcome-measures; DOMAIN §E). */
export const OUTCOME_MEASURE_CODES: readonly string[] = ['89422-0', '89423-8', '62619-2', '64098-7', '83144-6', '83172-7', '66247-8'];

/** ICD-10-CM code shape: letter, two characters, then optionally 1-4 more after a dot (as FHIR writes them: R26.89, Z96.641) or without it. */
export const ICD10CM_PATTERN = '^[A-TV-Z][0-9][0-9AB](\\.?[0-9A-TV-Z]{1,4})?$';

export const SOURCES = {
  mbpm: 'https://www.cms.gov/Regulations-and-Guidance/Guidance/Manuals/Downloads/bp102c15.pdf',
  ncd16012: 'https://www.cms.gov/medicare-coverage-database/view/ncd.aspx?ncdid=175',
  ncci: 'https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits',
} as const;
