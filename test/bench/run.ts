/**
 * `npm run bench [-- --db postgres] [-- --quick]`: prints Stride's figures beside ceilings measured in the same run
 * (DESIGN §8). A script, not a timed test: nothing here passes or fails.
 */
import os from 'node:os';
import { createContext, formatFigures, type BenchModule, type Figure } from './harness.js';
import { foundationBench } from './foundation.js';

/** Bench modules in run order; add a module here to add figures. */
const MODULES: BenchModule[] = [foundationBench];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const db = (arg('--db') ?? 'sqlite') as 'sqlite' | 'postgres';
  if (db !== 'sqlite' && db !== 'postgres') throw new Error(`--db takes sqlite or postgres, not ${db}`);
  const ctx = createContext(db, process.argv.includes('--quick'));
  process.stdout.write(`Stride bench: ${db}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), node ${process.version}${ctx.quick ? ', quick' : ''}\n`);
  const only = arg('--only');
  const figures: Figure[] = [];
  for (const module of MODULES) {
    if (only && module.name !== only) continue;
    process.stdout.write(`running ${module.name} ...\n`);
    figures.push(...(await module.run(ctx)));
  }
  process.stdout.write(`\n${formatFigures(figures)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
