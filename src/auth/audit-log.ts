/**
 * The audit trail's writer: every access is queued in memory (a push, nothing more, on the request's path) and
 * written as AuditEvents in batches by a background flush, one database transaction per batch, so that auditing
 * neither waits on nor holds the request, and a write's own transaction stays as short as it was. On SQLite the
 * batch's INSERTs run on a worker thread's connection (Store.writeAside): there SQLite's own work was ~70 us an
 * access on the event loop, about a quarter of a read by id. A batch is a few
 * multi-row INSERTs (current and history rows, index rows): the events are built by Stride from one fixed shape
 * (audit-event.ts, whose tests validate it and check its index rows against the indexer's), never updated, and no
 * bot acts on them, so they skip the repository's per-resource path (validation, FHIRPath indexing, write hooks),
 * which cost more than the access they record. A clean shutdown
 * flushes what is queued before the database closes (close()); what a crash (kill -9) catches in the queue, at most
 * one flush interval of accesses, is lost: that is the price of not writing in the request's path.
 */
import type { Logger } from 'pino';
import type { Queryer, Store } from '../storage/store.js';
import { chunks, insertIndexRows } from '../search/indexer.js';
import { fragments, type Dialect, type Sql } from '../sql/sql.js';
import { newId, nextTimestamp } from '../repo/meta.js';
import { auditIndexRows, toAuditEvent, type AccessRecord } from './audit-event.js';

/**
 * Rows per INSERT, largest first (indexer.ts chunks), where the engine runs single-row INSERTs fastest and prepares
 * each statement text once (SQLite): a batch is cut into statements of these sizes, so that it prepares a few texts,
 * whatever the batch's size. 64 rows of 7 parameters stay well under its parameter limit. Elsewhere (PostgreSQL, where
 * each statement is a round trip) the dialect's rows per INSERT, the last statement taking the rest.
 */
const SQLITE_ROW_SIZES = [64, 8, 1];

function rowSizes(dialect: Dialect): number[] {
  return dialect.rowsPerInsert > 1 ? [dialect.rowsPerInsert] : SQLITE_ROW_SIZES;
}

interface EventRow {
  id: string;
  time: number;
  json: string;
}

/** `INSERT INTO <table> (...) VALUES (...), (...)` of AuditEvent version 1 rows, built in one pass. */
function insertEvents(table: 'resource' | 'resource_history', rows: readonly EventRow[]): Sql {
  const strings: string[] = [`INSERT INTO ${table} (resource_type, id, version_id, last_updated, deleted, content) VALUES ('AuditEvent', `];
  const values: unknown[] = [];
  rows.forEach((r, i) => {
    if (i > 0) strings[strings.length - 1] += ", ('AuditEvent', ";
    values.push(r.id, r.time, r.json);
    strings.push(', 1, ', ', 0, ', ')');
  });
  return fragments(strings, values);
}

/** A Queryer that keeps the statements it is given (the index rows' INSERTs), to run them with the others. */
function collector(statements: Sql[]): Queryer {
  const noReads = (): Promise<never> => Promise.reject(new Error('the audit log writes only'));
  return { all: noReads, get: noReads, run: async (query) => (statements.push(query), { changes: 0 }) };
}

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
      const rows = batch.map((access) => {
        const id = newId();
        const time = nextTimestamp();
        const event = toAuditEvent(access, 'Stride', { id, lastUpdated: time });
        return { id, time, json: JSON.stringify(event), resourceType: 'AuditEvent', rows: auditIndexRows(event) };
      });
      const statements: Sql[] = [];
      const dialect = this.store.dialect;
      const sizes = rowSizes(dialect);
      for (const [from, to] of chunks(rows.length, sizes)) {
        const some = rows.slice(from, to);
        statements.push(insertEvents('resource', some), insertEvents('resource_history', some));
      }
      await insertIndexRows(collector(statements), dialect, rows, sizes);
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
