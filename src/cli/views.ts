/**
 * `stride views sync [--view ID...]`, `stride views list`, `stride views drop --view ID...`: materialised SQL on FHIR
 * views (src/analytics/materialized/). `sync` (re)builds the table of each view named, or of every stored
 * ViewDefinition whose status is active when none is named, from the stored resources; from then on the server keeps
 * it current on every write. A view that fails is reported and the others still run; the exit code is then 1.
 */
import { OperationOutcomeError } from '@medplum/core';
import { loadConfig } from '../config.js';
import { openStride, type Stride } from '../stride.js';
import { hookOf } from '../repo/hooks.js';
import { MaterializedViews } from '../analytics/materialized/hook.js';
import { storePages } from '../analytics/views/source.js';

export interface ViewsOptions {
  view?: string[];
}

async function withViews(work: (stride: Stride, views: MaterializedViews) => Promise<number>): Promise<number> {
  const stride = await openStride(loadConfig());
  try {
    const views = hookOf(stride.repo, MaterializedViews);
    if (!views) throw new Error('this Stride keeps no materialised views');
    return await work(stride, views);
  } finally {
    await stride.close();
  }
}

function reason(err: unknown): string {
  if (err instanceof OperationOutcomeError) return err.outcome.issue?.map((i) => i.details?.text ?? i.diagnostics).join('; ') ?? err.message;
  return (err as Error).message;
}

async function activeViews(stride: Stride): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of storePages(stride.repo, { resourceType: 'ViewDefinition' })) {
    for (const v of page as Array<{ id?: string; status?: string }>) if (v.status === 'active' && v.id) ids.push(v.id);
  }
  return ids;
}

export function syncViewsCommand(options: ViewsOptions): Promise<number> {
  return withViews(async (stride, views) => {
    const ids = options.view?.length ? options.view : await activeViews(stride);
    if (ids.length === 0) process.stdout.write('no ViewDefinition to materialise (none active; name one with --view)\n');
    let failed = 0;
    for (const id of ids) {
      const started = Date.now();
      try {
        const r = await views.materialize(stride.repo, id);
        process.stdout.write(`ViewDefinition/${id} -> ${r.qualifiedTable}: ${r.rows} rows from ${r.resources} ${r.resourceType} in ${Date.now() - started} ms\n`);
        for (const issue of r.issues) process.stdout.write(`  ${issue}\n`);
      } catch (err) {
        failed++;
        process.stderr.write(`ViewDefinition/${id}: ${reason(err)}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  });
}

export function listViewsCommand(): Promise<number> {
  return withViews(async (stride, views) => {
    const regs = await views.list(stride.repo);
    if (regs.length === 0) process.stdout.write('no materialised views\n');
    for (const r of regs) {
      const table = stride.store.dialect.viewTable(r.table).replace(/"/g, '');
      process.stdout.write(`ViewDefinition/${r.viewId} (version ${r.viewVersion}) -> ${table}, ${r.resourceType}, built ${new Date(r.syncedAt).toISOString()}${r.lastIssue ? `; last issue: ${r.lastIssue}` : ''}\n`);
    }
    return 0;
  });
}

export function dropViewsCommand(options: ViewsOptions): Promise<number> {
  return withViews(async (stride, views) => {
    let missing = 0;
    for (const id of options.view ?? []) {
      if (await views.drop(stride.repo, id)) process.stdout.write(`ViewDefinition/${id}: table dropped\n`);
      else {
        missing++;
        process.stderr.write(`ViewDefinition/${id} is not materialised\n`);
      }
    }
    return missing > 0 ? 1 : 0;
  });
}
