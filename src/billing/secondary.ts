/**
 * Secondary claims (issue 21 §2; profiles/README.md §11 "Secondary claims"). When the primary payer's remittance
 * leaves the patient a balance (PR amounts: deductible, coinsurance, copay, non-covered) and the patient has another
 * Coverage next in `order`, what the primary left is billed to that payer: a Claim of its own, with the same services,
 * the primary's adjudication attached (insurance[0].claimResponse, and its amounts in the extension
 * `prior-payer-adjudication`), ready for the next 837P batch (2320/2430 loops: src/billing/x12/other-payer.ts). A
 * remittance whose CLP02 says the primary forwarded the claim itself (19, 20, 21: a Medicare crossover) gives the same
 * Claim, marked `claim-forwarded` so that it is awaited, not sent a second time (which a payer denies as a duplicate,
 * CARC 18). Pure: the write hook (src/claims/secondary.ts) gathers the resources and writes the result.
 *
 * The money of a secondary claim (src/money/postings.ts): the primary's patient responsibility moves to it, so it
 * bills that amount (not its whole charge again) and the primary is left with nothing to collect; the secondary
 * payer's own remittance restates the prior payer's share as OA-23, which is not posted a second time.
 */
import type { Claim, ClaimInsurance, ClaimResponse, Coverage, Extension, Money } from '@medplum/fhirtypes';
import { STRIDE_EXTENSION, SYSTEMS } from './codes.js';
import { controlNumberOf } from './x12/format.js';
import { ADJUSTMENT_GROUP_SYSTEM } from './remit-stage.js';

/** The key of a primary's secondary Claim (Claim.identifier): `<primary billing key>|secondary`. */
export const SECONDARY_KEY = 'http://stride-fhir.org/fhir/sid/secondary-claim-key';
export const PRIOR_PAYER_EXTENSION = `${STRIDE_EXTENSION}prior-payer-adjudication`;
export const FORWARDED_EXTENSION = `${STRIDE_EXTENSION}claim-forwarded`;
/** On a remittance ClaimResponse: the payer's claim status (835 CLP02). */
export const CLAIM_STATUS_EXTENSION = `${STRIDE_EXTENSION}remittance-claim-status`;
const RELATED = 'http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship';

/** CLP02 codes by which the payer says it forwarded the claim to the next payer itself (005010X221A1). */
export const FORWARDED_STATUS = new Set(['19', '20', '21']);

export interface PriorAdjudication {
  /** Cents the prior payer paid, adjusted (CO, OA, PI) and put on the patient (PR). */
  readonly paid: number;
  readonly payerAdjustment: number;
  readonly patientResponsibility: number;
}

const cents = (value: number | undefined) => Math.round((value ?? 0) * 100);
const usd = (c: number): Money => ({ value: c / 100, currency: 'USD' });

export function isSecondaryClaim(claim: Claim): boolean {
  return claim.identifier?.some((i) => i.system === SECONDARY_KEY) ?? false;
}

/** The primary a secondary Claim was built from (Claim.related, relationship associated). */
export function primaryOf(claim: Claim): string | undefined {
  return claim.related?.find((r) => r.relationship?.coding?.some((c) => c.system === RELATED && c.code === 'associated'))?.claim?.reference;
}

export function secondaryKeyOf(primary: Claim): string {
  const key = primary.identifier?.find((i) => i.system === SYSTEMS.billingKey)?.value ?? `Claim/${primary.id}`;
  return `${key}|secondary`;
}

/** The patient control number the secondary goes out with (CLM01); a payer's 835 answers with it (CLP01). */
export function secondaryControlNumber(primary: Claim): string {
  return controlNumberOf(secondaryKeyOf(primary));
}

/** The CLP02 a remittance ClaimResponse recorded (undefined for one keyed in without it). */
export function claimStatusOf(response: ClaimResponse): string | undefined {
  return response.extension?.find((e) => e.url === CLAIM_STATUS_EXTENSION)?.valueCode;
}

/** What a remittance paid, adjusted and put on the patient, in cents (every level: lines, added lines, claim). */
export function priorAdjudicationOf(response: ClaimResponse): PriorAdjudication {
  const all = [...(response.item ?? []).flatMap((i) => i.adjudication ?? []), ...(response.addItem ?? []).flatMap((i) => i.adjudication ?? []), ...(response.adjudication ?? [])];
  let payerAdjustment = 0;
  let patientResponsibility = 0;
  for (const a of all) {
    const group = a.category?.coding?.find((c) => c.system === ADJUSTMENT_GROUP_SYSTEM)?.code;
    if (!group) continue;
    if (group === 'PR') patientResponsibility += cents(a.amount?.value);
    else payerAdjustment += cents(a.amount?.value);
  }
  return { paid: cents(response.payment?.amount?.value), payerAdjustment, patientResponsibility };
}

/** The prior payer's amounts a secondary Claim carries (undefined on any other Claim). */
export function priorAdjudicationOnClaim(claim: Claim): PriorAdjudication | undefined {
  const ext = claim.insurance?.flatMap((i) => i.extension ?? []).find((e) => e.url === PRIOR_PAYER_EXTENSION);
  if (!ext) return undefined;
  const part = (url: string) => cents(ext.extension?.find((x) => x.url === url)?.valueMoney?.value);
  return { paid: part('paid'), payerAdjustment: part('payer-adjustment'), patientResponsibility: part('patient-responsibility') };
}

/** Whether a primary's remittance calls for a secondary claim: it left the patient a balance, or the payer forwarded it. */
export function wantsSecondary(response: ClaimResponse): boolean {
  return priorAdjudicationOf(response).patientResponsibility > 0 || FORWARDED_STATUS.has(claimStatusOf(response) ?? '');
}

/**
 * The patient's Coverage after the primary's: active, not the primary's, in force on the date of service, a payer
 * Organization (self-pay is what the patient owes anyway), the lowest `order` above the primary's.
 */
export function nextCoverage(coverages: readonly Coverage[], primary: Coverage | undefined, date: string): Coverage | undefined {
  const floor = primary?.order ?? 1;
  return coverages
    .filter((c) => c.status === 'active' && c.id !== primary?.id && (c.order ?? Number.MAX_SAFE_INTEGER) > floor)
    .filter((c) => (!c.period?.start || c.period.start.slice(0, 10) <= date) && (!c.period?.end || c.period.end.slice(0, 10) >= date))
    .filter((c) => c.payor?.some((p) => p.reference?.startsWith('Organization/')))
    .sort((a, b) => (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER) || ((a.id ?? '') < (b.id ?? '') ? -1 : 1))[0];
}

export interface SecondaryInput {
  primary: Claim;
  /** The primary payer's remittance (active) that the secondary follows. */
  response: ClaimResponse;
  coverage: Coverage;
  /** The secondary payer's name, for Claim.insurer.display. */
  payerName?: string;
}

/** The secondary Claim (status active; its id, if any, and its cycle extensions are the caller's). */
export function buildSecondaryClaim({ primary, response, coverage, payerName }: SecondaryInput): Claim {
  const prior = priorAdjudicationOf(response);
  const payer = coverage.payor!.find((p) => p.reference?.startsWith('Organization/'))!;
  const primaryInsurance = primary.insurance?.find((i) => i.focal) ?? primary.insurance?.[0];
  const priorExtension: Extension = {
    url: PRIOR_PAYER_EXTENSION,
    extension: [
      { url: 'paid', valueMoney: usd(prior.paid) },
      { url: 'payer-adjustment', valueMoney: usd(prior.payerAdjustment) },
      { url: 'patient-responsibility', valueMoney: usd(prior.patientResponsibility) },
    ],
  };
  const insurance: ClaimInsurance[] = [
    { extension: [priorExtension], sequence: 1, focal: false, coverage: primaryInsurance!.coverage, claimResponse: { reference: `ClaimResponse/${response.id}` } },
    { sequence: 2, focal: true, coverage: { reference: `Coverage/${coverage.id}` } },
  ];
  const key = secondaryKeyOf(primary);
  const forwarded = FORWARDED_STATUS.has(claimStatusOf(response) ?? '');
  const { id: _id, meta: _meta, text: _text, extension, identifier: _identifier, related: _related, ...content } = primary;
  // The primary's own extensions (not its cycle: sendings and stage are the primary's) come along.
  const own = (extension ?? []).filter((e) => !e.url.endsWith('/claim-stage') && !e.url.endsWith('/claim-submission'));
  if (forwarded) own.push({ url: FORWARDED_EXTENSION, valueReference: { reference: `ClaimResponse/${response.id}` } });
  return {
    ...content,
    ...(own.length ? { extension: own } : {}),
    identifier: [{ system: SECONDARY_KEY, value: key }, { system: SYSTEMS.patientControlNumber, value: controlNumberOf(key) }],
    status: 'active',
    created: response.created?.slice(0, 10) ?? primary.created,
    insurer: { reference: payer.reference, ...(payerName ? { display: payerName } : payer.display ? { display: payer.display } : {}) },
    related: [{ claim: { reference: `Claim/${primary.id}` }, relationship: { coding: [{ system: RELATED, code: 'associated', display: 'Associated Claim' }] } }],
    insurance,
  };
}

/** The remittance a forwarded secondary Claim was forwarded by (undefined when it is to be sent). */
export function forwardedBy(claim: Claim): string | undefined {
  return claim.extension?.find((e) => e.url === FORWARDED_EXTENSION)?.valueReference?.reference;
}

/**
 * What the 837P's 2320/2430 loops cannot carry from the prior payer's remittance, as a biller would fix it: lines the
 * payer bundled, split or added (addItem) name no single line of this claim.
 */
export function secondaryProblems(claim: Claim, response: ClaimResponse): string[] {
  const problems: string[] = [];
  // A line the payer added with no money on it (information only) changes nothing the 2430 loops say.
  const added = (response.addItem ?? []).filter((i) => (i.adjudication ?? []).some((a) => cents(a.amount?.value) !== 0));
  if (added.length > 0) problems.push(`the primary payer's remittance ClaimResponse/${response.id} has ${added.length} line(s) that match no single line of the claim (bundled, split or added by the payer): the secondary claim's line adjudication (837P loop 2430) cannot be written from it; key the primary's adjudication per line, then set the secondary Claim active`);
  const sequences = new Set((claim.item ?? []).map((i) => i.sequence));
  const missing = [...sequences].filter((s) => !(response.item ?? []).some((i) => i.itemSequence === s));
  // A remittance with no line at all adjudicated the claim as a whole: 2320 carries it (2430 is for line detail).
  if (missing.length > 0 && (response.item ?? []).length > 0) problems.push(`the primary payer's remittance ClaimResponse/${response.id} says nothing of line(s) ${missing.join(', ')}`);
  return problems;
}
