/**
 * A worker thread with its own connection to the SQLite file, for work that must not run on the event loop (the WAL
 * checkpointer, the audit trail's side writer): better-sqlite3 runs every statement synchronously on the thread that
 * calls it. The worker's program is CommonJS source (a worker cannot load this project's TypeScript under the test
 * runner), given better-sqlite3's resolved path; it opens the file, runs `setup`, then `onMessage` for each message
 * but 'close', which closes the connection and ends the worker.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

export interface WorkerProgram {
  /** Statements run once after the connection opens (`db` is the connection, `workerData` the settings). */
  setup?: string;
  /** The body of the message handler (`message` is what was posted, `parentPort` answers). */
  onMessage: string;
}

export function startWorkerConnection(file: string, program: WorkerProgram, settings: Record<string, unknown> = {}): Worker {
  const source = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 10000');
${program.setup ?? ''}
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  ${program.onMessage}
});
`;
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Worker(source, { eval: true, workerData: { ...settings, module, file } });
}

/**
 * Ends the worker once it has answered what it was given, its connection closed. The worker is kept referenced while
 * it ends: a process with nothing else to do would otherwise exit here with an unsettled promise (exit code 13).
 */
export async function stopWorkerConnection(worker: Worker): Promise<void> {
  worker.ref();
  await new Promise<void>((resolve) => {
    worker.once('exit', () => resolve());
    worker.postMessage('close');
  });
}
