/**
 * Bulk Data $export (issue 22): every Synthea bundle loaded (4 times over, as new resources; once with --quick), then
 * `GET /fhir/$export` from kick-off to manifest: resources exported per second, beside a client paging the same
 * resources through search (`GET /fhir/[type]?_count=1000`, every type, following next links) in the same run; and
 * the server's peak memory while the export runs, beside the size of what it exports (an export that held the data
 * in memory would grow by about that much).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRss, rssMb, send, startStride, type BenchModule } from './harness.js';

const SYNTHEA = process.env.STRIDE_BENCH_SYNTHEA ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/conformance/synthea-r4');

async function exportOnce(port: number): Promise<{ resources: number; bytes: number; files: string[] }> {
  const kick = await send(port, 'GET', '/fhir/$export', undefined, { prefer: 'respond-async' });
  if (kick.status !== 202) throw new Error(`kick-off: ${kick.status} ${kick.text}`);
  const status = new URL(JSON.parse(kick.text).issue[0].details.text.match(/poll (\S+) /)[1]).pathname;
  for (;;) {
    const r = await send(port, 'GET', status);
    if (r.status === 200) {
      const manifest = JSON.parse(r.text) as { output: Array<{ url: string; count: number }> };
      return { resources: manifest.output.reduce((n, o) => n + o.count, 0), bytes: 0, files: manifest.output.map((o) => new URL(o.url).pathname) };
    }
    if (r.status !== 202) throw new Error(`status: ${r.status} ${r.text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function pageEverything(port: number, types: string[]): Promise<number> {
  let resources = 0;
  for (const type of types) {
    let next: string | undefined = `/fhir/${type}?_count=1000`;
    while (next) {
      const r = await send(port, 'GET', next);
      if (r.status !== 200) throw new Error(`search ${next}: ${r.status}`);
      const page = JSON.parse(r.text) as { entry?: unknown[]; link?: Array<{ relation: string; url: string }> };
      resources += page.entry?.length ?? 0;
      const url = page.link?.find((l) => l.relation === 'next')?.url;
      next = url ? new URL(url).pathname + new URL(url).search : undefined;
    }
  }
  return resources;
}

export const exportBench: BenchModule = {
  name: 'export',
  async run(ctx) {
    if (!fs.existsSync(SYNTHEA)) {
      ctx.log(`export skipped: ${SYNTHEA} is absent`);
      return [];
    }
    const copies = ctx.quick ? 1 : 4;
    const bodies = fs.readdirSync(SYNTHEA).filter((f) => f.endsWith('.json')).sort().map((f) => fs.readFileSync(path.join(SYNTHEA, f), 'utf8'));
    const db = await ctx.freshDatabase();
    const stride = await startStride(ctx, db.env);
    try {
      const types = new Set<string>();
      for (let c = 0; c < copies; c++) {
        for (const body of bodies) {
          const r = await send(stride.port, 'POST', '/fhir', body);
          if (r.status !== 200) throw new Error(`load: ${r.status} ${r.text.slice(0, 200)}`);
          for (const e of (JSON.parse(body) as { entry: Array<{ resource: { resourceType: string } }> }).entry) types.add(e.resource.resourceType);
        }
      }
      ctx.log(`export: Synthea loaded ${copies} time(s)`);
      // A warm-up export: V8 compiles the export's code, and the database's pages are read once.
      await exportOnce(stride.port);
      const baseMb = rssMb(stride.pid);
      const started = performance.now();
      const { result, peakMb } = await peakRss(stride, () => exportOnce(stride.port));
      const seconds = (performance.now() - started) / 1000;
      let bytes = 0;
      for (const file of result.files) bytes += Buffer.byteLength((await send(stride.port, 'GET', file, undefined, { accept: 'application/fhir+ndjson' })).text);
      const searchStart = performance.now();
      const paged = await pageEverything(stride.port, [...types]);
      const searchSeconds = (performance.now() - searchStart) / 1000;
      const dataMb = bytes / 2 ** 20;
      ctx.log(`export: ${result.resources} resources in ${seconds.toFixed(2)} s; search paging ${paged} in ${searchSeconds.toFixed(2)} s; RSS ${baseMb.toFixed(0)} -> peak ${peakMb.toFixed(0)} MB; NDJSON ${dataMb.toFixed(1)} MB`);
      return [
        {
          name: '$export of all Synthea (kick-off to manifest)',
          value: result.resources / seconds,
          unit: 'resources/s',
          against: paged / searchSeconds,
          againstLabel: 'paging the same via search (_count=1000)',
          better: 'higher',
          note: `${result.resources} resources (Synthea x${copies}), ${seconds.toFixed(2)} s, ${result.files.length} files, ${dataMb.toFixed(1)} MB NDJSON`,
        },
        {
          name: '$export server memory growth (peak RSS - RSS before)',
          value: Math.max(0.1, peakMb - baseMb),
          unit: 'MB',
          against: dataMb,
          againstLabel: 'size of the data exported',
          better: 'lower',
          note: `RSS ${baseMb.toFixed(0)} MB before, ${peakMb.toFixed(0)} MB at peak, sampled every 10 ms`,
        },
      ];
    } finally {
      await stride.stop();
      await db.drop();
    }
  },
};
