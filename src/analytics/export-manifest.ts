/**
 * What a status request answers (Bulk Data Access 2.0.0, export.html#bulk-data-status-request): the X-Progress text
 * of a job under way, and the completion manifest of a finished one.
 */
import type { FileRow } from './export-jobs.js';
import type { ExportJob } from './export-types.js';

export interface ManifestItem {
  type: string;
  url: string;
  count?: number;
}

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: ManifestItem[];
  deleted?: ManifestItem[];
  error: ManifestItem[];
}

/** The status URL (Content-Location of the kick-off) and a file's URL, under the FHIR base. */
export const statusUrl = (baseUrl: string, jobId: string): string => `${baseUrl}/$export-status/${jobId}`;
export const fileUrl = (baseUrl: string, jobId: string, name: string): string => `${baseUrl}/$export-file/${jobId}/${name}`;

export function buildManifest(job: ExportJob, files: FileRow[], baseUrl: string): Manifest {
  const item = (f: FileRow): ManifestItem => ({ type: f.resource_type, url: fileUrl(baseUrl, job.id, f.name), count: Number(f.resources) });
  const manifest: Manifest = {
    transactionTime: new Date(job.transactionTime).toISOString(),
    request: job.request,
    // Stride has no authorization server yet: the files are served to whoever can reach the FHIR API, like the API.
    requiresAccessToken: false,
    output: files.filter((f) => f.kind === 'output').map(item),
    error: files.filter((f) => f.kind === 'error').map(item),
  };
  // Deletions are reported for a system-level _since export (the only one whose deleted resources Stride can place).
  if (job.spec.since !== undefined && job.spec.level === 'system') manifest.deleted = files.filter((f) => f.kind === 'deleted').map(item);
  return manifest;
}

/** X-Progress: under 100 characters (export.html), e.g. "42% (12000 resources; Observation, type 3 of 7)". */
export function progressText(job: ExportJob): string {
  const s = job.state;
  const types = job.spec.types;
  const type = types[s.typeIndex] ?? types[types.length - 1];
  const resumed = s.resumed > 0 ? 'resumed; ' : '';
  const percent = job.spec.level === 'system' && s.total ? `${Math.min(99, Math.floor((100 * s.exported) / s.total))}% ` : '';
  return `${resumed}${percent}(${s.exported} resources; ${type}, type ${Math.min(s.typeIndex + 1, types.length)} of ${types.length})`.slice(0, 99);
}
