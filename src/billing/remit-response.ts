/**
 * An 835 claim payment (CLP and its lines) as a ClaimResponse, in the shape of the guide's remittance contract
 * (profiles/README.md "Remittances"): totals submitted/benefit, payment, per Claim item the adjudications submitted,
 * eligible, benefit, deductible, copay and every CAS adjustment (group as the category, CARC as the reason), claim-level
 * CAS at the top level, RARCs as process notes. Pure; amounts in cents inside, FHIR Money at the edge.
 */
import type { Claim, ClaimResponse, ClaimResponseAddItem, ClaimResponseItemAdjudication, ClaimResponseProcessNote, Money, Organization, Reference } from '@medplum/fhirtypes';
import { CARC_SYSTEM, ROUTINE_CARC, carcText, rarcText } from './x12/adjustment-codes.js';
import { CLAIM_STATUS, type Adjustment, type RemitClaim, type RemitLine } from './x12/remittance.js';
import { PAYER_CLAIM_NUMBER } from './stage.js';
import { CLAIM_STATUS_EXTENSION } from './secondary.js';
import type { LineMatch } from './remit-match.js';

import { ADJUDICATION_SYSTEM, ADJUSTMENT_GROUP_SYSTEM, REMITTANCE_SOURCE, type RemittanceSource } from './remit-stage.js';

/** Adjudication category -> cents, plus the adjustments; summed over the lines that pay one item (split lines). */
interface Amounts {
  submitted: number;
  eligible: number;
  benefit: number;
  deductible: number;
  copay: number;
  adjustments: Map<string, { group: string; reason: string; amount: number }>;
}

export const money = (cents: number): Money => ({ value: cents / 100, currency: 'USD' });

function category(code: string): ClaimResponseItemAdjudication['category'] {
  return { coding: [{ system: ADJUDICATION_SYSTEM, code }] };
}

function emptyAmounts(): Amounts {
  return { submitted: 0, eligible: 0, benefit: 0, deductible: 0, copay: 0, adjustments: new Map() };
}

function sum(adjustments: readonly Adjustment[], test: (a: Adjustment) => boolean): number {
  return adjustments.filter(test).reduce((s, a) => s + a.amount, 0);
}

function addLine(into: Amounts, line: RemitLine): void {
  const patient = sum(line.adjustments, (a) => a.group === 'PR');
  into.submitted += line.charge;
  into.benefit += line.paid;
  into.eligible += line.allowed ?? line.paid + patient;
  into.deductible += sum(line.adjustments, (a) => a.group === 'PR' && a.reason === '1');
  into.copay += sum(line.adjustments, (a) => a.group === 'PR' && a.reason === '3');
  addAdjustments(into.adjustments, line.adjustments);
}

function addAdjustments(into: Amounts['adjustments'], adjustments: readonly Adjustment[]): void {
  for (const a of adjustments) {
    const key = `${a.group}|${a.reason}`;
    const known = into.get(key);
    into.set(key, { group: a.group, reason: a.reason, amount: (known?.amount ?? 0) + a.amount });
  }
}

/** An adjustment's adjudication: the group as category, the CARC as reason. */
export function adjustmentAdjudication(a: { group: string; reason: string; amount: number }): ClaimResponseItemAdjudication {
  return { category: { coding: [{ system: ADJUSTMENT_GROUP_SYSTEM, code: a.group }] }, reason: { coding: [{ system: CARC_SYSTEM, code: a.reason, display: carcText(a.reason).slice(0, 250) }] }, amount: money(a.amount) };
}

function adjudications(a: Amounts): ClaimResponseItemAdjudication[] {
  const out: ClaimResponseItemAdjudication[] = [
    { category: category('submitted'), amount: money(a.submitted) },
    { category: category('eligible'), amount: money(a.eligible) },
    { category: category('benefit'), amount: money(a.benefit) },
  ];
  if (a.deductible) out.push({ category: category('deductible'), amount: money(a.deductible) });
  if (a.copay) out.push({ category: category('copay'), amount: money(a.copay) });
  return [...out, ...[...a.adjustments.values()].map(adjustmentAdjudication)];
}

export interface ResponseInput {
  claim: Claim;
  remit: RemitClaim;
  matches: readonly LineMatch[];
  insurer: Reference<Organization>;
  paymentDate: string;
  source: RemittanceSource;
  created: string;
}

export function toClaimResponse(input: ResponseInput): ClaimResponse {
  const { claim, remit, matches } = input;
  const byItem = new Map<number, Amounts>();
  const notes: ClaimResponseProcessNote[] = [];
  const noteOf = (codes: readonly string[]) =>
    codes.map((code) => {
      const known = notes.find((n) => n.text.startsWith(`RARC ${code}:`));
      if (known) return known.number!;
      notes.push({ number: notes.length + 1, type: 'print', text: `RARC ${code}: ${rarcText(code)}` });
      return notes.length;
    });
  const itemNotes = new Map<number, number[]>();
  const addItem: ClaimResponseAddItem[] = [];
  for (const m of matches) {
    if (m.kind === 'unmatched' || m.kind === 'bundled') {
      const amounts = emptyAmounts();
      addLine(amounts, m.line);
      const numbers = noteOf(m.line.remarks);
      addItem.push({
        ...(m.items.length ? { itemSequence: [...m.items] } : {}),
        productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: m.line.code }] },
        ...(m.line.modifiers.length ? { modifier: m.line.modifiers.map((code) => ({ coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code }] })) } : {}),
        ...(m.line.start ? { servicedDate: m.line.start } : {}),
        quantity: { value: m.line.units },
        ...(numbers.length ? { noteNumber: numbers } : {}),
        adjudication: adjudications(amounts),
      });
      continue;
    }
    const sequence = m.items[0]!;
    const amounts = byItem.get(sequence) ?? emptyAmounts();
    addLine(amounts, m.line);
    byItem.set(sequence, amounts);
    itemNotes.set(sequence, [...(itemNotes.get(sequence) ?? []), ...noteOf(m.line.remarks)]);
  }
  const claimAdjustments: Amounts['adjustments'] = new Map();
  addAdjustments(claimAdjustments, remit.adjustments);
  const claimNotes = noteOf(remit.remarks);
  return {
    resourceType: 'ClaimResponse',
    meta: { tag: [{ system: REMITTANCE_SOURCE, code: input.source }] },
    ...(remit.payerClaimNumber ? { identifier: [{ system: PAYER_CLAIM_NUMBER, value: remit.payerClaimNumber }] } : {}),
    extension: [{ url: CLAIM_STATUS_EXTENSION, valueCode: remit.status }],
    status: 'active',
    type: claim.type,
    use: 'claim',
    patient: claim.patient,
    created: input.created,
    insurer: input.insurer,
    request: { reference: `Claim/${claim.id}` },
    outcome: 'complete',
    disposition: `${CLAIM_STATUS[remit.status] ?? `Claim status ${remit.status}`} (CLP02 ${remit.status})${claimNotes.length ? `; ${remit.remarks.map((r) => `RARC ${r}`).join(', ')}` : ''}`,
    ...(byItem.size ? { item: [...byItem].sort(([a], [b]) => a - b).map(([itemSequence, amounts]) => ({ itemSequence, ...(itemNotes.get(itemSequence)?.length ? { noteNumber: [...new Set(itemNotes.get(itemSequence))] } : {}), adjudication: adjudications(amounts) })) } : {}),
    ...(addItem.length ? { addItem } : {}),
    ...(claimAdjustments.size ? { adjudication: [...claimAdjustments.values()].map(adjustmentAdjudication) } : {}),
    total: [
      { category: category('submitted'), amount: money(remit.charge) },
      { category: category('benefit'), amount: money(remit.paid) },
    ],
    payment: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] }, ...(input.paymentDate ? { date: input.paymentDate } : {}), amount: money(remit.paid) },
    ...(notes.length ? { processNote: notes } : {}),
  };
}

export type LineVerdict = 'paid' | 'denied' | 'underpaid';

/**
 * A line is denied when the payer paid nothing and put nothing on the patient; underpaid when it paid something but
 * reduced it for a reason that is not its ordinary pricing (ROUTINE_CARC); else paid.
 */
export function lineVerdict(line: Pick<RemitLine, 'charge' | 'paid' | 'adjustments'>): LineVerdict {
  const patient = sum(line.adjustments, (a) => a.group === 'PR');
  if (line.charge > 0 && line.paid <= 0 && patient <= 0) return 'denied';
  const reduced = line.adjustments.some((a) => a.group !== 'PR' && a.amount > 0 && !ROUTINE_CARC.has(a.reason));
  return reduced ? 'underpaid' : 'paid';
}

/** What the payer said about a line's adjustments and remarks, for a work-queue Task. */
export function adjustmentText(adjustments: readonly Adjustment[], remarks: readonly string[]): string {
  const cas = adjustments.map((a) => `${a.group}-${a.reason} ${(a.amount / 100).toFixed(2)}: ${carcText(a.reason)}`);
  const rarc = remarks.map((r) => `RARC ${r}: ${rarcText(r)}`);
  return [...cas, ...rarc].join('; ') || 'no adjustment given';
}
