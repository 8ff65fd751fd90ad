/**
 * The Bulk Data status and file requests (Bulk Data Access 2.0.0, export.html#bulk-data-status-request,
 * #bulk-data-delete-request, #bulk-data-output-file-request): GET [base]/$export-status/[job] answers 202 with
 * X-Progress and Retry-After while the job runs, 200 with the manifest when it is done, and the job's
 * OperationOutcome (500) when it failed; DELETE cancels the job or, once done, removes its files; GET
 * [base]/$export-file/[job]/[name] streams a file from the database, a chunk at a time.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FhirHandler, RequestContext } from '../types.js';
import { notFound } from '../outcomes.js';
import { cancelJob, jobsAhead, listFiles, noteDownload, readChunk, readJob } from '../../analytics/export-jobs.js';
import { buildManifest, progressText } from '../../analytics/export-manifest.js';
import { EXPORT_FORMATS, type ExportJob } from '../../analytics/export-types.js';
import type { Store } from '../../storage/store.js';

const storeOf = (ctx: RequestContext): Store => ctx.repo.deps.store;

async function findJob(ctx: RequestContext, id: string): Promise<ExportJob> {
  const job = await readJob(storeOf(ctx).reader, id);
  const kept = `files are kept ${ctx.config.export.retentionSeconds} s after an export ends`;
  // Another client's job answers as one that never existed (issue 23: a job is its client's; nothing is revealed).
  if (!job || (ctx.access && job.spec.clientId !== ctx.access.clientId)) throw new OperationOutcomeError(notFound(`No export ${id} here: it never existed, or it ended and was removed (${kept})`));
  if (job.status === 'cancelled') throw new OperationOutcomeError(notFound(`Export ${id} was cancelled (${job.outcome ?? 'DELETE'}); its files are gone`));
  return job;
}

/** GET [base]/$export-status/[job] */
export const exportStatus: FhirHandler = async (_req, ctx, { id }) => {
  const job = await findJob(ctx, id);
  if (job.status === 'failed') throw new OperationOutcomeError(JSON.parse(job.outcome as string) as OperationOutcome);
  if (job.status === 'queued') {
    const ahead = await jobsAhead(storeOf(ctx).reader, job);
    return { status: 202, headers: { 'X-Progress': `queued${ahead > 0 ? ` behind ${ahead} export(s)` : ''}`, 'Retry-After': '1' } };
  }
  if (job.status === 'running') return { status: 202, headers: { 'X-Progress': progressText(job), 'Retry-After': '2' } };
  const manifest = buildManifest(job, await listFiles(storeOf(ctx).reader, job.id), ctx.baseUrl);
  const headers = { Expires: new Date(job.expiresAt ?? Date.now()).toUTCString() };
  return { status: 200, headers, body: { contentType: 'application/json; charset=utf-8', data: JSON.stringify(manifest) } };
};

/** DELETE [base]/$export-status/[job] */
export const cancelExport: FhirHandler = async (_req, ctx, { id }) => {
  const job = await findJob(ctx, id);
  const message = job.status === 'completed' ? 'the client deleted it after it completed' : `the client cancelled it while ${job.status}`;
  if (!(await cancelJob(storeOf(ctx), id, message, ctx.config.export.retentionSeconds * 1000))) throw new OperationOutcomeError(notFound(`No export ${id} to cancel`));
  const text = job.status === 'completed' ? `Export ${id}: its files are deleted` : `Export ${id} is cancelled; it stops at its next page and its files are deleted`;
  const resource: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text } }] };
  return { status: 202, resource };
};

/** GET [base]/$export-file/[job]/[name] */
export const exportFile: FhirHandler = async (_req, ctx, { id, file }) => {
  const job = await findJob(ctx, id);
  const store = storeOf(ctx);
  const row = job.status === 'completed' ? (await listFiles(store.reader, id)).find((f) => f.name === file) : undefined;
  if (!row) throw new OperationOutcomeError(notFound(`Export ${id} has no file ${file}${job.status === 'completed' ? '' : ` (it is ${job.status}; its files are listed once it completes)`}`));
  await noteDownload(store, id);
  const contentType = file.endsWith('.parquet') ? EXPORT_FORMATS.parquet.contentType : EXPORT_FORMATS.ndjson.contentType;
  async function* chunks(): AsyncIterable<Buffer> {
    for (let seq = 0; seq < Number(row?.chunks); seq++) {
      const data = await readChunk(store.reader, id, file, seq);
      if (!data) throw new Error(`export ${id} file ${file}: chunk ${seq} is missing (removed while downloading?)`);
      yield data;
    }
  }
  return { status: 200, body: { contentType, data: chunks() } };
};
