/**
 * `npm run bench [-- --db postgres] [-- --quick] [-- --only read,create] [-- --cpu-prof DIR]`: prints Stride's
 * figures beside ceilings measured in the same run or beside their targets (DESIGN §8). A script, not a timed test:
 * nothing here passes or fails. Progress goes to stderr, the tables to stdout. `--db postgres` runs every module on
 * PostgreSQL and then on SQLite, and adds a table of each PostgreSQL figure as a ratio of SQLite's (issue 4).
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createContext, formatFigures, type BenchModule, type Figure } from './harness.js';
import { readBench } from './read.js';
import { createBench } from './create.js';
import { ingestBench } from './ingest.js';
import { validateBench } from './validate.js';
import { botsBench } from './bots.js';
import { searchBench } from './search.js';
import { exportBench } from './export.js';
import { viewsBench } from './views.js';
import { submitBench } from './submit.js';
import { remitBench } from './remit.js';
import { agingBench } from './aging.js';
import { authBench } from './auth.js';
import { jobsBench } from './jobs.js';

/** Bench modules in run order; add a module (one file, one BenchModule) here to add figures. */
const MODULES: BenchModule[] = [readBench, createBench, ingestBench, validateBench, botsBench, searchBench, exportBench, viewsBench, submitBench, remitBench, agingBench, authBench, jobsBench];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const db = arg('--db') ?? 'sqlite';
  if (db !== 'sqlite' && db !== 'postgres') throw new Error(`--db takes sqlite or postgres, not ${db}`);
  const only = arg('--only')?.split(',');
  const unknown = only?.filter((n) => !MODULES.some((m) => m.name === n));
  if (unknown?.length) throw new Error(`--only: no bench module ${unknown.join(', ')}; there are ${MODULES.map((m) => m.name).join(', ')}`);
  const cpuProfDir = arg('--cpu-prof') && path.resolve(arg('--cpu-prof') as string);
  if (cpuProfDir) fs.mkdirSync(cpuProfDir, { recursive: true });
  const quick = process.argv.includes('--quick');
  const cpus = os.cpus();
  const header = [
    `Stride bench: ${db === 'postgres' ? 'postgres, then sqlite for comparison' : db}${quick ? ', quick' : ''}`,
    `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${os.platform()} ${os.release()}`,
    `load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes compete for the same cores)`,
    'server: node dist/src/cli/main.js serve in a child process, request log at info level to /dev/null; client: raw keep-alive sockets in this process',
  ];
  process.stdout.write(`${header.join('\n')}\n`);
  const engines: Array<'sqlite' | 'postgres'> = db === 'postgres' ? ['postgres', 'sqlite'] : ['sqlite'];
  const results = new Map<string, Figure[]>();
  for (const engine of engines) {
    const ctx = createContext({ db: engine, quick, cpuProfDir });
    const figures: Figure[] = [];
    for (const module of MODULES) {
      if (only && !only.includes(module.name)) continue;
      ctx.log(`${engine}: running ${module.name}`);
      figures.push(...(await module.run(ctx)));
    }
    results.set(engine, figures);
    process.stdout.write(`\n${engine} (load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})\n\n${formatFigures(figures)}\n`);
  }
  if (engines.length > 1) process.stdout.write(`\n${compareEngines(results.get('postgres') ?? [], results.get('sqlite') ?? [])}\n`);
  if (cpuProfDir) process.stdout.write(`\nCPU profiles of the Stride processes: ${cpuProfDir}\n`);
}

/** Each PostgreSQL figure beside SQLite's of the same name: pg/sqlite for throughputs, sqlite/pg for latencies (> 1 = PostgreSQL better). */
function compareEngines(pgFigures: Figure[], sqliteFigures: Figure[]): string {
  const rows = pgFigures.flatMap((p) => {
    const s = sqliteFigures.find((f) => f.name === p.name);
    if (!s) return [];
    const ratio = p.better === 'higher' ? p.value / s.value : s.value / p.value;
    return [`${p.name}\n    postgres ${fmt(p.value)} ${p.unit}, sqlite ${fmt(s.value)} ${s.unit}: postgres at ${(ratio * 100).toFixed(0)}% of sqlite`];
  });
  return ['PostgreSQL beside SQLite, same run (100% = as good as SQLite; above is better):', ...rows].join('\n');
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
