/**
 * The audit trail's writer: every access is queued in memory (a push, nothing more, on the request's path) and
 * written by a background flush, one database transaction per batch, so that auditing neither waits on nor holds the
 * request, and a write's own transaction stays as short as it was. An access is one row of the audit trail's own
 * table (audit-store.ts), a batch one bulk append (Store.appendRows: on SQLite one INSERT on a worker thread's
 * connection, off the event loop; on PostgreSQL one COPY). A clean shutdown flushes what is queued before the database closes
 * (close()); what a crash (kill -9) catches in the queue, at most one flush interval of accesses, is lost: that is
 * the price of not writing in the request's path.
 */
import type { Logger } from 'pino';
import type { Store } from '../storage/store.js';
import { newId, nextTimestamp } from '../repo/meta.js';
import { accessColumns, type AccessRecord } from './audit-event.js';
import { AUDIT_COLUMNS, auditValues } from './audit-store.js';

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
      const rows = batch.map((access) => auditValues({ id: newId(), lastUpdated, columns: accessColumns(access) }));
      await this.store.appendRows('audit_event', AUDIT_COLUMNS, rows);
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
