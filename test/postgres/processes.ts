/**
 * Real `stride serve` processes on one database, for the race tests: each process has its own connection pool and
 * its own event loop, so only the database can settle a race between them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { CLI, ROOT } from '../support/cli.js';
import type { Engine, EngineHandle } from '../support/engines.js';

export interface StrideProcess {
  baseUrl: string;
  /** What the process wrote to stderr (unexpected errors are logged there at level warn and above). */
  stderr(): string;
  stop(): Promise<void>;
}

export interface ProcessGroup {
  engine: Engine['name'];
  servers: StrideProcess[];
  /** The base URL of the k-th request's server: requests alternate between the processes. */
  at(k: number): string;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function spawnStride(env: Record<string, string>): Promise<StrideProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...env, STRIDE_PORT: String(port), STRIDE_HOST: '127.0.0.1', STRIDE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`stride serve exited early with ${code}: ${err}`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    stderr: () => err,
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
  const servers = await Promise.all(Array.from({ length: count }, () => spawnStride(handle.env)));
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
