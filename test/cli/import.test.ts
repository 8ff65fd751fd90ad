/** `stride import FILE|DIR...` run as a real command, then checked through a server on the same data. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStride, type Stride } from '../../src/stride.js';
import pino from 'pino';
import { ENGINES, type Engine, type EngineHandle } from '../support/engines.js';
import { runCli } from '../support/cli.js';
import { storedCounts } from '../support/counts.js';
import { expectedCounts, SYNTHEA_DIR, syntheaFiles, syntheaMissing } from '../support/synthea.js';

async function withStride<T>(env: Record<string, string>, work: (s: Stride) => Promise<T>): Promise<T> {
  const stride = await openStride(loadConfig(env), pino({ level: 'silent' }));
  try {
    return await work(stride);
  } finally {
    await stride.close();
  }
}

for (const engine of ENGINES as Engine[]) {
  describe(`stride import [${engine.name}]`, async () => {
    const reason = await engine.unavailable();
    if (reason) {
      if (process.env.STRIDE_TEST_REQUIRE_PG === '1') throw new Error(reason);
      console.warn(reason);
      return;
    }
    let handle: EngineHandle;
    let dir: string;
    beforeAll(async () => {
      handle = await engine.create();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-import-'));
    });
    afterAll(async () => {
      await handle?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('loads good files, reports each failure with its reason and file, and exits 1', async () => {
      const good = { resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient', id: 'x', name: [{ family: 'Import' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:p' } }, request: { method: 'POST', url: 'Encounter' } },
      ] };
      const bad = { resourceType: 'Bundle', type: 'transaction', entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'Never' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', code: { text: 'x' } }, request: { method: 'POST', url: 'Observation' } },
      ] };
      fs.writeFileSync(path.join(dir, 'good.json'), JSON.stringify(good));
      fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(bad));
      fs.writeFileSync(path.join(dir, 'broken.json'), '{"resourceType": "Bun');
      fs.writeFileSync(path.join(dir, 'goals.ndjson'), [
        JSON.stringify({ resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: 'walk 50 m' }, subject: { reference: 'Patient/x' } }),
        '',
        JSON.stringify({ resourceType: 'Goal', id: 'g2', lifecycleStatus: 'active', description: 'walk further', subject: { reference: 'Patient/x' } }),
        'not json',
        JSON.stringify({ resourceType: 'Goal', lifecycleStatus: 'proposed', description: { text: 'climb stairs' }, subject: { reference: 'Patient/x' } }),
      ].join('\n'));
      const r = await runCli(['import', dir], handle.env);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/Imported 4 resources from 4 file\(s\)/);
      expect(r.stdout).toMatch(/Goal\s+2/);
      expect(r.stdout).toMatch(/Patient\s+1/);
      expect(r.stdout).toMatch(/bad\.json: Bundle\.entry\[1\].*Observation\.status/);
      expect(r.stdout).toMatch(/broken\.json: .*JSON/);
      expect(r.stdout).toMatch(/goals\.ndjson:3: .*Goal\.description/);
      expect(r.stdout).toMatch(/goals\.ndjson:4: .*JSON/);
      expect(r.stderr).not.toContain('importing ['); // no progress bar when stderr is not a terminal
      const counts = await withStride(handle.env, (s) => storedCounts(s.store));
      expect(counts).toEqual({ Patient: 1, Encounter: 1, Goal: 2 });
    });

    it('a missing path is a clear error', async () => {
      const r = await runCli(['import', path.join(dir, 'nope.json')], handle.env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no such file or directory');
    });
  });
}

const missing = syntheaMissing();
describe.skipIf(!!missing)('stride import of the Synthea folder [sqlite]', () => {
  it('loads every bundle whole, with the per-type counts of the files', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-import-synthea-'));
    try {
      const r = await runCli(['import', SYNTHEA_DIR], { STRIDE_DATA_DIR: dataDir });
      expect(r.stdout).toContain('No failures.');
      expect(r.code).toBe(0);
      const expected = expectedCounts(syntheaFiles());
      const total = Object.values(expected).reduce((a, b) => a + b, 0);
      expect(r.stdout).toContain(`Imported ${total} resources from 72 file(s).`);
      expect(await withStride({ STRIDE_DATA_DIR: dataDir }, (s) => storedCounts(s.store))).toEqual(expected);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
