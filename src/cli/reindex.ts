/**
 * `stride reindex [--type T...]`: rebuilds the search index of the stored resources (after an upgrade that adds or
 * changes search parameters, or to repair it), with a progress line on a terminal and counts per type at the end.
 */
import { loadConfig } from '../config.js';
import { openStore } from '../storage/open.js';
import { loadDefinitions } from '../validation/definitions.js';
import { reindex, typesToReindex } from '../search/reindex.js';

export interface ReindexOptions {
  type?: string[];
}

export async function reindexCommand(options: ReindexOptions): Promise<number> {
  const known = loadDefinitions().resourceTypeSet;
  const unknown = (options.type ?? []).filter((t) => !known.has(t));
  if (unknown.length) {
    process.stderr.write(`stride reindex: not resource types: ${unknown.join(', ')}\n`);
    return 2;
  }
  const store = await openStore(loadConfig());
  try {
    await store.migrate();
    const types = await typesToReindex(store, options.type);
    const started = performance.now();
    const tty = process.stderr.isTTY;
    const result = await reindex(store, types, (p) => {
      if (tty) process.stderr.write(`\rreindexing ${p.type}: ${p.resources} resources, ${p.rows} index rows   `);
    });
    if (tty) process.stderr.write('\n');
    const seconds = (performance.now() - started) / 1000;
    const lines = [...result.byType].map(([type, c]) => `  ${type.padEnd(32)} ${String(c.resources).padStart(9)} resources ${String(c.rows).padStart(11)} index rows`);
    process.stdout.write(`${lines.join('\n')}${lines.length ? '\n' : ''}Reindexed ${result.resources} resources (${result.rows} index rows) of ${types.length} type(s) in ${seconds.toFixed(1)} s\n`);
    return 0;
  } finally {
    await store.close();
  }
}
