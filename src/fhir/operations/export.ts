/**
 * $export, the Bulk Data kick-off (Bulk Data Access 2.0.0, export.html#bulk-data-kick-off-request): GET or POST
 * [base]/$export, Patient/$export, Group/[id]/$export with `Prefer: respond-async`. The request is checked
 * (src/analytics/export-kickoff.ts), a durable job is stored, and the answer is 202 with the status URL in
 * Content-Location; a process's export runner does the work (src/analytics/export-runner.ts). Without
 * `Prefer: respond-async` the answer is a 400 saying to send it: an export is never answered synchronously.
 */
import { randomUUID } from 'node:crypto';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, FhirResponse, RequestContext } from '../types.js';
import { checkKickoff } from '../../analytics/export-kickoff.js';
import { createJob } from '../../analytics/export-jobs.js';
import { exportRunnerOf } from '../../analytics/export-runner.js';
import { statusUrl } from '../../analytics/export-manifest.js';
import { nextTimestamp } from '../../repo/meta.js';
import type { ExportSpec } from '../../analytics/export-types.js';

export const EXPORT_DEFINITIONS = {
  system: 'http://stride-fhir.org/fhir/OperationDefinition/export',
  patient: 'http://stride-fhir.org/fhir/OperationDefinition/patient-export',
  group: 'http://stride-fhir.org/fhir/OperationDefinition/group-export',
} as const;

/** GET|POST [base]/$export */
export const systemExport: FhirHandler = (req, ctx) => kickoff(req, ctx, 'system');

/** GET|POST [base]/Patient/$export (the operation registry sends every [type]/$export here: only Patient has it). */
export const patientExport: FhirHandler = (req, ctx) => kickoff(req, ctx, 'patient');

/** GET|POST [base]/Group/[id]/$export */
export const groupExport: FhirHandler = (req, ctx, { id }) => kickoff(req, ctx, 'group', id);

async function kickoff(req: FhirRequest, ctx: RequestContext, level: ExportSpec['level'], groupId?: string): Promise<FhirResponse> {
  const { spec, patients } = await checkKickoff({ level, groupId, method: req.method, query: req.query, body: req.body, prefer: req.headers.prefer, baseUrl: ctx.baseUrl }, ctx.repo);
  const id = randomUUID();
  const store = ctx.repo.deps.store;
  // transactionTime: a stamp after every version this process has stamped, so a write acknowledged before the
  // kick-off is in the export even when versions were stamped ahead of the clock (repo/meta.ts nextTimestamp).
  const owned = ctx.access ? { ...spec, clientId: ctx.access.clientId } : spec;
  await createJob(store, { id, request: requestUrl(req, ctx, level, groupId), spec: owned, patients, transactionTime: nextTimestamp() });
  exportRunnerOf(store)?.wake();
  const resource: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', details: { text: `Export ${id} accepted: poll ${statusUrl(ctx.baseUrl, id)} for its progress and manifest` } }],
  };
  return { status: 202, headers: { 'Content-Location': statusUrl(ctx.baseUrl, id) }, resource };
}

/** The kick-off URL for the manifest's `request`: with its query (a POST's body parameters are not in it). */
function requestUrl(req: FhirRequest, ctx: RequestContext, level: ExportSpec['level'], groupId?: string): string {
  const path = level === 'system' ? '$export' : level === 'patient' ? 'Patient/$export' : `Group/${groupId}/$export`;
  const query = new URLSearchParams(Object.entries(req.query).flatMap(([n, vs]) => vs.map((v) => [n, v]))).toString();
  return `${ctx.baseUrl}/${path}${query ? `?${query}` : ''}`;
}
