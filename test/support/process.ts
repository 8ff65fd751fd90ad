/** A real `stride serve` process on a free port (through tsx, so no build is needed), for end-to-end tests. */
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT } from './cli.js';

export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

/** Starts `stride serve` with `env` (STRIDE_DATA_DIR or STRIDE_DATABASE_URL) and resolves once it listens. */
export async function startServerProcess(env: Record<string, string>, port?: number): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, STRIDE_LOG_LEVEL: 'warn', ...env, STRIDE_PORT: String(p), STRIDE_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (output.includes('listening')) resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`stride serve exited early (${code ?? signal}):\n${output}`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${p}/fhir`,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
