/**
 * What each resource posts to a claim's ledger, in integer cents (pure). The contract of a remittance
 * (ClaimResponse, issue 21 §1; written by the 835 posting and by a biller keying a paper EOB alike):
 * status active (a reversed one is cancelled and posts nothing), use claim, outcome complete or partial (an
 * acknowledgment, queued or error, carries no money), request = the Claim; payment.amount is what the payer paid;
 * every adjustment, on a line (item.adjudication) or on the claim (adjudication), has a category in the
 * adjustment-group system (CO, OA, PI: the payer's adjustments; PR: the patient's responsibility) and an amount.
 */
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, Coverage, PaymentReconciliation } from '@medplum/fhirtypes';
import { STRIDE_EXTENSION } from '../billing/codes.js';
import { primaryOf, priorAdjudicationOnClaim } from '../billing/secondary.js';

export const ADJUSTMENT_GROUP = 'http://stride-fhir.org/fhir/CodeSystem/adjustment-group';
export const PATIENT_PAYER_EXTENSION = `${STRIDE_EXTENSION}patient-payer`;
/** R4 coverage-selfpay: the Coverage.type of a patient paying for herself (terminology.hl7.org CodeSystem coverage-selfpay). */
export const COVERAGE_SELFPAY = 'http://terminology.hl7.org/CodeSystem/coverage-selfpay';
/** Source of Payment Typology (PHDSC SOPT), code 81: Self-pay. */
const SOPT = 'urn:oid:2.16.840.1.113883.3.221.5';

export const KINDS = ['billed', 'insurance-paid', 'payer-adjustment', 'patient-responsibility', 'patient-payment'] as const;
export type PostingKind = (typeof KINDS)[number];

export interface Posting {
  claimId: string;
  kind: PostingKind;
  /** Cents. */
  amount: number;
}

export function toCents(value: number | undefined): number {
  return Math.round((value ?? 0) * 100);
}

export function fromCents(cents: number): number {
  return cents / 100;
}

/** `Claim/abc` (or an absolute URL ending so) -> `abc`. */
export function idIn(reference: string | undefined, type: string): string | undefined {
  if (!reference) return undefined;
  const m = new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/.*)?$`).exec(reference);
  return m?.[1];
}

/**
 * Whether a claim is self-pay (profiles/README.md, "Patient balances"): the Claim names no insurer, or its focal
 * Coverage is self-pay: type coverage-selfpay#pay or SOPT 81, or a payor that is the patient or a related person.
 */
export function isSelfPay(claim: Claim, coverage: Coverage | undefined): boolean {
  if (!claim.insurer?.reference) return true;
  if (!coverage) return false;
  const codings = coverage.type?.coding ?? [];
  if (codings.some((c) => (c.system === COVERAGE_SELFPAY && c.code === 'pay') || (c.system === SOPT && c.code === '81'))) return true;
  return (coverage.payor ?? []).some((p) => /^(Patient|RelatedPerson)\//.test(p.reference ?? ''));
}

/**
 * An active Claim posts its charge; a self-pay one puts the whole charge on the patient at once. A secondary claim
 * (src/billing/secondary.ts) takes over what the primary payer put on the patient: it bills that amount, and the
 * primary's charge and patient responsibility are reduced by it, so that the primary has nothing left to collect and
 * the claims together bill the charge once.
 */
export function claimPostings(claim: Claim, selfPay: boolean): Posting[] {
  if (claim.status !== 'active' || !claim.id) return [];
  const prior = priorAdjudicationOnClaim(claim);
  const primaryId = idIn(primaryOf(claim), 'Claim');
  if (prior && primaryId) {
    const moved = prior.patientResponsibility;
    return [
      { claimId: claim.id, kind: 'billed', amount: moved },
      { claimId: primaryId, kind: 'billed', amount: -moved },
      { claimId: primaryId, kind: 'patient-responsibility', amount: -moved },
    ];
  }
  const billed = toCents(claim.total?.value);
  const out: Posting[] = [{ claimId: claim.id, kind: 'billed', amount: billed }];
  if (selfPay) out.push({ claimId: claim.id, kind: 'patient-responsibility', amount: billed });
  return out;
}

/** Whether a ClaimResponse is an adjudication that counts (not an acknowledgment, not reversed). */
export function isRemittance(r: ClaimResponse): boolean {
  return r.status === 'active' && r.use === 'claim' && (r.outcome === 'complete' || r.outcome === 'partial');
}

export function groupOf(a: ClaimResponseItemAdjudication): string | undefined {
  return a.category?.coding?.find((c) => c.system === ADJUSTMENT_GROUP)?.code;
}

/**
 * Every adjustment of a remittance with its group: its lines' (item, and addItem: the 835 lines the payer bundled,
 * split or added, which matched no single item; profiles/README.md §11) and its own. Together they are CLP03 - CLP04.
 */
export function adjustmentsOf(r: ClaimResponse): ClaimResponseItemAdjudication[] {
  return [...(r.item ?? []).flatMap((i) => i.adjudication ?? []), ...(r.addItem ?? []).flatMap((i) => i.adjudication ?? []), ...(r.adjudication ?? [])].filter((a) => groupOf(a) !== undefined);
}

export function remittancePostings(r: ClaimResponse): Posting[] {
  const claimId = idIn(r.request?.reference, 'Claim');
  if (!claimId || !isRemittance(r)) return [];
  let payer = 0;
  let patient = 0;
  for (const a of adjustmentsOf(r)) {
    // CARC 23, "the impact of prior payer(s) adjudication including payments and/or adjustments" (X12 Claim
    // Adjustment Reason Codes; used with group OA), restates what the prior payer paid and adjusted: that is posted
    // on the primary claim, never a second time as this payer's adjustment.
    if (a.reason?.coding?.some((c) => c.code === '23')) continue;
    const cents = toCents(a.amount?.value);
    if (groupOf(a) === 'PR') patient += cents;
    else payer += cents;
  }
  return [
    { claimId, kind: 'insurance-paid', amount: toCents(r.payment?.amount?.value) },
    { claimId, kind: 'payer-adjustment', amount: payer },
    { claimId, kind: 'patient-responsibility', amount: patient },
  ];
}

export function isPatientPayment(p: PaymentReconciliation): boolean {
  return (p.extension ?? []).some((e) => e.url === PATIENT_PAYER_EXTENSION);
}

export function patientOf(p: PaymentReconciliation): string | undefined {
  return p.extension?.find((e) => e.url === PATIENT_PAYER_EXTENSION)?.valueReference?.reference;
}
