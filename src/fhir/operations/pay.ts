/**
 * $pay: POST [base]/Invoice/[id]/$pay (issue 21 §3; OperationDefinition-pay.json in profiles/): a payment by the
 * patient against her Invoice, written as a PaymentReconciliation (patient-payer extension, one detail paying the
 * Invoice) that the money ledger allocates to the Invoice's claims oldest first (src/money/allocate.ts): the same
 * posting as a client's own PaymentReconciliation, so a payment is counted once whichever way it comes. An
 * `identifier` (the receipt number) given again answers the payment already posted and posts nothing. More than is
 * owed is refused (422).
 */
import { escapeSearchValue } from '../../search/values.js';
import { OperationOutcomeError } from '@medplum/core';
import type { Invoice, PaymentReconciliation } from '@medplum/fhirtypes';
import type { FhirHandler } from '../types.js';
import { badRequest, unprocessable } from '../outcomes.js';
import { one, readParameters } from './parameters.js';
import { PATIENT_PAYER_EXTENSION } from '../../money/postings.js';
import { writeResponse } from '../write-response.js';
import { lockLedger } from '../../money/hook.js';
import { parseJsonKeepingDecimals } from '../json-decimals.js';

export const PAY_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/pay';
export const RECEIPT_SYSTEM = 'http://stride-fhir.org/fhir/sid/patient-payment';

const SPECS = { amount: { kind: 'string' }, date: { kind: 'date' }, method: { kind: 'code' }, identifier: { kind: 'string' } } as const;
const METHODS = ['cash', 'check', 'card', 'ach'] as const;

function amountOf(value: string | undefined): number {
  if (value === undefined) throw new OperationOutcomeError(badRequest('$pay: amount is required (a decimal in USD, e.g. 25.00)', 'amount'));
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(value) || Math.round(Number(value) * 100) <= 0) throw new OperationOutcomeError(badRequest(`$pay: amount is a positive decimal with at most 2 places, not "${value}"`, 'amount'));
  return Math.round(Number(value) * 100);
}

export const invoicePay: FhirHandler = async (req, ctx, { id }) => {
  const input = readParameters(req, 'pay', SPECS);
  const cents = amountOf(one(input, 'amount'));
  const date = one(input, 'date') ?? new Date().toISOString().slice(0, 10);
  const method = one(input, 'method') ?? 'cash';
  if (!(METHODS as readonly string[]).includes(method)) throw new OperationOutcomeError(badRequest(`$pay: method is ${METHODS.join(' | ')}, not "${method}"`, 'method'));
  const receipt = one(input, 'identifier');
  return ctx.repo.transaction(async (tx) => {
    await lockLedger(tx);
    const invoice = JSON.parse((await tx.read('Invoice', id)).json) as Invoice;
    // A receipt given again answers the payment posted, even once that payment has balanced the Invoice: a card
    // processor's webhook retried after the last payment gets its 200, not a 422.
    if (receipt) {
      const found = await tx.search({ resourceType: 'PaymentReconciliation', params: { identifier: [`${RECEIPT_SYSTEM}|${escapeSearchValue(receipt)}`] }, count: 1, offset: 0, total: 'none' });
      const row = found.rows[0];
      if (row) return { status: 200, raw: row.content, resource: parseJsonKeepingDecimals(row.content) as PaymentReconciliation };
    }
    if (invoice.status !== 'issued') throw new OperationOutcomeError(unprocessable(`Invoice/${id} is ${invoice.status}: only an issued Invoice takes a payment${invoice.status === 'balanced' ? ' (nothing is owed on it)' : ''}`));
    const amount = { value: cents / 100, currency: 'USD' as const };
    const payment: PaymentReconciliation = {
      resourceType: 'PaymentReconciliation',
      extension: [{ url: PATIENT_PAYER_EXTENSION, valueReference: { reference: invoice.subject?.reference ?? '' } }],
      ...(receipt ? { identifier: [{ system: RECEIPT_SYSTEM, value: receipt }] } : {}),
      status: 'active',
      created: new Date().toISOString(),
      outcome: 'complete',
      disposition: `Patient payment (${method}) against Invoice/${id}`,
      paymentDate: date,
      paymentAmount: amount,
      ...(receipt ? { paymentIdentifier: { system: RECEIPT_SYSTEM, value: receipt } } : {}),
      detail: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/payment-type', code: 'payment' }] }, request: { reference: `Invoice/${id}` }, date, amount }],
    };
    const result = await tx.create(payment);
    return writeResponse(req, ctx, result, 201, `Payment of ${amount.value.toFixed(2)} USD posted against Invoice/${id}`);
  });
};
