/**
 * The audit trail's writer: every access is queued in memory (a push, nothing more, on the request's path) and
 * written by a background flush, one database transaction per batch, so that auditing neither waits on nor holds the
 * request, and a write's own transaction stays as short as it was. An access is one row of the audit trail's own
 * table (audit-store.ts), a few multi-row INSERTs a batch; on SQLite they run on a worker thread's connection
 * (Store.writeAside), off the event loop. A clean shutdown flushes what is queued before the database closes
 * (close()); what a crash (kill -9) catches in the queue, at most one flush interval of accesses, is lost: that is
 * the price of not writing in the request's path.
 */
import type { Logger } from 'pino';
import type { Queryer, Store } from '../storage/store.js';
import type { Sql } from '../sql/sql.js';
import { newId, nextTimestamp } from '../repo/meta.js';
import { accessFacts, type AccessRecord } from './audit-event.js';
import { AUDIT_ROWS_PER_INSERT, insertAuditRows, type AuditRow } from './audit-store.js';

async function runAll(tx: Queryer, statements: readonly Sql[]): Promise<void> {
  for (const statement of statements) await tx.run(statement);
}

export interface AuditLogOptions {
  /** Milliseconds between flushes while accesses are queued. */
  intervalMs?: number;
  /** A flush starts at once when this many are queued. */
  batchSize?: number;
}

export class AuditLog {
  private queue: AccessRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly intervalMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    options: AuditLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 200;
    this.batchSize = options.batchSize ?? 500;
  }

  record(access: AccessRecord): void {
    this.queue.push(access);
    if (this.queue.length >= this.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Writes everything queued so far (after any flush under way). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: AccessRecord[]): Promise<void> {
    try {
      const lastUpdated = nextTimestamp();
      const rows: AuditRow[] = batch.map((access) => ({ id: newId(), lastUpdated, facts: accessFacts(access), query: access.query, patient: access.patient || undefined }));
      const statements: Sql[] = [];
      for (let i = 0; i < rows.length; i += AUDIT_ROWS_PER_INSERT) statements.push(insertAuditRows(rows.slice(i, i + AUDIT_ROWS_PER_INSERT)));
      if (this.store.writeAside) await this.store.writeAside(statements);
      else await this.store.transaction(async (tx) => void (await runAll(tx, statements)));
    } catch (err) {
      // The batch goes back to the queue for the next flush: an audit record is not dropped on a passing failure.
      this.logger.error({ err, accesses: batch.length }, 'audit events could not be written; retrying');
      this.queue.unshift(...batch);
      this.timer ??= setTimeout(() => void this.flush(), this.intervalMs * 5).unref();
    }
  }

  /** Flushes until nothing is queued (a clean shutdown). */
  async close(): Promise<void> {
    for (let i = 0; i < 5 && (this.queue.length > 0 || this.timer); i++) await this.flush();
    await this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
