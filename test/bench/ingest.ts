/**
 * Transaction ingest (issue 2, DESIGN §8): every Synthea bundle of ../shared/conformance/synthea-r4 POSTed to /fhir
 * as a transaction on an empty database; resources written per second, >= 8,000/s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { send, startStride, type BenchModule } from './harness.js';

const SYNTHEA = process.env.STRIDE_BENCH_SYNTHEA ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/conformance/synthea-r4');
/** Bundles in flight: the server always has the next one read and parsed while one commits. */
const IN_FLIGHT = 2;

export const ingestBench: BenchModule = {
  name: 'ingest',
  async run(ctx) {
    if (!fs.existsSync(SYNTHEA)) {
      ctx.log(`Synthea ingest skipped: ${SYNTHEA} is absent`);
      return [];
    }
    const bodies = fs.readdirSync(SYNTHEA).filter((f) => f.endsWith('.json')).sort().map((f) => fs.readFileSync(path.join(SYNTHEA, f), 'utf8'));
    const resources = bodies.reduce((n, b) => n + ((JSON.parse(b) as { entry?: unknown[] }).entry?.length ?? 0), 0);
    const db = await ctx.freshDatabase();
    const stride = await startStride(ctx, db.env);
    try {
      let next = 0;
      const failures: string[] = [];
      const start = performance.now();
      const worker = async (): Promise<void> => {
        while (next < bodies.length) {
          const r = await send(stride.port, 'POST', '/fhir', bodies[next++]);
          if (r.status !== 200) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      const seconds = (performance.now() - start) / 1000;
      ctx.log(`ingest: ${resources} resources in ${seconds.toFixed(1)} s, ${failures.length} bundles failed${failures.length ? `: ${failures[0]}` : ''}`);
      return [{ name: 'Synthea transaction ingest', value: resources / seconds, unit: 'resources/s', against: 8000, againstLabel: 'target', better: 'higher', note: `${resources} resources in ${bodies.length} bundles, ${seconds.toFixed(1)} s, ${IN_FLIGHT} in flight; failed bundles ${failures.length}` }];
    } finally {
      await stride.stop();
      await db.drop();
    }
  },
};
