/**
 * The job_message table's SQL (schema.ts): one row per message a job sends, keyed by invoice and step. A message is
 * reserved (status `sending`) in a committed transaction that also renews the run's lease, before it is handed to
 * SMTP; after the SMTP server's answer, the row becomes `sent` or `failed` in the transaction that writes its
 * Communication. A key that is `sent` is never sent again, by any run or process; a `failed` one is tried again by a
 * later run; a `sending` one whose lease lapsed (its process died while sending) is sent again with the same
 * Message-ID: the one case where a copy could arrive twice is a process killed between the SMTP server's "250 OK" and
 * that commit (src/jobs/README.md).
 */
import type { Queryer, Store } from '../storage/store.js';
import { sql } from '../sql/sql.js';
import { renewRun } from './runs.js';

export interface Reservation {
  key: string;
  job: string;
  /** The Invoice (Invoice/x) it is about, and the step: statement, reminder-1, reminder-2 ... */
  subject: string;
  step: string;
}

export interface RunLease {
  job: string;
  slot: number;
  owner: string;
  now: number;
  leaseMs: number;
}

/** 'reserved': send it now; 'done': sent already; 'busy': another process is sending it right now. */
export async function reserveMessage(store: Store, m: Reservation, lease: RunLease): Promise<'reserved' | 'done' | 'busy'> {
  return store.transaction(async (tx) => {
    await renewRun(tx, lease.job, lease.slot, lease.owner, lease.now, lease.leaseMs);
    const until = lease.now + lease.leaseMs;
    const inserted = await tx.run(sql`INSERT INTO job_message (message_key, job, subject, step, status, owner, lease_until, attempted_at)
      VALUES (${m.key}, ${m.job}, ${m.subject}, ${m.step}, ${'sending'}, ${lease.owner}, ${until}, ${lease.now}) ON CONFLICT (message_key) DO NOTHING`);
    if (inserted.changes === 1) return 'reserved';
    const retried = await tx.run(sql`UPDATE job_message SET status = ${'sending'}, owner = ${lease.owner}, lease_until = ${until}, attempted_at = ${lease.now}, reason = ${null}
      WHERE message_key = ${m.key} AND (status = ${'failed'} OR (status = ${'sending'} AND lease_until < ${lease.now}))`);
    if (retried.changes === 1) return 'reserved';
    const row = await tx.get<{ status: string }>(sql`SELECT status FROM job_message WHERE message_key = ${m.key}`);
    return row?.status === 'sent' ? 'done' : 'busy';
  });
}

export async function markMessage(tx: Queryer, key: string, owner: string, result: { sentAt?: number; reason?: string; communicationId: string }): Promise<void> {
  const status = result.sentAt !== undefined ? 'sent' : 'failed';
  await tx.run(sql`UPDATE job_message SET status = ${status}, sent_at = ${result.sentAt ?? null}, reason = ${result.reason ?? null}, communication_id = ${result.communicationId}, lease_until = ${0}
    WHERE message_key = ${key} AND owner = ${owner}`);
}

/** When each step of each Invoice was sent: Invoice/x -> step -> epoch ms. */
export async function sentSteps(db: Queryer): Promise<Map<string, Map<string, number>>> {
  const rows = await db.all<{ subject: string; step: string; sent_at: number | string }>(sql`SELECT subject, step, sent_at FROM job_message WHERE status = ${'sent'}`);
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const steps = out.get(r.subject) ?? new Map<string, number>();
    steps.set(r.step, Number(r.sent_at));
    out.set(r.subject, steps);
  }
  return out;
}
