/**
 * SQL on FHIR views (issue 22, Show): `$run` of a flat Observation view over the search bench's data (1,000,000
 * resources, search-data.ts; `--quick` 100,000), streamed as ndjson, in rows/s, beside a plain search that pages
 * through the same Observations (`_count=1000`, following the next links) in resources/s: the same rows read from the
 * store, as a FHIR Bundle instead of a table. Peak memory is the server's peak resident set (VmHWM, reset before each
 * run through /proc/[pid]/clear_refs) while it answers: a run streams a page at a time, so it stays near the server's
 * resting size whatever the number of rows. The server runs without bots.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { send, startStride, type BenchContext, type BenchModule, type Child, type Figure } from './harness.js';
import { RESOURCES_PER_PATIENT, generatedBundles, referenceBundle } from './search-data.js';

const VIEW = {
  resourceType: 'ViewDefinition',
  id: 'bench-observation',
  name: 'observation_flat',
  status: 'active',
  resource: 'Observation',
  select: [
    {
      column: [
        { name: 'id', path: 'getResourceKey()', type: 'id' },
        { name: 'patient_id', path: 'subject.getReferenceKey(Patient)', type: 'id' },
        { name: 'encounter_id', path: 'encounter.getReferenceKey(Encounter)', type: 'id' },
        { name: 'status', path: 'status', type: 'code' },
        { name: 'code', path: 'code.coding.code.first()', type: 'code' },
        { name: 'effective', path: 'effective.ofType(dateTime)', type: 'dateTime' },
        { name: 'value', path: 'value.ofType(Quantity).value', type: 'decimal' },
        { name: 'unit', path: 'value.ofType(Quantity).code', type: 'code' },
      ],
    },
  ],
};

async function post(stride: Child, method: string, url: string, body: string): Promise<void> {
  const r = await send(stride.port, method, url, body);
  if (r.status >= 300) throw new Error(`${method} ${url} failed: ${r.status} ${r.text.slice(0, 300)}`);
}

/** Streams one GET, counting newlines (ndjson rows) without keeping the body. */
function streamLines(port: number, urlPath: string): Promise<{ lines: number; bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { connection: 'close' } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${urlPath}: ${res.statusCode}`));
        let lines = 0;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
        });
        res.on('end', () => resolve({ lines, bytes, ms: performance.now() - started }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Pages through a search to the end: resources read. */
async function pageAll(port: number, first: string): Promise<{ resources: number; ms: number }> {
  const started = performance.now();
  let resources = 0;
  for (let next: string | undefined = first; next; ) {
    const r = await send(port, 'GET', next);
    if (r.status !== 200) throw new Error(`${next}: ${r.status} ${r.text.slice(0, 200)}`);
    resources += r.text.split('"fullUrl"').length - 1;
    const link = /"relation":"next","url":"([^"]+)"/.exec(r.text)?.[1];
    next = link ? new URL(link).pathname + new URL(link).search : undefined;
  }
  return { resources, ms: performance.now() - started };
}

function status(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) / 1024;
}

/** Runs `work` and gives the server's peak resident memory (MB) while it ran. */
async function peakMb<T>(stride: Child, work: () => Promise<T>): Promise<{ result: T; peak: number; before: number }> {
  const before = status(stride.pid, 'VmRSS');
  fs.writeFileSync(`/proc/${stride.pid}/clear_refs`, '5');
  const result = await work();
  return { result, peak: status(stride.pid, 'VmHWM'), before };
}

async function load(ctx: BenchContext, stride: Child, patients: number): Promise<void> {
  await post(stride, 'POST', '/fhir', referenceBundle());
  const bundles = generatedBundles(patients);
  let written = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let next = bundles.next(); !next.done; next = bundles.next()) {
      await post(stride, 'POST', '/fhir', next.value);
      written += RESOURCES_PER_PATIENT * 20;
      if (written % 100_000 < 1020) ctx.log(`views data: ${written} resources, ${(written / ((performance.now() - started) / 1000)).toFixed(0)}/s`);
    }
  };
  await Promise.all([worker(), worker()]);
}

export const viewsBench: BenchModule = {
  name: 'views',
  async run(ctx) {
    const patients = Math.round((ctx.quick ? 100_000 : 1_000_000) / RESOURCES_PER_PATIENT);
    const db = await ctx.freshDatabase();
    const noBots = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-no-bots-'));
    const stride = await startStride(ctx, { ...db.env, STRIDE_BOTS_DIR: noBots });
    try {
      await load(ctx, stride, patients);
      await post(stride, 'PUT', `/fhir/ViewDefinition/${VIEW.id}`, JSON.stringify(VIEW));
      const total = patients * RESOURCES_PER_PATIENT;
      // A warm-up run of each (JIT, page cache), then the measured ones.
      await streamLines(stride.port, `/fhir/ViewDefinition/${VIEW.id}/$run?_format=ndjson&_limit=20000`);
      await send(stride.port, 'GET', '/fhir/Observation?_count=1000&_total=none');
      const run = await peakMb(stride, () => streamLines(stride.port, `/fhir/ViewDefinition/${VIEW.id}/$run?_format=ndjson`));
      const rowsPerSecond = run.result.lines / (run.result.ms / 1000);
      ctx.log(`views: $run ${run.result.lines} rows (${(run.result.bytes / 2 ** 20).toFixed(0)} MB) in ${(run.result.ms / 1000).toFixed(1)} s: ${rowsPerSecond.toFixed(0)} rows/s; server RSS ${run.before.toFixed(0)} MB before, peak ${run.peak.toFixed(0)} MB`);
      const search = await peakMb(stride, () => pageAll(stride.port, '/fhir/Observation?_count=1000&_total=none'));
      const perSecond = search.result.resources / (search.result.ms / 1000);
      ctx.log(`views: search paged ${search.result.resources} Observations in ${(search.result.ms / 1000).toFixed(1)} s: ${perSecond.toFixed(0)} resources/s; server peak ${search.peak.toFixed(0)} MB`);
      const figures: Figure[] = [
        {
          name: '$run flat Observation view, ndjson',
          value: rowsPerSecond,
          unit: 'rows/s',
          against: perSecond,
          againstLabel: 'plain search, resources/s',
          better: 'higher',
          note: `${run.result.lines} rows of ${total} resources; search paged the same ${search.result.resources} Observations, _count=1000, in ${(search.result.ms / 1000).toFixed(1)} s`,
        },
        {
          name: '$run peak server memory',
          value: run.peak,
          unit: 'MB',
          against: search.peak,
          againstLabel: 'paging the search',
          better: 'lower',
          note: `resident ${run.before.toFixed(0)} MB before the run; ${run.result.lines} rows, ${(run.result.bytes / 2 ** 20).toFixed(0)} MB of ndjson streamed`,
        },
      ];
      return figures;
    } finally {
      await stride.stop();
      await db.drop();
      fs.rmSync(noBots, { recursive: true, force: true });
    }
  },
};
