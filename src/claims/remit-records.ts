/**
 * The resources a posted remittance writes besides its ClaimResponses: the PaymentReconciliation of each payment, the
 * work-queue Tasks (billing-task codes of the guide) and the Provenance from each posted resource to the 835 file and
 * its segment lines (issue 21 §5).
 */
import type { Claim, PaymentReconciliation, PaymentReconciliationDetail, Provenance, Reference, Resource, Task } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { SYSTEMS } from '../billing/codes.js';
import { money } from '../billing/remit-response.js';
import type { Remittance } from '../billing/x12/remittance.js';
import { OPERATION_AGENT } from './files.js';
import { TASK_SYSTEM } from './acknowledge.js';

/** The payment's trace (TRN02) under its payer (TRN03): the same payment posted twice is one. */
export const TRACE_SYSTEM = 'http://stride-fhir.org/fhir/sid/x12-835-trace';
/** BPR04 payment method codes (005010X221A1): the kind of the payment identifier (check number, EFT trace). */
export const PAYMENT_METHOD_SYSTEM = 'https://x12.org/codes/835-payment-method-codes';
/** PLB03-1 provider adjustment reason codes (005010X221A1), e.g. WO overpayment recovery, L6 interest, CV capital. */
export const PROVIDER_ADJUSTMENT_SYSTEM = 'https://x12.org/codes/835-provider-adjustment-reason-codes';
export const PAYMENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/payment-type';

const METHODS: Readonly<Record<string, string>> = {
  ACH: 'Automated Clearing House (ACH)',
  BOP: 'Financial Institution Option',
  CHK: 'Check',
  FWT: 'Federal Reserve Funds/Wire Transfer - Nonrepetitive',
  NON: 'Non-Payment Data',
};

export function traceKey(r: Remittance): string {
  return `${r.originator || r.payer.id || r.payer.name}/${r.trace}`;
}

export function paymentReconciliation(r: Remittance, payer: Reference, details: PaymentReconciliationDetail[], created: string, source: 'x12-835' | 'manual'): PaymentReconciliation {
  const plb: PaymentReconciliationDetail[] = r.adjustments.map((a) => ({
    identifier: { system: PROVIDER_ADJUSTMENT_SYSTEM, value: `${a.reason}${a.reference ? `:${a.reference}` : ''}` },
    type: { coding: [{ system: PAYMENT_TYPE_SYSTEM, code: 'adjustment' }], text: `Provider-level adjustment (PLB) ${a.reason}` },
    ...(r.date ? { date: r.date } : {}),
    // PLB amounts reduce the payment: as a detail of it, the opposite sign (the details add up to the payment).
    amount: money(-a.amount),
  }));
  return {
    resourceType: 'PaymentReconciliation',
    meta: { tag: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/remittance-source', code: source }] },
    identifier: [{ system: TRACE_SYSTEM, value: traceKey(r) }],
    status: 'active',
    created,
    paymentIssuer: payer as Reference<never>,
    outcome: 'complete',
    disposition: `${r.payer.name || 'Payer'} ${r.method ? `${METHODS[r.method] ?? r.method} ` : ''}payment ${r.trace}: ${r.claims.length} claim(s)${r.adjustments.length ? `, ${r.adjustments.length} provider adjustment(s)` : ''}`,
    paymentDate: r.date || created.slice(0, 10),
    paymentAmount: money(r.amount),
    paymentIdentifier: { ...(r.method ? { type: { coding: [{ system: PAYMENT_METHOD_SYSTEM, code: r.method, ...(METHODS[r.method] ? { display: METHODS[r.method] } : {}) }] } } : {}), value: r.trace },
    detail: [...details, ...plb],
  };
}

export function claimDetail(controlNumber: string, paid: number, date: string, claim?: Claim, response?: string): PaymentReconciliationDetail {
  return {
    identifier: { system: SYSTEMS.patientControlNumber, value: controlNumber },
    type: { coding: [{ system: PAYMENT_TYPE_SYSTEM, code: 'payment' }] },
    ...(claim ? { request: { reference: `Claim/${claim.id}` } } : {}),
    ...(response ? { response: { reference: response } } : {}),
    ...(date ? { date } : {}),
    amount: money(paid),
  };
}

export type RemitTaskCode = 'remit-unknown-claim' | 'remit-line-unmatched' | 'remit-line-denied' | 'remit-line-underpaid' | 'remit-claim-denied' | 'secondary-claim-review';

const TASK_DISPLAY: Record<RemitTaskCode, string> = {
  'remit-unknown-claim': 'Remittance for an unknown claim',
  'remit-line-unmatched': 'Remittance line matches no claim line',
  'remit-line-denied': 'Service line denied',
  'remit-line-underpaid': 'Service line underpaid',
  'remit-claim-denied': 'Claim denied',
  'secondary-claim-review': 'Secondary claim needs review',
};

export interface TaskInput {
  code: RemitTaskCode;
  description: string;
  claim?: Claim;
  response?: string;
}

export async function openTask(tx: Repository, input: TaskInput, now: string): Promise<string> {
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: TASK_SYSTEM, code: input.code, display: TASK_DISPLAY[input.code] }] },
    description: input.description.slice(0, 2000),
    ...(input.claim ? { focus: { reference: `Claim/${input.claim.id}` }, for: input.claim.patient } : {}),
    ...(input.response ? { input: [{ type: { text: 'remittance' }, valueReference: { reference: input.response } }] } : {}),
    authoredOn: now,
  };
  const written = await tx.create(task as Resource);
  return `Task/${written.stored.id}`;
}

/** Provenance from a posted resource's version to the file it came from and the lines of its segments. */
export function sourceProvenance(target: string, documentReference: string, lines: { first: number; last: number; what: string }, now: string): Provenance {
  return {
    resourceType: 'Provenance',
    target: [{ reference: target }],
    recorded: now,
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE' }] },
    agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler', display: 'Assembler' }] }, who: { identifier: { system: OPERATION_AGENT, value: 'process-x12' }, display: 'Stride operation $process-x12' } }],
    entity: [{ role: 'source', what: { reference: documentReference, display: `835 segments at lines ${lines.first}-${lines.last}: ${lines.what}`.slice(0, 1000) } }],
  };
}
