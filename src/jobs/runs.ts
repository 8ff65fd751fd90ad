/**
 * The job_run table's SQL (schema.ts), the same on both engines. A run of a schedule's slot is claimed by the INSERT of
 * its (job, slot) key, ON CONFLICT DO NOTHING: on PostgreSQL a second process's INSERT of the same key waits for the
 * first to commit and then inserts nothing, so one process wins whatever the timing. A run whose lease has lapsed (its
 * process died or stalled) is taken over by a compare-and-set UPDATE; the process running it renews its lease before
 * every step and stops (LeaseLost) as soon as the run is no longer its own.
 */
import type { Queryer, Store } from '../storage/store.js';
import { sql } from '../sql/sql.js';

export class LeaseLost extends Error {}

export type RunStatus = 'running' | 'done' | 'failed' | 'abandoned';

export interface RunRow {
  job: string;
  slot: number;
  manual: boolean;
  status: RunStatus;
  owner: string;
  leaseUntil: number;
  attempts: number;
  startedAt: number;
  finishedAt?: number;
  summary?: string;
  taskId?: string;
}

interface RawRun {
  job: string;
  slot: number | string;
  manual: number | string;
  status: RunStatus;
  owner: string;
  lease_until: number | string;
  attempts: number | string;
  started_at: number | string;
  finished_at: number | string | null;
  summary: string | null;
  task_id: string | null;
}

function toRun(r: RawRun): RunRow {
  return {
    job: r.job,
    slot: Number(r.slot),
    manual: Number(r.manual) === 1,
    status: r.status,
    owner: r.owner,
    leaseUntil: Number(r.lease_until),
    attempts: Number(r.attempts),
    startedAt: Number(r.started_at),
    ...(r.finished_at !== null ? { finishedAt: Number(r.finished_at) } : {}),
    ...(r.summary !== null ? { summary: r.summary } : {}),
    ...(r.task_id !== null ? { taskId: r.task_id } : {}),
  };
}

export interface RunClaim {
  job: string;
  slot: number;
  manual: boolean;
  owner: string;
  now: number;
  leaseMs: number;
}

/** 'new': this process runs the slot; 'resumed': it takes over a run whose lease lapsed; 'taken': someone else has it. */
export async function claimRun(store: Store, c: RunClaim): Promise<{ outcome: 'new' | 'resumed' | 'taken'; run?: RunRow }> {
  return store.transaction(async (tx) => {
    const inserted = await tx.run(sql`INSERT INTO job_run (job, slot, manual, status, owner, lease_until, attempts, started_at)
      VALUES (${c.job}, ${c.slot}, ${c.manual ? 1 : 0}, ${'running'}, ${c.owner}, ${c.now + c.leaseMs}, ${1}, ${c.now}) ON CONFLICT (job, slot) DO NOTHING`);
    let outcome: 'new' | 'resumed' | 'taken' = inserted.changes === 1 ? 'new' : 'taken';
    if (outcome === 'taken') {
      const took = await tx.run(sql`UPDATE job_run SET owner = ${c.owner}, lease_until = ${c.now + c.leaseMs}, attempts = attempts + 1
        WHERE job = ${c.job} AND slot = ${c.slot} AND status = ${'running'} AND lease_until < ${c.now}`);
      if (took.changes === 1) outcome = 'resumed';
    }
    if (outcome === 'taken') return { outcome };
    return { outcome, run: toRun((await tx.get<RawRun>(sql`SELECT * FROM job_run WHERE job = ${c.job} AND slot = ${c.slot}`))!) };
  });
}

/** The latest run of a job left running under a lapsed lease (its process died), if any. */
export async function lapsedRun(db: Queryer, job: string, now: number): Promise<RunRow | undefined> {
  const r = await db.get<RawRun>(sql`SELECT * FROM job_run WHERE job = ${job} AND status = ${'running'} AND lease_until < ${now} ORDER BY slot DESC LIMIT 1`);
  return r ? toRun(r) : undefined;
}

/**
 * Runs of a job older than `slot` left running under a lapsed lease: a newer slot's run does their work (every step
 * is idempotent), so they are closed as abandoned rather than run late.
 */
export async function abandonOlder(store: Store, job: string, slot: number, now: number): Promise<number> {
  const { changes } = await store.transaction((tx) =>
    tx.run(sql`UPDATE job_run SET status = ${'abandoned'}, finished_at = ${now} WHERE job = ${job} AND slot < ${slot} AND status = ${'running'} AND lease_until < ${now}`),
  );
  return changes;
}

/** Renews the run's lease inside `tx`; LeaseLost when it is no longer this owner's. */
export async function renewRun(tx: Queryer, job: string, slot: number, owner: string, now: number, leaseMs: number): Promise<void> {
  const { changes } = await tx.run(sql`UPDATE job_run SET lease_until = ${now + leaseMs} WHERE job = ${job} AND slot = ${slot} AND owner = ${owner} AND status = ${'running'}`);
  if (changes !== 1) throw new LeaseLost(`the run of job ${job} at ${new Date(slot).toISOString()} is no longer this process's`);
}

export async function setRunTask(store: Store, job: string, slot: number, taskId: string): Promise<void> {
  await store.transaction((tx) => tx.run(sql`UPDATE job_run SET task_id = ${taskId} WHERE job = ${job} AND slot = ${slot}`));
}

/** Closes the run (done or failed) with its summary, while it is still this owner's. */
export async function finishRun(tx: Queryer, job: string, slot: number, owner: string, status: 'done' | 'failed', summary: string, now: number): Promise<void> {
  const { changes } = await tx.run(sql`UPDATE job_run SET status = ${status}, summary = ${summary}, finished_at = ${now}, lease_until = ${0}
    WHERE job = ${job} AND slot = ${slot} AND owner = ${owner} AND status = ${'running'}`);
  if (changes !== 1) throw new LeaseLost(`the run of job ${job} at ${new Date(slot).toISOString()} is no longer this process's`);
}

/** A job's runs, latest first. */
export async function listRuns(db: Queryer, job: string, limit = 20): Promise<RunRow[]> {
  const rows = await db.all<RawRun>(sql`SELECT * FROM job_run WHERE job = ${job} ORDER BY slot DESC LIMIT ${limit}`);
  return rows.map(toRun);
}
