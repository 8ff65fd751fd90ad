/** Servers for the bench, each in its own process so that the load generator does not share their event loop. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Child {
  port: number;
  stop(): Promise<void>;
}

async function start(script: string, args: string[], env: Record<string, string>, readyPath: string): Promise<Child> {
  const port = await freePort();
  // The server's output (the request log) goes to a file: draining a pipe would cost the load generator's CPU.
  const log = fs.openSync(path.join(os.tmpdir(), `stride-bench-${port}.log`), 'w');
  const child: ChildProcess = spawn(process.execPath, [path.join(DIST, script), ...args], {
    env: { ...process.env, ...env, STRIDE_PORT: String(port), BENCH_PORT: String(port) },
    stdio: ['ignore', log, 'inherit'],
  });
  fs.closeSync(log);
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${script} exited before it answered`);
    const ok = await fetch(`http://127.0.0.1:${port}${readyPath}`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Stride as `npm start` runs it (the request log at info level goes to a drained pipe). */
export function startStride(env: Record<string, string>): Promise<Child> {
  return start('src/cli/main.js', ['serve'], env, '/fhir/metadata');
}

/** A bare express 5 app answering GET with fixed bytes: the ceiling for read-by-id. */
export function startBareExpress(bodyFile: string): Promise<Child> {
  return start('test/bench/bare-express.js', [bodyFile], {}, '/fhir/Patient/ready');
}
