/**
 * $process-x12: POST [base]/$process-x12 (issue 20 §4; OperationDefinition-process-x12.json in profiles/): an X12
 * acknowledgment, claim status response or remittance (999, 277CA, 277; 835: issue 21) as the raw body (Content-Type: application/edi-x12) or
 * as a Parameters with `file` (valueAttachment with base64 data, or valueString). The answer is an OperationOutcome
 * saying what the file did (src/claims/acknowledge.ts, remit.ts); a file that is not valid X12, or an 835 that does
 * not balance, is a 400 and changes nothing.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, FhirRequest } from '../types.js';
import { badRequest } from '../outcomes.js';
import { processX12 } from '../../claims/acknowledge.js';
import { readParameters } from './parameters.js';

export const PROCESS_X12_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/process-x12';

export const processX12Operation: FhirHandler = async (req, ctx) => {
  const text = fileOf(req);
  const result = await processX12(ctx.repo, text, new Date());
  return { status: 200, resource: { resourceType: 'OperationOutcome', issue: result.issues } };
};

function fileOf(req: FhirRequest): string {
  const mediaType = (req.headers.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/edi-x12') return req.rawBody ?? '';
  if (req.body === undefined) throw new OperationOutcomeError(badRequest('$process-x12 takes the X12 file as the body (Content-Type: application/edi-x12), or a Parameters with file'));
  const input = readParameters({ ...req, query: {} }, 'process-x12', { file: { kind: 'attachment' } });
  const file = input.get('file')?.[0];
  if (!file) throw new OperationOutcomeError(badRequest('$process-x12: the Parameters has no file', 'file'));
  const raw = req.body as { parameter?: Array<{ name: string; valueAttachment?: { data?: string } }> };
  const isBase64 = raw.parameter?.some((p) => p.name === 'file' && p.valueAttachment?.data !== undefined);
  return isBase64 ? Buffer.from(file, 'base64').toString('utf8') : file;
}
