/**
 * $balance: GET [base]/Claim/[id]/$balance and GET [base]/Patient/[id]/$balance (issue 21 §4;
 * OperationDefinition-balance.json in profiles/): what a claim, or all of a patient's claims, still owe, payer and
 * patient apart and together, each the sum of the postings of the money ledger (src/money/ledger.ts).
 */
import type { Money, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirHandler } from '../types.js';
import { readClaimRow, readPatientRows, total, ZERO, type Balances } from '../../money/ledger.js';
import { fromCents } from '../../money/postings.js';

export const BALANCE_DEFINITIONS = {
  claim: 'http://stride-fhir.org/fhir/OperationDefinition/Claim-balance',
  patient: 'http://stride-fhir.org/fhir/OperationDefinition/Patient-balance',
} as const;

const usd = (cents: number): Money => ({ value: fromCents(cents), currency: 'USD' });

export function balanceParts(b: Balances): ParametersParameter[] {
  return [
    { name: 'billed', valueMoney: usd(b.billed) },
    { name: 'insurance-paid', valueMoney: usd(b.insurancePaid) },
    { name: 'payer-adjustments', valueMoney: usd(b.payerAdjustments) },
    { name: 'patient-responsibility', valueMoney: usd(b.patientResponsibility) },
    { name: 'patient-paid', valueMoney: usd(b.patientPaid) },
    { name: 'payer-balance', valueMoney: usd(b.payerBalance) },
    { name: 'patient-balance', valueMoney: usd(b.patientBalance) },
    { name: 'balance', valueMoney: usd(b.payerBalance + b.patientBalance) },
  ];
}

export const claimBalance: FhirHandler = async (_req, ctx, { id }) => {
  await ctx.repo.read('Claim', id);
  const row = await readClaimRow(ctx.repo.db, id);
  const parameter: ParametersParameter[] = [{ name: 'claim', valueReference: { reference: `Claim/${id}` } }, ...(row ? [{ name: 'stage', valueCode: row.stage }] : []), ...balanceParts(row ?? ZERO)];
  return { status: 200, resource: { resourceType: 'Parameters', parameter } satisfies Parameters };
};

export const patientBalance: FhirHandler = async (_req, ctx, { id }) => {
  await ctx.repo.read('Patient', id);
  const rows = await readPatientRows(ctx.repo.db, `Patient/${id}`);
  const parameter: ParametersParameter[] = [
    { name: 'patient', valueReference: { reference: `Patient/${id}` } },
    ...balanceParts(total(rows)),
    ...rows.map((r) => ({ name: 'claim', part: [{ name: 'claim', valueReference: { reference: `Claim/${r.claimId}` } }, { name: 'stage', valueCode: r.stage }, ...balanceParts(r)] })),
  ];
  return { status: 200, resource: { resourceType: 'Parameters', parameter } satisfies Parameters };
};
