/**
 * Claim/$aging over 100,000 claims (issue 21, Show; `--quick` 20,000): generated active Claims (claims-data.ts: 3
 * payers, 2 clinics, 10 claims a patient, one in seven self-pay, each sent) and their remittances (most insured
 * claims: paid, partly paid with PR, denied, reversed and corrected), written in transaction Bundles of PUTs through
 * the server, whose money ledger (src/money/) keeps one balance row a claim in the same transactions. Then $aging's
 * latency, one request at a time (p50, p95): by payer (the default), by patient (10,000 groups, no names looked up),
 * by stage on the submission date, and as CSV and SVG. The server runs without bots (the Claims carry billing keys).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { send, startStride, type BenchContext, type BenchModule, type Child, type Figure } from './harness.js';
import { runLoad } from './load.js';
import { analyzeDatabase } from './plan.js';
import { bundlesOf, generate } from './claims-data.js';

const CHUNK = 2_000;
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function post(stride: Child, body: string): Promise<void> {
  const r = await send(stride.port, 'POST', '/fhir', body);
  if (r.status >= 300) throw new Error(`POST /fhir failed: ${r.status} ${r.text.slice(0, 300)}`);
}

/** Loads `claims` claims in chunks (generated one at a time, so memory stays small), two writers side by side. */
async function loadClaims(ctx: BenchContext, stride: Child, claims: number): Promise<{ resources: number; seconds: number }> {
  const started = performance.now();
  let resources = 0;
  const chunks = Math.ceil(claims / CHUNK);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let k = next++; k < chunks; k = next++) {
      const data = generate({ claims: CHUNK, patients: CHUNK / 10, seed: 1000 + k, prefix: `b${k}-`, sharedPrefix: 'b-', submitted: true, days: 200 });
      const shared = k === 0 ? data.shared : data.shared.filter((r) => r.resourceType !== 'Organization');
      if (k === 0) await post(stride, JSON.stringify(bundlesOf(data.shared.filter((r) => r.resourceType === 'Organization'), 1000)[0]));
      for (const bundle of bundlesOf([...shared.filter((r) => r.resourceType !== 'Organization'), ...data.claims, ...data.responses], 500)) await post(stride, JSON.stringify(bundle));
      resources += shared.length + data.claims.length + data.responses.length;
      ctx.log(`aging data: chunk ${k + 1}/${chunks}, ${resources} resources, ${(resources / ((performance.now() - started) / 1000)).toFixed(0)}/s`);
    }
  };
  await Promise.all([worker(), worker()]);
  return { resources, seconds: (performance.now() - started) / 1000 };
}

const QUERIES = [
  { name: 'by payer (JSON)', path: '/fhir/Claim/$aging?as-of=2026-12-15' },
  { name: 'by patient (JSON)', path: '/fhir/Claim/$aging?as-of=2026-12-15&by=patient' },
  { name: 'by stage, submission date (JSON)', path: '/fhir/Claim/$aging?as-of=2026-12-15&by=stage&basis=submission' },
  { name: 'by provider (CSV)', path: '/fhir/Claim/$aging?as-of=2026-12-15&by=provider&_format=csv' },
  { name: 'by payer (SVG)', path: '/fhir/Claim/$aging?as-of=2026-12-15&_format=svg' },
];

export const agingBench: BenchModule = {
  name: 'aging',
  async run(ctx) {
    const claims = ctx.quick ? 20_000 : 100_000;
    const db = await ctx.freshDatabase();
    const noBots = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-no-bots-'));
    const stride = await startStride(ctx, { ...db.env, STRIDE_BOTS_DIR: noBots });
    try {
      const loaded = await loadClaims(ctx, stride, claims);
      ctx.log(`aging data: ${loaded.resources} resources in ${loaded.seconds.toFixed(0)} s`);
      if (ctx.db === 'postgres') ctx.log(`aging data: ANALYZE in ${((await analyzeDatabase(db.env)) / 1000).toFixed(1)} s`);
      const figures: Figure[] = [
        { name: 'aging data: claims + remittances written (ledger kept)', value: loaded.resources / loaded.seconds, unit: 'resources/s', against: 3000, againstLabel: 'creates target', better: 'higher', note: `${loaded.resources} resources (${claims} claims) in ${loaded.seconds.toFixed(0)} s, transaction Bundles of 500, 2 writers` },
      ];
      const base = `http://127.0.0.1:${stride.port}`;
      for (const q of QUERIES) {
        const first = await send(stride.port, 'GET', q.path);
        if (first.status !== 200) throw new Error(`${q.name}: ${first.status} ${first.text.slice(0, 300)}`);
        const counted = /"name":"total","part":\[\{"name":"claims","valueInteger":(\d+)/.exec(first.text)?.[1];
        await runLoad({ url: `${base}${q.path}`, concurrency: 1, durationMs: 500 });
        const r = await runLoad({ url: `${base}${q.path}`, concurrency: 1, durationMs: ctx.quick ? 1500 : 4000 });
        const sorted = [...r.latenciesMs].sort((a, b) => a - b);
        const p50 = percentile(sorted, 0.5);
        const p95 = percentile(sorted, 0.95);
        ctx.log(`$aging ${q.name}: p50 ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, ${r.requests} requests, errors ${r.errors}`);
        figures.push({ name: `$aging p95: ${q.name}`, value: p95, unit: 'ms', against: 100, againstLabel: 'target', better: 'lower', note: `p50 ${p50.toFixed(2)} ms; ${claims} claims${counted ? `, ${counted} owing` : ''}; ${first.text.length} bytes` });
      }
      return figures;
    } finally {
      await stride.stop();
      await db.drop();
      fs.rmSync(noBots, { recursive: true, force: true });
    }
  },
};
