/**
 * `npm run bench [-- --db postgres] [-- --quick] [-- --only read,create] [-- --cpu-prof DIR]`: prints Stride's
 * figures beside ceilings measured in the same run or beside their targets (DESIGN §8). A script, not a timed test:
 * nothing here passes or fails. Progress goes to stderr, the table to stdout.
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

/** Bench modules in run order; add a module (one file, one BenchModule) here to add figures. */
const MODULES: BenchModule[] = [readBench, createBench, ingestBench, validateBench, botsBench];

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
  const ctx = createContext({ db, quick: process.argv.includes('--quick'), cpuProfDir });
  const cpus = os.cpus();
  const header = [
    `Stride bench: ${db}${ctx.quick ? ', quick' : ''}`,
    `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${os.platform()} ${os.release()}`,
    `load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes compete for the same cores)`,
    'server: node dist/src/cli/main.js serve in a child process, request log at info level to /dev/null; client: raw keep-alive sockets in this process',
  ];
  process.stdout.write(`${header.join('\n')}\n`);
  const figures: Figure[] = [];
  for (const module of MODULES) {
    if (only && !only.includes(module.name)) continue;
    ctx.log(`running ${module.name}`);
    figures.push(...(await module.run(ctx)));
  }
  process.stdout.write(`load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n\n${formatFigures(figures)}\n`);
  if (cpuProfDir) process.stdout.write(`\nCPU profiles of the Stride processes: ${cpuProfDir}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
