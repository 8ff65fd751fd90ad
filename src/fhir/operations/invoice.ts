/**
 * $invoice: POST [base]/Patient/[id]/$invoice (issue 21 §3; OperationDefinition-invoice.json in profiles/): issues the
 * patient's Invoice for a statement period (src/money/invoice.ts): every claim with a date of service in the period on
 * which she owes something and that no issued Invoice bills yet. 201 with the Invoice; 422 when there is nothing to
 * bill (so a second run for the same period issues nothing twice).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler } from '../types.js';
import { badRequest, unprocessable } from '../outcomes.js';
import { one, readParameters } from './parameters.js';
import { buildInvoice } from '../../money/invoice.js';
import { writeResponse } from '../write-response.js';
import { lockLedger } from '../../money/hook.js';

export const INVOICE_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/invoice';

const SPECS = { start: { kind: 'date' }, end: { kind: 'date' } } as const;

export const patientInvoice: FhirHandler = async (req, ctx, { id }) => {
  const input = readParameters(req, 'invoice', SPECS);
  const end = one(input, 'end') ?? new Date().toISOString().slice(0, 10);
  const start = one(input, 'start');
  if (start !== undefined && start > end) throw new OperationOutcomeError(badRequest(`$invoice: start ${start} is after end ${end}`, 'start'));
  return ctx.repo.transaction(async (tx) => {
    await lockLedger(tx);
    await tx.read('Patient', id);
    const invoice = await buildInvoice(tx, { patientId: id, start, end, date: new Date().toISOString() });
    if (!invoice) throw new OperationOutcomeError(unprocessable(`Patient/${id} owes nothing on claims with a date of service ${start ? `from ${start} ` : ''}through ${end} that no issued Invoice bills already`));
    const result = await tx.create(invoice);
    return writeResponse(req, ctx, result, 201, `Invoice/${result.stored.id} issued: ${invoice.lineItem?.length} line(s), ${invoice.totalNet?.value?.toFixed(2)} USD due`);
  });
};
