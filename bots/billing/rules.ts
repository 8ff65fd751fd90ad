/**
 * The billing bot's rules, as `$bots` lists them and DetectedIssues name them. The checks themselves are the pure
 * functions of src/billing (units, modifiers, claim, scrubber); this list gives each finding id its severity,
 * subject, source and fix. `billing-*` findings are about the session (Encounter), `scrub-*` about a Claim.
 */
import type { BotRule } from '../../src/bots/index.js';

const DOMAIN = 'https://stride-fhir.org/docs/DOMAIN-97116';
const PUB_100_04 = 'https://www.cms.gov/Regulations-and-Guidance/Guidance/Manuals/Downloads/clm104c05.pdf';
const X12 = 'https://x12.org/products/transaction-sets';

type Spec = [id: string, severity: BotRule['severity'], title: string, element: string, source: string, reference: string, fix: string];

const SESSION: Spec[] = [
  ['billing-session-not-finished', 'error', 'The session is billed once its Encounter is finished', 'Encounter.status', 'issue 7 §1', DOMAIN, 'Finish the session (Encounter.status = finished) when its documentation is complete.'],
  ['billing-no-patient', 'error', 'The session names its patient', 'Encounter.subject', 'Stride guide §2', DOMAIN, 'Set Encounter.subject to the Patient.'],
  ['billing-no-coverage', 'error', 'The patient has a Coverage active on the date of service', 'Encounter.subject', 'Stride guide §3.4', DOMAIN, 'Add the Coverage (payer, member id, period) for the date of service.'],
  ['billing-no-billing-provider', 'error', 'The session names the billing organisation', 'Encounter.serviceProvider', 'Stride guide §2; 837P loop 2010AA', X12, 'Set Encounter.serviceProvider to the clinic Organization with its NPI.'],
  ['billing-procedure-no-cpt', 'error', 'Every completed procedure has a CPT or HCPCS code', 'Procedure.code', 'DOMAIN-97116 §D', DOMAIN, 'Code the procedure with its CPT code.'],
  ['billing-procedure-no-date', 'error', 'Every procedure has a date of service', 'Procedure.performedPeriod.start', 'DOMAIN-97116 §D', DOMAIN, 'Record performedPeriod.start (or the Encounter period).'],
  ['billing-code-unknown', 'error', 'The code is a known timed or untimed therapy code', 'Procedure.code', 'DOMAIN-97116 §A', DOMAIN, 'Use a therapy CPT code the fee schedule knows, or bill the service by hand.'],
  ['billing-discipline-unknown', 'error', 'Each performer has a discipline (PT, OT or SLP)', 'Procedure.performer.function', 'Stride guide §3.2; DOMAIN-97116 §B', DOMAIN, 'Give performer.function (NUCC taxonomy) or a PractitionerRole with a therapy code.'],
  ['billing-minutes-unknown', 'error', 'Each timed service states its minutes, more than zero (the claim is held, never billed without it)', 'Procedure.performedPeriod', 'Stride guide §3.1; MBPM ch. 15 §220.3.E', DOMAIN, 'Record the timed-minutes extension (whole minutes above 0) or performedPeriod start and end, the end after the start.'],
  ['billing-no-units', 'warning', 'The documented minutes of the date earn at least one unit', 'Procedure.extension', 'Pub 100-04 ch. 5 §20.2', PUB_100_04, 'Check the minutes: under 8 minutes of a discipline\'s timed treatment on a date of service earn no unit.'],
  ['billing-date-of-service-units', 'warning', 'A visit\'s units are counted with the other visits of its date of service and discipline', 'Procedure.extension', 'Pub 100-04 ch. 5 §20.2; DOMAIN-97116 §A (the day, not the visit)', PUB_100_04, 'Nothing to fix: the finding says how the date\'s minutes were counted. Check that every visit of the date is recorded, and its minutes.'],
  ['billing-session-cap', 'error', 'Units of 97116 above the policy\'s cap (per discipline and date of service) are justified', 'Procedure.extension', 'DOMAIN-97116 §A; payer policy', DOMAIN, 'Add the justification extension saying why more units were medically necessary, or correct the minutes.'],
  ['billing-ptp-not-separately-payable', 'error', 'A column-2 code of an NCCI PTP pair is billed only with distinct-service documentation', 'Procedure.extension', 'DOMAIN-97116 §B; NCCI PTP edits', DOMAIN, 'Document the distinct-service extension when the services were separate, or drop the line.'],
  ['billing-kx-year-unknown', 'warning', 'The KX threshold of the year of service is known', 'Claim.item.modifier', 'SSA §1833(g); BBA 2018 §50202', DOMAIN, 'Check the patient\'s therapy amounts for the year by hand and add KX if it applies.'],
  ['billing-nothing-to-bill', 'warning', 'A finished session has a service to bill', 'Procedure', 'issue 7 §1', DOMAIN, 'Record the session\'s services as completed Procedures with their CPT code and minutes, or leave the session unbilled.'],
  ['billing-no-rendering-provider', 'error', 'A therapist performed or supervised the session', 'Procedure.performer', 'Stride guide decision 7; 837P loop 2310B', X12, 'Record the performing therapist in Procedure.performer (or the supervising therapist in Encounter.participant).'],
  ['billing-no-diagnosis', 'error', 'The session has an ICD-10-CM diagnosis for the claim', 'Encounter.diagnosis', 'DOMAIN-97116 §C.2, §D; 837P HI segment', X12, 'Code the Encounter\'s diagnoses (or the procedures\' reasonReference Conditions) in ICD-10-CM.'],
  ['billing-diagnosis-not-icd10', 'warning', 'Every diagnosis of the session is coded in ICD-10-CM', 'Condition.code', 'DOMAIN-97116 §D; 837P HI segment', X12, 'Add the ICD-10-CM code to the Condition; until then it is left off the claim.'],
  ['billing-other', 'error', 'Another billing problem', 'Encounter', 'src/billing', DOMAIN, 'Read the finding\'s detail.'],
];

const CLAIM: Spec[] = [
  ['scrub-billing-npi', 'error', 'The billing provider has a valid NPI', 'Claim.provider', 'DOMAIN-97116 §D', DOMAIN, 'Record the organisation\'s 10-digit NPI (Luhn check with prefix 80840).'],
  ['scrub-billing-provider', 'error', 'The billing provider has a name, address and tax id', 'Claim.provider', 'DOMAIN-97116 §D; 837P loop 2010AA', X12, 'Complete the billing Organization: name, address, EIN.'],
  ['scrub-payer', 'error', 'The focal Coverage names a payer with a name and payer id', 'Claim.insurance.coverage', 'DOMAIN-97116 §D', DOMAIN, 'Complete Coverage.payor with the payer Organization and its payer id.'],
  ['scrub-member-id', 'error', 'The Coverage has a member id', 'Claim.insurance.coverage', 'DOMAIN-97116 §D', DOMAIN, 'Record Coverage.subscriberId.'],
  ['scrub-patient-demographics', 'error', 'The patient has name, birth date, gender and address', 'Claim.patient', 'DOMAIN-97116 §D; 837P loop 2010BA', X12, 'Complete the Patient record.'],
  ['scrub-icd10', 'error', 'Diagnoses are 1 to 12 well-formed ICD-10-CM codes', 'Claim.diagnosis', 'DOMAIN-97116 §D', DOMAIN, 'Code the diagnoses in ICD-10-CM.'],
  ['scrub-cpt', 'error', 'Every line has a CPT or HCPCS code (1 to 50 lines)', 'Claim.item.productOrService', 'DOMAIN-97116 §D', DOMAIN, 'Code every line.'],
  ['scrub-modifiers', 'error', 'Modifiers are valid for the line', 'Claim.item.modifier', 'DOMAIN-97116 §B, §D', DOMAIN, 'Correct the modifiers (discipline, CQ/CO, 59 or X, KX; never 59 with an X modifier).'],
  ['scrub-units', 'error', 'Units are whole, above 0 and supported by the session\'s minutes', 'Claim.item.quantity', 'DOMAIN-97116 §A, §D', DOMAIN, 'Bill the units the documented minutes support.'],
  ['scrub-charge', 'error', 'Each charge is units x fee and the total is their sum', 'Claim.item.net', 'DOMAIN-97116 §D', DOMAIN, 'Recompute the charges from the fee schedule.'],
  ['scrub-diagnosis-pointer', 'error', 'Each line points at 1 to 4 of the claim\'s diagnoses', 'Claim.item.diagnosisSequence', 'DOMAIN-97116 §D; 837P SV107', X12, 'Point each line at the diagnoses it treats.'],
  ['scrub-place-of-service', 'error', 'Each line has a valid CMS place of service', 'Claim.item.locationCodeableConcept', 'DOMAIN-97116 §D', DOMAIN, 'Give the CMS place-of-service code.'],
  ['scrub-service-date', 'error', 'Each line has a service date', 'Claim.item.servicedDate', 'DOMAIN-97116 §D', DOMAIN, 'Give servicedDate.'],
  ['scrub-rendering-provider', 'error', 'The rendering provider is a Practitioner with a valid NPI', 'Claim.careTeam', 'DOMAIN-97116 §D; 837P loop 2310B', X12, 'Name the treating therapist (careTeam role primary) with an NPI.'],
  ['scrub-open-documentation-findings', 'error', 'The session has no open documentation finding that blocks billing', 'Claim.item.encounter', 'DOMAIN-97116 §C, §D', DOMAIN, 'Fix the documentation findings of the session (its DetectedIssues).'],
  ['scrub-other', 'error', 'Another claim problem', 'Claim', 'src/billing', DOMAIN, 'Read the finding\'s detail.'],
];

const toRule = (subject: string) => ([id, severity, title, element, source, reference, fix]: Spec): BotRule => ({ id, severity, subject, title, element, source, reference, fix });

export const RULES: readonly BotRule[] = [...SESSION.map(toRule('Encounter')), ...CLAIM.map(toRule('Claim'))];

const KNOWN = new Set(RULES.map((r) => r.id));

/** The rule a billing finding id is reported under: itself when listed, else the catch-all of its kind. */
export function ruleFor(findingId: string): string {
  if (KNOWN.has(findingId)) return findingId;
  return findingId.startsWith('scrub-') ? 'scrub-other' : 'billing-other';
}
