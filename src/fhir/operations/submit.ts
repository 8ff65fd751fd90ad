/**
 * $submit: POST [base]/Claim/$submit (issue 20 §1; OperationDefinition-submit.json in profiles/): every ready Claim
 * (or those named) goes into one X12 837P interchange per payer, stored as a Binary and a DocumentReference; the answer
 * lists each file with its claims, and each named claim that was refused with the reason. `dry-run` answers the same
 * and records nothing.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirHandler } from '../types.js';
import { badRequest } from '../outcomes.js';
import { submitClaims, type SubmitResult } from '../../claims/submit.js';
import { one, readParameters } from './parameters.js';

export const SUBMIT_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/submit';

const SPECS = {
  payer: { kind: 'reference' },
  provider: { kind: 'reference' },
  claim: { kind: 'reference', repeats: true },
  through: { kind: 'date' },
  usage: { kind: 'code' },
  'dry-run': { kind: 'boolean' },
} as const;

export const submit: FhirHandler = async (req, ctx) => {
  const input = readParameters(req, 'submit', SPECS);
  const usage = one(input, 'usage') ?? 'T';
  if (usage !== 'T' && usage !== 'P') throw new OperationOutcomeError(badRequest(`$submit: usage is T (test) or P (production), not "${usage}"`, 'usage'));
  const claims = input.get('claim');
  if (claims?.some((c) => !c.startsWith('Claim/'))) throw new OperationOutcomeError(badRequest('$submit: claim takes references to Claims (Claim/[id])', 'claim'));
  const result = await submitClaims(
    ctx.repo,
    { payer: one(input, 'payer'), provider: one(input, 'provider'), claims, through: one(input, 'through'), usage, dryRun: one(input, 'dry-run') === 'true' },
    ctx.config.x12,
    new Date(),
  );
  return { status: 200, resource: answer(result, one(input, 'dry-run') === 'true') };
};

function answer(result: SubmitResult, dryRun: boolean): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'dry-run', valueBoolean: dryRun },
    { name: 'sent', valueInteger: result.files.reduce((n, f) => n + f.claims.length, 0) },
  ];
  for (const file of result.files) {
    parameter.push({
      name: 'file',
      part: [
        { name: 'receiver', valueReference: { reference: file.receiver, display: file.receiverName } },
        ...(file.documentReference ? [{ name: 'documentReference', valueReference: { reference: file.documentReference } }] : []),
        ...(file.binary ? [{ name: 'binary', valueReference: { reference: file.binary } }] : []),
        { name: 'interchangeControlNumber', valueString: String(file.interchange).padStart(9, '0') },
        { name: 'groupControlNumber', valueString: String(file.group) },
        ...file.transactions.map((t) => ({ name: 'transactionControlNumber', valueString: String(t).padStart(4, '0') })),
        { name: 'claims', valueInteger: file.claims.length },
        ...file.claims.map((c) => ({ name: 'claim', part: [{ name: 'claim', valueReference: { reference: c.claim } }, { name: 'frequency', valueCode: c.frequency }] })),
        ...(dryRun ? [{ name: 'content', valueString: file.text }] : []),
      ],
    });
  }
  for (const r of result.refused) parameter.push({ name: 'refused', part: [{ name: 'claim', valueString: r.claim }, { name: 'reason', valueString: r.reason }] });
  return { resourceType: 'Parameters', parameter };
}
