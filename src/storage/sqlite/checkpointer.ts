/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold,
 * on the writer's thread: with better-sqlite3 that is the event loop, and its two fsyncs stall every request for tens
 * of milliseconds (measured: a quarter of a create's time). Here a second connection on a worker thread runs a
 * PASSIVE checkpoint (https://sqlite.org/c3ref/wal_checkpoint_v2.html), which never blocks the writer or readers,
 * at most every CHECKPOINT_INTERVAL_MS while writes arrive. The writer keeps SQLite's automatic checkpoint, at a
 * higher threshold, as the fallback that lets the WAL restart under a write load that never pauses. Durability is
 * unchanged: a checkpoint syncs the WAL before it copies pages into the database file.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const CHECKPOINT_INTERVAL_MS = 100;

/** The worker's whole program: CommonJS, given better-sqlite3's resolved path (it has no module resolution of its own). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 10000');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message) });
  }
});
`;

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
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, file: this.file } });
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
    // The worker is unref'd while it runs; waiting for its exit must keep the process alive, or a process with
    // nothing else to do ends here with an unsettled promise (exit code 13) instead of finishing close().
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('close');
    });
  }
}
