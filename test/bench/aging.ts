/**
 * Claim/$aging over 100,000 claims (issue 21, Show; `--quick` 20,000): generated active Claims (claims-data.ts: 3
 * payers, 2 clinics, 10 claims a patient, one in seven self-pay, each sent) and their remittances (most insured
 * claims: paid, partly paid with PR, denied, reversed and corrected), written straight through a Repository whose
 * money ledger hook (src/money/) keeps one balance row a claim in the same transactions. Then $aging's
 * latency, one request at a time (p50, p95): by payer (the default), by patient (10,000 groups, no names looked up),
 * by stage on the submission date, and as CSV and SVG. The server runs without bots (the Claims carry billing keys).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { send, startStride, type BenchContext, type BenchModule, type Figure } from './harness.js';
import { runLoad } from './load.js';
import { generate } from './claims-data.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/storage/open.js';
import { Repository } from '../../src/repo/repository.js';
import { createSearcher } from '../../src/search/searcher.js';
import { createIndexer } from '../../src/search/indexer.js';
import { MoneyLedger } from '../../src/money/hook.js';
import type { Validator } from '../../src/validation/validator.js';

const CHUNK = 2_000;
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** The bench writes the generated data itself, validated by the tests already: no validation, indexing and ledger kept. */
const NO_VALIDATION: Validator = { validate: () => [], check: () => ({ issues: [], invalidFhir: false, profileErrors: false }), guide: undefined as unknown as Validator['guide'] };

/**
 * Writes `claims` claims with their patients, coverages and remittances straight through a Repository on the bench's
 * database (before the server starts), in chunks generated one at a time, 1,000 resources a transaction: each
 * transaction runs the money ledger's hook (src/money/hook.ts) as the server's writes do.
 */
async function loadClaims(ctx: BenchContext, env: Record<string, string>, claims: number): Promise<{ resources: number; seconds: number }> {
  const store = await openStore(loadConfig({ ...env, STRIDE_LOG_LEVEL: 'silent' }));
  await store.migrate();
  const repo = new Repository({ store, validator: NO_VALIDATION, searcher: createSearcher(), indexer: createIndexer(store.dialect), hook: new MoneyLedger() });
  const started = performance.now();
  let resources = 0;
  try {
    for (let k = 0; k < Math.ceil(claims / CHUNK); k++) {
      const data = generate({ claims: CHUNK, patients: CHUNK / 10, seed: 1000 + k, prefix: `b${k}-`, sharedPrefix: 'b-', submitted: true, days: 200 });
      const all: Resource[] = [...(k === 0 ? data.shared : data.shared.filter((r) => r.resourceType !== 'Organization')), ...data.claims, ...data.responses];
      for (let i = 0; i < all.length; i += 1000) {
        await repo.transaction(async (tx) => {
          for (const r of all.slice(i, i + 1000)) await tx.update(r, { expectNew: true });
        });
      }
      resources += all.length;
      if (k % 5 === 4) ctx.log(`aging data: ${(k + 1) * CHUNK} claims, ${resources} resources, ${(resources / ((performance.now() - started) / 1000)).toFixed(0)}/s`);
    }
    await store.analyze();
  } finally {
    await store.close();
  }
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
    const loaded = await loadClaims(ctx, db.env, claims);
    ctx.log(`aging data: ${loaded.resources} resources in ${loaded.seconds.toFixed(0)} s`);
    const stride = await startStride(ctx, { ...db.env, STRIDE_BOTS_DIR: noBots });
    try {
      const figures: Figure[] = [
        { name: 'aging data: written with the ledger kept', value: loaded.resources / loaded.seconds, unit: 'resources/s', against: 3000, againstLabel: 'creates target', better: 'higher', note: `${loaded.resources} resources (${claims} claims, patients, coverages, remittances) in ${loaded.seconds.toFixed(0)} s; Repository in the bench process, no validation, 1,000 a transaction` },
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
