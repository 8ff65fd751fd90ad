/**
 * Search (issue 3, DESIGN §8): 1,000,000 resources (generated therapy patients, see search-data.ts, plus the
 * Synthea bundles) loaded through POST /fhir, then ten named selective queries, each run alone on one connection
 * for its latency (p50, p95; target p95 < 20 ms) and, for the single token search, on 16 connections for
 * searches/s (target >= 2,000/s; after a warm-up second, the median of three rounds). `--quick` loads 100,000. The server runs without bots: the generated sessions do
 * not claim the guide's profiles, and this module measures search, not the bots (the bots module does).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { send, startStride, type BenchContext, type BenchModule, type Child, type Figure } from './harness.js';
import { runLoad } from './load.js';
import { analyzeDatabase, explainSearch } from './plan.js';
import { CPT, GAIT_SPEED, LOINC, MRN, RESOURCES_PER_PATIENT, SIX_MINUTE_WALK, familyOf, generatedBundles, referenceBundle } from './search-data.js';

const SYNTHEA = process.env.STRIDE_BENCH_SYNTHEA ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/conformance/synthea-r4');
const IN_FLIGHT = 2;

/** The named queries, about one patient `p` of the generated data. */
function queries(p: number): Array<{ name: string; path: string }> {
  const patient = `Patient/bp${p}`;
  return [
    { name: 'token: patient by identifier', path: `Patient?identifier=${MRN}|MRN-${p}` },
    { name: 'string: family name prefix', path: `Patient?family=${familyOf(p)}` },
    { name: 'reference: a patient\'s observations', path: `Observation?subject=${patient}` },
    { name: 'reference + token + date range', path: `Observation?subject=${patient}&code=${LOINC}|${GAIT_SPEED}&date=ge2025-01-01` },
    { name: 'compartment: Patient/x/Procedure', path: `${patient}/Procedure?code=${CPT}|97116` },
    { name: 'chain: subject:Patient.identifier', path: `Observation?subject:Patient.identifier=${MRN}|MRN-${p}&code=${LOINC}|${SIX_MINUTE_WALK}` },
    { name: '_revinclude: sessions and procedures', path: `Encounter?subject=${patient}&_revinclude=Procedure:encounter` },
    { name: '_sort=-date, first page of 5', path: `Observation?subject=${patient}&_sort=-date&_count=5` },
    { name: 'composite + date: long 6-minute walks', path: `Observation?code-value-quantity=${LOINC}|${SIX_MINUTE_WALK}$gt699.5&date=ge2026-01-01` },
    { name: '_has: women with a long walk', path: `Patient?_has:Observation:subject:code-value-quantity=${LOINC}|${SIX_MINUTE_WALK}$gt699.5&gender=female` },
  ].map((q) => ({ ...q, path: `/fhir/${q.path.replace(/\|/g, '%7C').replace(/\$/g, '%24')}` }));
}

async function post(stride: Child, body: string): Promise<void> {
  const r = await send(stride.port, 'POST', '/fhir', body);
  if (r.status !== 200) throw new Error(`load failed: ${r.status} ${r.text.slice(0, 300)}`);
}

async function loadData(ctx: BenchContext, stride: Child, patients: number): Promise<number> {
  await post(stride, referenceBundle());
  const bundles = generatedBundles(patients);
  const synthea = fs.existsSync(SYNTHEA) ? fs.readdirSync(SYNTHEA).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(SYNTHEA, f)) : [];
  let written = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let next = bundles.next(); !next.done; next = bundles.next()) {
      await post(stride, next.value);
      written += (JSON.parse(next.value) as { entry: unknown[] }).entry.length;
      if (written % 100_000 < 1020) ctx.log(`search data: ${written} resources, ${(written / ((performance.now() - started) / 1000)).toFixed(0)}/s`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  for (const file of synthea) {
    const text = fs.readFileSync(file, 'utf8');
    await post(stride, text);
    written += (JSON.parse(text) as { entry: unknown[] }).entry.length;
  }
  ctx.log(`search data: ${written} resources loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return written;
}

/** The resources of a reused database: every type's `_summary=count`. */
async function countResources(stride: Child): Promise<number> {
  let total = 0;
  for (const type of ['Patient', 'Encounter', 'Procedure', 'Observation', 'Organization', 'Practitioner']) {
    const r = await send(stride.port, 'GET', `/fhir/${type}?_summary=count`);
    total += Number((JSON.parse(r.text) as { total?: number }).total ?? 0);
  }
  return total;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

export const searchBench: BenchModule = {
  name: 'search',
  async run(ctx) {
    const patients = Math.round((ctx.quick ? 100_000 : 1_000_000) / RESOURCES_PER_PATIENT);
    // STRIDE_BENCH_REUSE_DB='<the settings a kept run logged>' measures the queries on that database, as loaded (a
    // before/after of a search change on the same data, without the load).
    const reuse = process.env.STRIDE_BENCH_REUSE_DB ? (JSON.parse(process.env.STRIDE_BENCH_REUSE_DB) as Record<string, string>) : undefined;
    const db = reuse ? { env: reuse, drop: async () => undefined } : await ctx.freshDatabase();
    const noBots = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-no-bots-'));
    const stride = await startStride(ctx, { ...db.env, STRIDE_BOTS_DIR: noBots });
    try {
      const total = reuse ? await countResources(stride) : await loadData(ctx, stride, patients);
      if (reuse) ctx.log(`search data: reusing ${JSON.stringify(reuse)}, ${total} resources`);
      // Fresh statistics, as `stride import` or autovacuum leave them after a bulk load (src/storage/store.ts analyze).
      if (ctx.db === 'postgres') ctx.log(`search data: ANALYZE in ${((await analyzeDatabase(db.env)) / 1000).toFixed(1)} s`);
      const figures: Figure[] = [];
      const base = `http://127.0.0.1:${stride.port}`;
      for (const q of queries(Math.floor(patients / 3))) {
        const first = await send(stride.port, 'GET', q.path);
        if (first.status !== 200) throw new Error(`${q.name}: ${first.status} ${first.text.slice(0, 300)}`);
        const reply = JSON.parse(first.text) as { total?: number; entry?: unknown[] };
        await runLoad({ url: `${base}${q.path}`, concurrency: 1, durationMs: 500 });
        const r = await runLoad({ url: `${base}${q.path}`, concurrency: 1, durationMs: ctx.quick ? 1500 : 3000 });
        const sorted = [...r.latenciesMs].sort((a, b) => a - b);
        const p50 = percentile(sorted, 0.5);
        const p95 = percentile(sorted, 0.95);
        ctx.log(`search ${q.name}: p50 ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, ${r.perSecond.toFixed(0)}/s, ${reply.total} matches, errors ${r.errors}`);
        figures.push({ name: `search p95: ${q.name}`, value: p95, unit: 'ms', against: 20, againstLabel: 'target', better: 'lower', note: `p50 ${p50.toFixed(2)} ms; ${reply.total} matches, ${reply.entry?.length ?? 0} entries; ${total} resources` });
      }
      const slowest = figures.reduce((a, b) => (b.value > a.value ? b : a));
      const q = queries(Math.floor(patients / 3)).find((x) => slowest.name === `search p95: ${x.name}`)!;
      const plan = await explainSearch(db.env, q.path).catch((err: unknown) => `no plan: ${(err as Error).message}`);
      ctx.log(`query plan of the slowest query (${q.name}):\n${plan}`);
      slowest.note = `${slowest.note}; plan: ${plan.replace(/\s+/g, ' ').slice(0, 600)}`;
      const token = queries(Math.floor(patients / 3))[0];
      // Throughput: a warm-up second (JIT, page cache, sockets), then three rounds; the median round is the figure.
      const url = `${base}${token.path}`;
      await runLoad({ url, concurrency: 16, durationMs: 1000 });
      const rounds: Array<{ perSecond: number; errors: number; cpuUs?: number }> = [];
      for (let round = 0; round < 3; round++) {
        const cpuBefore = stride.cpuMs();
        const r = await runLoad({ url, concurrency: 16, durationMs: ctx.quick ? 2000 : 4000 });
        const cpuAfter = stride.cpuMs();
        rounds.push({ perSecond: r.perSecond, errors: r.errors, cpuUs: cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) * 1000) / r.requests : undefined });
      }
      const byRate = [...rounds].sort((a, b) => a.perSecond - b.perSecond);
      const t = byRate[1];
      const errors = rounds.reduce((n, r) => n + r.errors, 0);
      const cpu = t.cpuUs !== undefined ? `; server CPU ${t.cpuUs.toFixed(0)} us a search` : '';
      ctx.log(`search token throughput: rounds ${rounds.map((r) => r.perSecond.toFixed(0)).join(', ')}/s, median ${t.perSecond.toFixed(0)}/s${cpu}, errors ${errors}`);
      figures.push({ name: 'single token search', value: t.perSecond, unit: 'searches/s', against: 2000, againstLabel: 'target', better: 'higher', note: `${token.path}, 16 connections, median of 3 rounds (${rounds.map((r) => r.perSecond.toFixed(0)).join(', ')})${cpu}, errors ${errors}` });
      return figures;
    } finally {
      await stride.stop();
      // STRIDE_BENCH_KEEP_DB=1 keeps the loaded database (its location is logged) to study plans on it afterwards.
      if (process.env.STRIDE_BENCH_KEEP_DB === '1' || reuse) ctx.log(`search data kept: ${JSON.stringify(db.env)}`);
      else await db.drop();
      fs.rmSync(noBots, { recursive: true, force: true });
    }
  },
};
