/**
 * What every bench module shares: the run's options, fresh databases, server child processes, and how figures are
 * reported. Servers run in their own processes so the load generator never shares their event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with: a ceiling measured in the same run, or a fixed target. */
  against: number;
  againstLabel: string;
  /** Higher is better (throughput) or lower is better (latency). */
  better: 'higher' | 'lower';
  /** The ratio to print when it is not value/against (e.g. the median of paired rounds). */
  ratio?: number;
  /** The ratio the goal asks for: 0.85 for "85% of the ceiling"; 1 (default) for a target. */
  goal?: number;
  note?: string;
}

export interface BenchOptions {
  db: 'sqlite' | 'postgres';
  quick: boolean;
  /** Directory for V8 CPU profiles of every Stride child (--cpu-prof DIR); none when undefined. */
  cpuProfDir?: string;
}

export interface BenchContext extends BenchOptions {
  /** A fresh, empty database for one Stride process: its environment, and how to drop it. */
  freshDatabase(): Promise<Database>;
  /** Prints a progress line (stderr, with seconds since the run started). */
  log(message: string): void;
}

export interface Database {
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A named group of figures; run.ts runs the modules in order. */
export interface BenchModule {
  name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PG_ADMIN = process.env.STRIDE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function createContext(options: BenchOptions): BenchContext {
  const started = performance.now();
  return {
    ...options,
    log: (message) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`),
    freshDatabase: () => (options.db === 'sqlite' ? freshSqlite() : freshPostgres()),
  };
}

async function freshSqlite(): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-bench-'));
  return { env: { STRIDE_DATA_DIR: dir }, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function freshPostgres(): Promise<Database> {
  const name = `stride_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = async (text: string): Promise<void> => {
    const client = new pg.Client({ connectionString: PG_ADMIN });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return { env: { STRIDE_DATABASE_URL: url.toString() }, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export interface Child {
  port: number;
  /** The process id, for reading its memory from /proc. */
  pid?: number;
  /** CPU time the process has used so far (user + system, all threads), in ms; undefined off Linux. */
  cpuMs(): number | undefined;
  /** CPU time of its main thread alone (the event loop, which every request waits on), in ms; undefined off Linux. */
  eventLoopCpuMs(): number | undefined;
  stop(): Promise<void>;
}

/**
 * utime + stime of a process from /proc (clock ticks, 100 per second on Linux); of its main thread alone (whose
 * thread id is the process id) with `mainThread`.
 */
function processCpuMs(pid: number | undefined, mainThread = false): number | undefined {
  try {
    const stat = fs.readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** A process's resident memory in MB (/proc; NaN off Linux). */
export function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples the child's resident memory every 10 ms while `work` runs; returns the highest. */
export async function peakRss<T>(child: Child, work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peakMb = rssMb(child.pid);
  const timer = setInterval(() => (peakMb = Math.max(peakMb, rssMb(child.pid))), 10);
  try {
    return { result: await work(), peakMb: Math.max(peakMb, rssMb(child.pid)) };
  } finally {
    clearInterval(timer);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startChild(script: string, args: string[], env: Record<string, string>, readyPath: string, nodeArgs: string[] = []): Promise<Child> {
  const port = await freePort();
  // stdout (Stride's request log) goes to /dev/null: the server still formats every line, as in production, but no
  // pipe is drained by this process and no disk is written. stderr stays visible for crashes.
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(DIST, script), ...args], {
    env: { ...process.env, STRIDE_LOG_LEVEL: 'info', ...env, STRIDE_HOST: '127.0.0.1', STRIDE_PORT: String(port), BENCH_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${script} exited before it answered`);
    if (await get(port, readyPath)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    pid: child.pid,
    cpuMs: () => processCpuMs(child.pid),
    eventLoopCpuMs: () => processCpuMs(child.pid, true),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        // A graceful stop (SIGTERM) lets a CPU profile be written; a child that hangs is killed after 10 s.
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** The node flags `npm start` runs the server with (package.json), so that the bench measures the server as shipped. */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(DIST, '..', 'package.json'), 'utf8')) as { scripts: { start: string } };
  const match = /\bnode((?:\s+--\S+)*)\s+dist\/src\/cli\/main\.js serve/.exec(pkg.scripts.start);
  if (!match) throw new Error(`bench: package.json's start script is not "node [flags] dist/src/cli/main.js serve": ${pkg.scripts.start}`);
  return match[1].split(/\s+/).filter(Boolean);
}

/** Stride as `npm start` runs it: `node [its flags] dist/src/cli/main.js serve`, request log at info level. */
export function startStride(ctx: BenchContext, env: Record<string, string>): Promise<Child> {
  const nodeArgs = [...serverNodeFlags(), ...(ctx.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfDir}`] : [])];
  return startChild('src/cli/main.js', ['serve'], env, '/fhir/metadata', nodeArgs);
}

/** A bare express 5 app answering GET with the bytes in `bodyFile`, on the same node flags: the ceiling for read-by-id. */
export function startBareExpress(bodyFile: string): Promise<Child> {
  return startChild('test/bench/bare-express.js', [bodyFile], {}, '/fhir/Patient/ready', serverNodeFlags());
}

/** One request on a fresh connection (Connection: close, so no socket outlives it); resolves status and body. */
export function send(port: number, method: string, urlPath: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // The caller's headers (lower case) win over the defaults: an X12 body goes as application/edi-x12.
    const all = { connection: 'close', ...(body !== undefined ? { 'content-type': 'application/fhir+json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers };
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: all }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function get(port: number, urlPath: string): Promise<boolean> {
  return send(port, 'GET', urlPath).then(
    (r) => r.status === 200,
    () => false,
  );
}

/** Runs `work` and returns its result with the CPU time `child` spent meanwhile, in ms (NaN off Linux). */
export async function withCpu<T>(child: Child, work: () => Promise<T>): Promise<{ result: T; cpuMs: number; eventLoopCpuMs: number }> {
  const before = [child.cpuMs(), child.eventLoopCpuMs()];
  const result = await work();
  const after = [child.cpuMs(), child.eventLoopCpuMs()];
  const spent = (i: number): number => (before[i] === undefined || after[i] === undefined ? NaN : after[i]! - before[i]!);
  return { result, cpuMs: spent(0), eventLoopCpuMs: spent(1) };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function ratioOf(f: Figure): number {
  return f.ratio ?? (f.better === 'higher' ? f.value / f.against : f.against / f.value);
}

export function formatFigures(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const ratio = ratioOf(f);
    const goal = f.goal ?? 1;
    return [f.name, `${round(f.value)} ${f.unit}`, `${round(f.against)} ${f.unit}`, f.againstLabel, `${(ratio * 100).toFixed(0)}%`, `>= ${(goal * 100).toFixed(0)}%`, ratio >= goal ? 'met' : 'BELOW', f.note ?? ''];
  });
  const header = ['figure', 'value', 'ceiling/target', 'against', 'ratio', 'goal', '', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function round(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** The server's peak memory during an operation, against its memory before it (lower is better). */
export function peakMemoryFigure(what: string, peakMb: number, baseMb: number): Figure {
  return { name: `${what}, server peak memory`, value: peakMb, unit: 'MB', against: baseMb, againstLabel: 'the server before it', better: 'lower', note: `grew ${(peakMb - baseMb).toFixed(0)} MB` };
}

/** An entry of a transaction Bundle a bench module loads its data with. */
export interface BundleEntry {
  fullUrl?: string;
  resource: Record<string, unknown> & { resourceType: string };
  request: { method: string; url: string };
}

/** Posts a transaction Bundle of these entries; its response entries (a bench's data load: refused is an error). */
export async function postTransaction(port: number, entry: BundleEntry[], what: string): Promise<Array<{ response: { location: string } }>> {
  const r = await send(port, 'POST', '/fhir', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }));
  if (r.status !== 200) throw new Error(`${what} bench: load refused: ${r.status} ${r.text.slice(0, 300)}`);
  return JSON.parse(r.text).entry;
}
