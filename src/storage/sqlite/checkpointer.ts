/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold,
 * on the writer's thread: with better-sqlite3 that is the event loop, and its two fsyncs stall every request for tens
 * of milliseconds (measured: a quarter of a create's time). Here a second connection on a worker thread runs a
 * PASSIVE checkpoint (https://sqlite.org/c3ref/wal_checkpoint_v2.html), which never blocks the writer or readers,
 * at most every CHECKPOINT_INTERVAL_MS while writes arrive. The writer keeps SQLite's automatic checkpoint, at a
 * higher threshold, as the fallback that lets the WAL restart under a write load that never pauses. Durability is
 * unchanged: a checkpoint syncs the WAL before it copies pages into the database file.
 */
import type { Worker } from 'node:worker_threads';
import { startWorkerConnection, stopWorkerConnection } from './worker-connection.js';

const CHECKPOINT_INTERVAL_MS = 100;

const PROGRAM = {
  onMessage: `try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message) });
  }`,
};

export class Checkpointer {
  private worker?: Worker;
  private running = false;
  private lastStarted = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly file: string) {}

  /** Called after every commit: checkpoints soon, off the event loop. */
  afterCommit(): void {
    if (this.closed || this.running || this.timer) return;
    const wait = this.lastStarted + CHECKPOINT_INTERVAL_MS - Date.now();
    if (wait <= 0) this.start();
    else this.timer = setTimeout(() => this.start(), wait).unref();
  }

  private start(): void {
    this.timer = undefined;
    if (this.closed) return;
    this.running = true;
    this.lastStarted = Date.now();
    this.ensureWorker().postMessage('checkpoint');
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorkerConnection(this.file, PROGRAM);
    // A failed checkpoint is retried after the next commit. A worker that dies is not replaced: the writer's own
    // automatic checkpoint takes over.
    worker.on('message', () => (this.running = false));
    worker.on('error', () => {
      this.closed = true;
      this.worker = undefined;
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Stops the worker and closes its connection; the writer's own close then checkpoints what is left. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    await stopWorkerConnection(worker);
  }
}
