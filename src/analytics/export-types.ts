/** The shapes of a Bulk Data export job (Bulk Data Access 2.0.0, export.html), as stored in export_job. */

export const EXPORT_FORMATS = {
  ndjson: { contentType: 'application/fhir+ndjson', extension: 'ndjson' },
  // An extension: one Parquet file per type and part (table shape: export-parquet.ts).
  parquet: { contentType: 'application/vnd.apache.parquet', extension: 'parquet' },
} as const;

export type ExportFormat = keyof typeof EXPORT_FORMATS;

/** A message for the manifest's `error` files (information and warnings too, as export.html says). */
export interface ExportNote {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: 'not-supported' | 'informational' | 'incomplete' | 'invalid' | 'exception';
  text: string;
  expression?: string;
}

/** The kick-off, checked: what the job exports. */
export interface ExportSpec {
  level: 'system' | 'patient' | 'group';
  groupId?: string;
  /** Only the patients in export_patient (a Group's members, the `patient` parameter); false: every patient. */
  listed: boolean;
  /** Resource types, in the order they are exported. */
  types: string[];
  /** `_since`, epoch ms: only resources changed after it. */
  since?: number;
  /** `_typeFilter`: per type, search queries (`status=active&date=gt2020`) of which a resource must match one. */
  typeFilters: Record<string, string[]>;
  format: ExportFormat;
  /** Parameters ignored under `Prefer: handling=lenient`, and the like: reported in the manifest's error file. */
  notes: ExportNote[];
  /**
   * The client that kicked the export off, when auth is on (issue 23): only it polls, cancels or downloads the job;
   * to any other client the job does not exist. Absent for a job started with auth off.
   */
  clientId?: string;
}

/** A file being appended to when the job last checkpointed. */
export interface OpenFile {
  name: string;
  kind: 'output' | 'deleted';
  resourceType: string;
  part: number;
  resources: number;
  bytes: number;
  chunks: number;
  /** The type's cursor where this file began: a format that cannot be appended to after a restart starts over there. */
  startAfterId: string;
}

/** The checkpoint a job resumes from. */
export interface ExportState {
  /** Index in spec.types of the type being exported (types.length: all done). */
  typeIndex: number;
  /** Keyset cursor in that type: the last id read ('' before the first). */
  afterId: string;
  /** Resources written so far, and per type. */
  exported: number;
  perType: Record<string, number>;
  /** Files of each type so far (the next part number is one more). */
  parts: Record<string, number>;
  output?: OpenFile;
  deleted?: OpenFile;
  deletedCount: number;
  /** Current resources of the types when the job started: what X-Progress measures against. */
  total?: number;
  /** Times the job was taken up again after the process running it stopped. */
  resumed: number;
  notes: ExportNote[];
}

export type ExportStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface ExportJob {
  id: string;
  status: ExportStatus;
  request: string;
  spec: ExportSpec;
  state: ExportState;
  transactionTime: number;
  createdAt: number;
  leaseOwner?: string;
  leaseUntil: number;
  attempts: number;
  outcome?: string;
  completedAt?: number;
  expiresAt?: number;
}

export function emptyState(): ExportState {
  return { typeIndex: 0, afterId: '', exported: 0, perType: {}, parts: {}, deletedCount: 0, resumed: 0, notes: [] };
}
