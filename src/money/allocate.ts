/**
 * A patient payment's postings (PaymentReconciliation with the patient-payer extension, written by Invoice/[id]/$pay
 * or by a client): each detail pays the Claim it names (detail.request = Claim/[id]), or an Invoice
 * (detail.request = Invoice/[id]), whose claims it pays oldest service first, each up to what the patient still owes
 * on it. More than the patient owes is refused (422): Stride keeps no credit balance (profiles/README.md).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Invoice, PaymentReconciliation } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { unprocessable } from '../fhir/outcomes.js';
import { fromCents, idIn, isPatientPayment, toCents, type Posting } from './postings.js';
import { sumPostings } from './ledger.js';
import { STRIDE_EXTENSION } from '../billing/codes.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export const INVOICE_CLAIM_EXTENSION = `${STRIDE_EXTENSION}invoice-claim`;

/** The claims an Invoice bills, in line order, each once. */
export function invoiceClaims(invoice: Invoice): string[] {
  const ids = (invoice.lineItem ?? []).map((l) => idIn(l.extension?.find((e) => e.url === INVOICE_CLAIM_EXTENSION)?.valueReference?.reference, 'Claim'));
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

export interface PaymentPostings {
  postings: Posting[];
  /** The Invoices it paid (their status follows their balance). */
  invoices: string[];
}

export async function paymentPostings(tx: Repository, payment: PaymentReconciliation): Promise<PaymentPostings> {
  if (payment.status !== 'active' || !isPatientPayment(payment)) return { postings: [], invoices: [] };
  const owed = new Map<string, number>();
  const owes = async (claimId: string): Promise<number> => {
    if (!owed.has(claimId)) owed.set(claimId, (await sumPostings(tx.db, claimId)).patientBalance);
    return owed.get(claimId)!;
  };
  const postings: Posting[] = [];
  const invoices: string[] = [];
  for (const [i, detail] of (payment.detail ?? []).entries()) {
    let left = toCents(detail.amount?.value);
    if (left <= 0) continue;
    const ref = detail.request?.reference;
    const claimId = idIn(ref, 'Claim');
    const invoiceId = idIn(ref, 'Invoice');
    let claims: string[];
    if (claimId) claims = [claimId];
    else if (invoiceId) {
      const stored = await tx.readCurrent('Invoice', invoiceId);
      if (!stored || stored.deleted) throw new OperationOutcomeError(unprocessable(`PaymentReconciliation.detail[${i}].request: ${ref} does not exist`, `PaymentReconciliation.detail[${i}].request`));
      const invoice = parseJsonKeepingDecimals(stored.json) as Invoice;
      if (invoice.status !== 'issued' && invoice.status !== 'balanced') throw new OperationOutcomeError(unprocessable(`${ref} is ${invoice.status}: payments post to an issued Invoice`, `PaymentReconciliation.detail[${i}].request`));
      claims = invoiceClaims(invoice);
      invoices.push(invoiceId);
    } else {
      throw new OperationOutcomeError(unprocessable(`PaymentReconciliation.detail[${i}].request: a patient payment pays an Invoice or a Claim (Invoice/[id] or Claim/[id]), not "${ref ?? ''}"`, `PaymentReconciliation.detail[${i}].request`));
    }
    const start = left;
    for (const id of claims) {
      const due = await owes(id);
      const amount = Math.min(due, left);
      if (amount <= 0) continue;
      postings.push({ claimId: id, kind: 'patient-payment', amount });
      owed.set(id, due - amount);
      left -= amount;
      if (left === 0) break;
    }
    if (left > 0) {
      throw new OperationOutcomeError(unprocessable(`Overpayment refused: ${ref} owes ${fromCents(start - left).toFixed(2)} USD, the payment detail is ${fromCents(start).toFixed(2)} USD (Stride keeps no credit balance: refund or post what is owed)`, `PaymentReconciliation.detail[${i}].amount`));
    }
  }
  return { postings, invoices };
}
