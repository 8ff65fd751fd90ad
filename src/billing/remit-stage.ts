/**
 * A claim's adjudicated stage from the remittance ClaimResponse that answers it (issue 21 §1; the guide's
 * "Remittances" contract): `denied` when the payer paid nothing and put nothing on the patient; `partially-paid` when
 * it paid, but denied a line or reduced one for a reason that is not its ordinary pricing (ROUTINE_CARC: fee schedule,
 * prior payer, sequestration); else `paid` (a claim whose allowed amount went to the deductible is paid: adjudicated,
 * the patient owes it). Read from the FHIR resource alone, so a remittance keyed in by hand moves a claim the same way.
 */
import type { ClaimResponse, ClaimResponseItemAdjudication } from '@medplum/fhirtypes';
import { ROUTINE_CARC } from './x12/adjustment-codes.js';

export const ADJUDICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/adjudication';
export const ADJUSTMENT_GROUP_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/adjustment-group';
export const REMITTANCE_SOURCE = 'http://stride-fhir.org/fhir/CodeSystem/remittance-source';
export type RemittanceSource = 'x12-835' | 'manual';

export type AdjudicatedStage = 'paid' | 'partially-paid' | 'denied';

const cents = (a: ClaimResponseItemAdjudication) => Math.round((a.amount?.value ?? 0) * 100);
const codeOf = (a: ClaimResponseItemAdjudication, system: string) => a.category.coding?.find((c) => c.system === system)?.code;

/** The remittance source of a ClaimResponse (x12-835 or manual), undefined for an acknowledgment. */
export function remittanceSource(r: ClaimResponse): RemittanceSource | undefined {
  return r.meta?.tag?.find((t) => t.system === REMITTANCE_SOURCE)?.code as RemittanceSource | undefined;
}

export type ItemVerdict = 'paid' | 'denied' | 'underpaid';

/**
 * One adjudicated line: denied when it had a charge and the payer paid nothing and put nothing on the patient (a line
 * of no charge, added by the payer for information, is not a denial); underpaid when a CO/OA/PI reason other than
 * ordinary pricing reduced it; else paid.
 */
export function itemVerdict(adjudication: readonly ClaimResponseItemAdjudication[]): ItemVerdict {
  const total = (system: string, code: string) => adjudication.filter((a) => codeOf(a, system) === code).reduce((s, a) => s + cents(a), 0);
  const reduced = adjudication.some((a) => {
    const group = codeOf(a, ADJUSTMENT_GROUP_SYSTEM);
    return group !== undefined && group !== 'PR' && cents(a) > 0 && !ROUTINE_CARC.has(a.reason?.coding?.[0]?.code ?? '');
  });
  if (total(ADJUDICATION_SYSTEM, 'submitted') > 0 && total(ADJUDICATION_SYSTEM, 'benefit') <= 0 && total(ADJUSTMENT_GROUP_SYSTEM, 'PR') <= 0) return 'denied';
  return reduced ? 'underpaid' : 'paid';
}

/** Claim-level adjustments only reduce (they carry no line charge). */
function claimLevelReduced(adjudication: readonly ClaimResponseItemAdjudication[]): boolean {
  return adjudication.some((a) => {
    const group = codeOf(a, ADJUSTMENT_GROUP_SYSTEM);
    return group !== undefined && group !== 'PR' && cents(a) > 0 && !ROUTINE_CARC.has(a.reason?.coding?.[0]?.code ?? '');
  });
}

export function adjudicatedStage(r: ClaimResponse): AdjudicatedStage {
  const all = [...(r.adjudication ?? []), ...(r.item ?? []).flatMap((i) => i.adjudication), ...(r.addItem ?? []).flatMap((i) => i.adjudication ?? [])];
  const paid = Math.round((r.payment?.amount?.value ?? 0) * 100);
  const patient = all.filter((a) => codeOf(a, ADJUSTMENT_GROUP_SYSTEM) === 'PR').reduce((s, a) => s + cents(a), 0);
  if (paid <= 0 && patient <= 0) return 'denied';
  const problem = claimLevelReduced(r.adjudication ?? []) || [...(r.item ?? []), ...(r.addItem ?? [])].some((i) => itemVerdict(i.adjudication ?? []) !== 'paid');
  return problem ? 'partially-paid' : 'paid';
}
