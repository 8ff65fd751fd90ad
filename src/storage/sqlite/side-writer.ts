/**
 * Writes that need not be on the event loop, on a worker thread's own connection: better-sqlite3 runs every statement
 * synchronously on the thread that calls it, so the audit trail's INSERTs (a current row, a history row and nine
 * index rows an access: ~70 us of SQLite per read served, measured) took the event loop a quarter of what the read
 * itself took. Here the event loop only renders the statements and posts them; the worker runs each batch in one
 * transaction (all or nothing) and answers. The store hands the worker a batch only between its own write
 * transactions (sqlite-store.ts writeAside), so the writer never waits on the worker's lock, nor the worker on the
 * writer's; another process's writer is waited for as always (busy_timeout).
 */
import type { Worker } from 'node:worker_threads';
import { startWorkerConnection, stopWorkerConnection } from './worker-connection.js';

const PROGRAM = {
  setup: `db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 16000');
const statements = new Map();
function prepare(text) {
  let stmt = statements.get(text);
  if (!stmt) {
    stmt = db.prepare(text);
    if (statements.size > 200) statements.clear();
    statements.set(text, stmt);
  }
  return stmt;
}`,
  onMessage: `try {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const [text, params] of message.statements) prepare(text).run(...params);
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
    parentPort.postMessage({ id: message.id, ok: true });
  } catch (err) {
    parentPort.postMessage({ id: message.id, ok: false, message: String(err && err.message) });
  }`,
};

/** A statement as the worker runs it: SQLite text and its parameters. */
export type RenderedStatement = [text: string, params: unknown[]];

export class SideWriter {
  private worker?: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(
    private readonly file: string,
    private readonly synchronous: string,
  ) {}

  /** Runs the statements in one transaction on the worker's connection; resolves once it committed. */
  write(statements: RenderedStatement[]): Promise<void> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Kept alive while a batch is out: a clean shutdown waits for it.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ id, statements });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorkerConnection(this.file, PROGRAM, { synchronous: this.synchronous });
    worker.on('message', (reply: { id: number; ok: boolean; message?: string }) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) waiter?.resolve();
      else waiter?.reject(new Error(`side write failed: ${reply.message}`));
    });
    // A worker that dies fails what it held (the caller retries: the audit log queues the batch again) and is
    // started afresh at the next write.
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', () => this.fail(worker, new Error('side writer stopped')));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private fail(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  /** Stops the worker once it has answered what it was given, and closes its connection. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    await stopWorkerConnection(worker);
  }
}
