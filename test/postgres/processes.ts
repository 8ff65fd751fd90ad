/**
 * Real `stride serve` processes on one database, for the race tests: each process has its own connection pool and
 * its own event loop, so only the database can settle a race between them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT } from '../support/cli.js';
import type { Engine, EngineHandle } from '../support/engines.js';

export interface StrideProcess {
  baseUrl: string;
  /** What the process logged (level warn and above: unexpected errors with their stack), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface ProcessGroup {
  engine: Engine['name'];
  servers: StrideProcess[];
  /** The base URL of the k-th request's server: requests alternate between the processes. */
  at(k: number): string;
  close(): Promise<void>;
}

export async function spawnStride(env: Record<string, string>): Promise<StrideProcess> {
  // Port 0: the process takes a free port itself and prints it, so two processes started at once cannot collide.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...env, STRIDE_PORT: '0', STRIDE_HOST: '127.0.0.1', STRIDE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d) => (err += d));
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening at http:\/\/[^:/]+:(\d+)\//.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`stride serve exited early with ${code}: ${err}`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    log: () => out + err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Starts `count` processes at once on one fresh database (so their start-up migrations race too). */
export async function startProcesses(engine: Engine, count: number): Promise<ProcessGroup> {
  const handle: EngineHandle = await engine.create();
  const started = await Promise.allSettled(Array.from({ length: count }, () => spawnStride(handle.env)));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    // Leave no process behind when one of them could not start.
    await Promise.all(servers.map((s) => s.stop()));
    await handle.dispose();
    throw failed.reason;
  }
  return {
    engine: engine.name,
    servers,
    at: (k) => servers[k % servers.length].baseUrl,
    async close() {
      await Promise.all(servers.map((s) => s.stop()));
      await handle.dispose();
    },
  };
}
