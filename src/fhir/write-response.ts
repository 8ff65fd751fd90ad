/** Builds the reply to a write from its result and the client's Prefer header (R4 http.html#create, #update). */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { WriteResult } from '../repo/repository.js';
import { etag } from '../repo/meta.js';
import type { FhirRequest, FhirResponse, RequestContext } from './types.js';
import { parsePrefer } from './prefer.js';

export function versionHeaders(ctx: RequestContext, type: string, id: string, versionId: number, lastUpdated: number): Record<string, string> {
  return {
    ETag: etag(versionId),
    'Last-Modified': new Date(lastUpdated).toUTCString(),
    Location: `${ctx.baseUrl}/${type}/${id}/_history/${versionId}`,
  };
}

export function writeResponse(req: FhirRequest, ctx: RequestContext, result: WriteResult, status: number, message: string): FhirResponse {
  const { stored } = result;
  const headers = versionHeaders(ctx, stored.resourceType, stored.id, stored.versionId, stored.lastUpdated);
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', details: { text: message } }, ...result.issues],
  };
  const preference = parsePrefer(req.headers.prefer).return;
  if (preference === 'minimal') return { status, headers, outcome };
  if (preference === 'OperationOutcome') return { status, headers, resource: outcome, outcome };
  return { status, headers, raw: stored.json, resource: result.resource, outcome };
}
