/**
 * The audit trail's writer: every access is queued in memory (a push, nothing more, on the request's path) and
 * written as AuditEvents in batches by a background flush, one database transaction per batch, so that auditing
 * neither waits on nor holds the request, and a write's own transaction stays as short as it was. A batch is a few
 * multi-row INSERTs (current and history rows, index rows): the events are built by Stride from one fixed shape
 * (audit-event.ts, whose tests validate it and check its index rows against the indexer's), never updated, and no
 * bot acts on them, so they skip the repository's per-resource path (validation, FHIRPath indexing, write hooks),
 * which cost more than the access they record. A clean shutdown
 * flushes what is queued before the database closes (close()); what a crash (kill -9) catches in the queue, at most
 * one flush interval of accesses, is lost: that is the price of not writing in the request's path.
 */
import type { Logger } from 'pino';
import type { Store } from '../storage/store.js';
import type { Indexer } from '../search/types.js';
import { join, sql } from '../sql/sql.js';
import { newId, nextTimestamp, stamp } from '../repo/meta.js';
import { auditIndexRows, toAuditEvent, type AccessRecord } from './audit-event.js';

/** Rows per INSERT: 6 parameters a row, well under both engines' parameter limits. */
const ROWS_PER_INSERT = 250;

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
    private readonly indexer: Indexer,
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
      const rows = batch.map((access) => {
        const event = toAuditEvent(access, 'Stride');
        const id = newId();
        const time = nextTimestamp();
        return { id, time, json: stamp(event, id, 1, time).json, index: auditIndexRows(event) };
      });
      await this.store.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
          const values = join(rows.slice(i, i + ROWS_PER_INSERT).map((r) => sql`(${'AuditEvent'}, ${r.id}, ${1}, ${r.time}, ${0}, ${r.json})`), ', ');
          await tx.run(sql`INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content) VALUES ${values}`);
          await tx.run(sql`INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content) VALUES ${values}`);
        }
        await this.indexer.insert(tx, rows.map((r) => ({ resourceType: 'AuditEvent', id: r.id, rows: r.index })));
      });
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
