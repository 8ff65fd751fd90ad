/**
 * Export jobs in the database (export-schema.ts), the same SQL on both engines. A process takes a job with a lease:
 * a compare-and-set UPDATE that succeeds only while nobody holds the job (lease_until past). Every checkpoint renews
 * the lease in the same transaction that stores the job's new bytes, and only while the lease is still the
 * process's own; a process that lost its job (it stalled past its lease and another took over, or the job was
 * cancelled) cannot write to it again. On PostgreSQL the UPDATE takes the job's row lock, so two processes that race
 * for one job or one checkpoint queue on it and the second finds the condition false: one job never runs twice.
 */
import { sql } from '../sql/sql.js';
import type { Queryer, Store } from '../storage/store.js';
import { emptyState, type ExportJob, type ExportSpec, type ExportState, type ExportStatus } from './export-types.js';

/** Another process holds the job now, or it was cancelled: stop without writing. */
export class LeaseLost extends Error {}

interface JobRow {
  id: string;
  status: ExportStatus;
  request: string;
  spec: string;
  state: string;
  transaction_time: number;
  created_at: number;
  lease_owner: string | null;
  lease_until: number;
  attempts: number;
  outcome: string | null;
  completed_at: number | null;
  expires_at: number | null;
}

export interface FileRow {
  name: string;
  kind: 'output' | 'deleted' | 'error';
  resource_type: string;
  resources: number;
  bytes: number;
  chunks: number;
  complete: number;
}

function toJob(row: JobRow): ExportJob {
  return {
    id: row.id,
    status: row.status,
    request: row.request,
    spec: JSON.parse(row.spec) as ExportSpec,
    state: JSON.parse(row.state) as ExportState,
    transactionTime: Number(row.transaction_time),
    createdAt: Number(row.created_at),
    leaseOwner: row.lease_owner ?? undefined,
    leaseUntil: Number(row.lease_until),
    attempts: Number(row.attempts),
    outcome: row.outcome ?? undefined,
    completedAt: row.completed_at === null ? undefined : Number(row.completed_at),
    expiresAt: row.expires_at === null ? undefined : Number(row.expires_at),
  };
}

/** Rows of export_patient per statement. */
const PATIENTS_PER_INSERT = 200;

export async function createJob(store: Store, job: { id: string; request: string; spec: ExportSpec; patients: string[]; transactionTime: number }): Promise<void> {
  const now = Date.now();
  await store.transaction(async (tx) => {
    await tx.run(sql`INSERT INTO export_job (id, status, request, spec, state, transaction_time, created_at, updated_at, lease_until, attempts)
      VALUES (${job.id}, ${'queued'}, ${job.request}, ${JSON.stringify(job.spec)}, ${JSON.stringify(emptyState())}, ${job.transactionTime}, ${now}, ${now}, ${0}, ${0})`);
    for (let i = 0; i < job.patients.length; i += PATIENTS_PER_INSERT) {
      const rows = job.patients.slice(i, i + PATIENTS_PER_INSERT).map((p) => sql`(${job.id}, ${p})`);
      await tx.run(sql`INSERT INTO export_patient (job_id, patient_id) VALUES ${rows.reduce((acc, r) => sql`${acc}, ${r}`)}`);
    }
  });
}

export async function readJob(db: Queryer, id: string): Promise<ExportJob | undefined> {
  const row = await db.get<JobRow>(sql`SELECT * FROM export_job WHERE id = ${id}`);
  return row ? toJob(row) : undefined;
}

/** Takes the oldest job nobody holds (queued, or running under a lapsed lease); undefined when there is none. */
export async function claimJob(store: Store, owner: string, leaseMs: number): Promise<ExportJob | undefined> {
  const now = Date.now();
  const waiting = await store.reader.all<{ id: string }>(
    sql`SELECT id FROM export_job WHERE status IN (${'queued'}, ${'running'}) AND lease_until < ${now} ORDER BY created_at LIMIT 5`,
  );
  for (const { id } of waiting) {
    const job = await store.transaction(async (tx) => {
      const { changes } = await tx.run(sql`UPDATE export_job SET status = ${'running'}, lease_owner = ${owner}, lease_until = ${now + leaseMs},
        attempts = attempts + 1, updated_at = ${now} WHERE id = ${id} AND status IN (${'queued'}, ${'running'}) AND lease_until < ${now}`);
      return changes === 1 ? readJob(tx, id) : undefined;
    });
    if (job) return job;
  }
  return undefined;
}

/**
 * Inside a transaction: renews the lease and stores the checkpoint, only while the job is still this process's and
 * running; throws LeaseLost (rolling the transaction back) otherwise.
 */
export async function saveCheckpoint(tx: Queryer, jobId: string, owner: string, state: ExportState, leaseMs: number): Promise<void> {
  const now = Date.now();
  const { changes } = await tx.run(sql`UPDATE export_job SET state = ${JSON.stringify(state)}, lease_until = ${now + leaseMs}, updated_at = ${now}
    WHERE id = ${jobId} AND lease_owner = ${owner} AND status = ${'running'}`);
  if (changes !== 1) throw new LeaseLost(`export ${jobId} is no longer this process's`);
}

/** Inside the checkpoint's transaction: the job is done, its files kept until `expiresAt`. */
export async function markCompleted(tx: Queryer, jobId: string, owner: string, state: ExportState, retentionMs: number): Promise<void> {
  const now = Date.now();
  const { changes } = await tx.run(sql`UPDATE export_job SET status = ${'completed'}, state = ${JSON.stringify(state)}, lease_owner = NULL, lease_until = ${0},
    completed_at = ${now}, expires_at = ${now + retentionMs}, updated_at = ${now} WHERE id = ${jobId} AND lease_owner = ${owner} AND status = ${'running'}`);
  if (changes !== 1) throw new LeaseLost(`export ${jobId} is no longer this process's`);
}

/** Gives the job back (this process is stopping): another process, or this one restarted, resumes it at once. */
export async function releaseJob(store: Store, jobId: string, owner: string): Promise<void> {
  await store.transaction((tx) => tx.run(sql`UPDATE export_job SET lease_owner = NULL, lease_until = ${0}, updated_at = ${Date.now()}
    WHERE id = ${jobId} AND lease_owner = ${owner} AND status = ${'running'}`));
}

/** The job cannot finish: its status says why (an OperationOutcome), its files go, the job row stays until expiry. */
export async function markFailed(store: Store, jobId: string, outcome: string, retentionMs: number, owner?: string): Promise<void> {
  const now = Date.now();
  await store.transaction(async (tx) => {
    const held = owner === undefined ? sql`` : sql` AND lease_owner = ${owner}`;
    const { changes } = await tx.run(sql`UPDATE export_job SET status = ${'failed'}, outcome = ${outcome}, lease_owner = NULL, lease_until = ${0},
      completed_at = ${now}, expires_at = ${now + retentionMs}, updated_at = ${now} WHERE id = ${jobId} AND status IN (${'queued'}, ${'running'})${held}`);
    if (changes === 1) await deleteFiles(tx, jobId);
  });
}

/**
 * DELETE on the status URL: a queued or running job stops (its process notices at its next checkpoint), a completed
 * one's files go. False when there is no such job left to cancel.
 */
export async function cancelJob(store: Store, jobId: string, message: string, retentionMs: number): Promise<boolean> {
  const now = Date.now();
  return store.transaction(async (tx) => {
    const { changes } = await tx.run(sql`UPDATE export_job SET status = ${'cancelled'}, outcome = ${message}, lease_owner = NULL, lease_until = ${0},
      expires_at = ${now + retentionMs}, updated_at = ${now} WHERE id = ${jobId} AND status IN (${'queued'}, ${'running'}, ${'completed'})`);
    if (changes !== 1) return false;
    await deleteFiles(tx, jobId);
    return true;
  });
}

async function deleteFiles(tx: Queryer, jobId: string): Promise<void> {
  await tx.run(sql`DELETE FROM export_chunk WHERE job_id = ${jobId}`);
  await tx.run(sql`DELETE FROM export_file WHERE job_id = ${jobId}`);
}

/**
 * Removes jobs past their expiry, with their files, except while a download of them started in the last hour: the
 * specification asks that files a client is downloading not be deleted from under it. Returns how many went.
 */
export async function removeExpired(store: Store, now = Date.now()): Promise<number> {
  const expired = await store.reader.all<{ id: string }>(
    sql`SELECT id FROM export_job WHERE expires_at < ${now} AND (downloaded_at IS NULL OR downloaded_at < ${now - DOWNLOAD_GRACE_MS})`,
  );
  for (const { id } of expired) {
    await store.transaction(async (tx) => {
      await deleteFiles(tx, id);
      await tx.run(sql`DELETE FROM export_patient WHERE job_id = ${id}`);
      await tx.run(sql`DELETE FROM export_job WHERE id = ${id}`);
    });
  }
  return expired.length;
}

const DOWNLOAD_GRACE_MS = 3600_000;

export async function listFiles(db: Queryer, jobId: string): Promise<FileRow[]> {
  return db.all<FileRow>(sql`SELECT name, kind, resource_type, resources, bytes, chunks, complete FROM export_file WHERE job_id = ${jobId} ORDER BY kind, resource_type, name`);
}

export async function readChunk(db: Queryer, jobId: string, name: string, seq: number): Promise<Buffer | undefined> {
  const row = await db.get<{ data: Buffer | Uint8Array }>(sql`SELECT data FROM export_chunk WHERE job_id = ${jobId} AND name = ${name} AND seq = ${seq}`);
  return row ? Buffer.from(row.data) : undefined;
}

/** A download began: the files stay at least an hour past it, even past their expiry. */
export async function noteDownload(store: Store, jobId: string): Promise<void> {
  await store.transaction((tx) => tx.run(sql`UPDATE export_job SET downloaded_at = ${Date.now()} WHERE id = ${jobId}`));
}

/** Jobs queued before this one, for X-Progress. */
export async function jobsAhead(db: Queryer, job: ExportJob): Promise<number> {
  const row = await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM export_job WHERE status IN (${'queued'}, ${'running'}) AND created_at < ${job.createdAt}`);
  return Number(row?.n ?? 0);
}
