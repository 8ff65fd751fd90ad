/**
 * `stride import FILE|DIR...` run as the real command, then checked through a real `stride serve` on the same data
 * (and the database itself for the counts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { openStride, type Stride } from '../../src/stride.js';
import { ENGINES, type EngineHandle } from '../support/engines.js';
import { CLI, ROOT, runCli } from '../support/cli.js';
import { startServerProcess } from '../support/process.js';
import { fhir } from '../support/http.js';
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

/** These tests start real processes (tsx compiles on start): generous on a busy 2-core machine. */
const SLOW = 240_000;

const write = (dir: string, name: string, value: unknown): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
};

const GOOD = { resourceType: 'Bundle', type: 'transaction', entry: [
  { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient', id: 'ignored', name: [{ family: 'Import' }] }, request: { method: 'POST', url: 'Patient' } },
  { resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:p' } }, request: { method: 'POST', url: 'Encounter' } },
] };
const BAD = { resourceType: 'Bundle', type: 'transaction', entry: [
  { resource: { resourceType: 'Patient', id: 'never', name: [{ family: 'Never' }] }, request: { method: 'PUT', url: 'Patient/never' } },
  { resource: { resourceType: 'Observation', code: { text: 'no status' } }, request: { method: 'POST', url: 'Observation' } },
] };
const goal = (id: string | undefined, description: unknown) => JSON.stringify({ resourceType: 'Goal', ...(id ? { id } : {}), lifecycleStatus: 'active', description, subject: { reference: 'Patient/x' } });
const NDJSON = [goal('g1', { text: 'walk 50 m' }), '', goal('g2', 'a string where a CodeableConcept belongs'), 'not json', goal(undefined, { text: 'climb stairs' })].join('\n');

for (const engine of ENGINES) {
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

    it('loads the good files, names each failure with its reason and file/line, exits 1; a server then serves the data', async () => {
      write(dir, 'good.json', GOOD);
      write(dir, 'bad.json', BAD);
      write(dir, 'broken.json', '{"resourceType": "Bun');
      write(dir, 'goals.ndjson', NDJSON);
      write(dir, 'notes.txt', 'not imported: not .json or .ndjson');
      const r = await runCli(['import', dir], handle.env);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^Imported 4 resources from 4 file\(s\)/);
      expect(r.stdout).toMatch(/^ {2}Goal\s+2$/m);
      expect(r.stdout).toMatch(/^ {2}Patient\s+1$/m);
      expect(r.stdout).toMatch(/^ {2}Encounter\s+1$/m);
      expect(r.stdout).toMatch(/^4 failure\(s\):$/m);
      expect(r.stdout).toMatch(/bad\.json: transaction rolled back, none of its 2 entries written: Bundle\.entry\[1\] \(POST Observation\): .*Observation\.status/);
      expect(r.stdout).toMatch(/broken\.json: .*JSON/);
      expect(r.stdout).toMatch(/goals\.ndjson:3 \(PUT Goal\/g2\): .*Goal\.description/);
      expect(r.stdout).toMatch(/goals\.ndjson:4: .*not valid JSON/);
      expect(r.stdout).not.toContain('notes.txt');
      expect(r.stderr).toContain(`stride import: 4 file(s) into ${engine.name}`);
      expect(r.stderr).not.toContain('importing ['); // no progress bar: stderr is not a terminal

      expect(await withStride(handle.env, (s) => storedCounts(s.store))).toEqual({ Patient: 1, Encounter: 1, Goal: 2 });
      const server = await startServerProcess(handle.env);
      try {
        expect((await fhir(server.baseUrl, 'GET', 'Goal/g1')).body.description.text).toBe('walk 50 m');
        expect((await fhir(server.baseUrl, 'GET', 'Goal/g2')).status).toBe(404);
        expect((await fhir(server.baseUrl, 'GET', 'Patient/never')).status).toBe(404); // rolled back with its bundle
        const encounters = await fhir(server.baseUrl, 'GET', 'Encounter/_history');
        const subject = encounters.body.entry[0].resource.subject.reference;
        expect(subject).toMatch(/^Patient\/[0-9a-f-]{36}$/); // the urn:uuid became the id the server gave
        expect((await fhir(server.baseUrl, 'GET', subject)).body.name[0].family).toBe('Import');
      } finally {
        await server.stop();
      }
    }, SLOW);

    it('exits 0 with "No failures." when everything loads, and a re-import of ids updates them', async () => {
      const clean = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-import-clean-'));
      try {
        const file = write(clean, 'goals.ndjson', [goal('c1', { text: 'a' }), goal('c2', { text: 'b' })].join('\n'));
        const first = await runCli(['import', file], handle.env);
        expect([first.code, first.stdout.split('\n')[0]]).toEqual([0, expect.stringMatching(/^Imported 2 resources from 1 file\(s\)/)]);
        expect(first.stdout).toContain('No failures.');
        const again = await runCli(['import', file], handle.env);
        expect(again.code).toBe(0);
        const server = await startServerProcess(handle.env);
        try {
          expect((await fhir(server.baseUrl, 'GET', 'Goal/c1')).body.meta.versionId).toBe('2');
        } finally {
          await server.stop();
        }
      } finally {
        fs.rmSync(clean, { recursive: true, force: true });
      }
    }, SLOW);

    it('a missing path, or a folder with nothing to import, is a clear error with exit code 1', async () => {
      const missing = await runCli(['import', path.join(dir, 'nope.json')], handle.env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no such file or directory');
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-import-empty-'));
      const none = await runCli(['import', empty], handle.env);
      fs.rmSync(empty, { recursive: true, force: true });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no .json or .ndjson files');
    }, SLOW);
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;
describe.skipIf(!hasScript)('stride import on a terminal', () => {
  it('shows a progress bar (run under script(1), which gives it a pseudo-terminal)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-import-tty-'));
    try {
      const file = write(dir, 'good.json', GOOD);
      const command = `${process.execPath} --import tsx ${CLI} import ${file}`;
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, STRIDE_DATA_DIR: path.join(dir, 'data') }, encoding: 'utf8', timeout: SLOW });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/importing \[[^\]]+\] 100% \| .* 2 resources/);
      expect(r.stdout).toContain('No failures.');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, SLOW);
});
if (!hasScript) console.warn('script(1) absent: the progress bar test is skipped');

const missing = syntheaMissing();
if (missing) console.warn(missing);
describe.skipIf(!!missing)('stride import of the Synthea folder [sqlite]', () => {
  it('loads every bundle whole, with the per-type counts of the files', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-import-synthea-'));
    try {
      const r = await runCli(['import', SYNTHEA_DIR], { STRIDE_DATA_DIR: dataDir });
      console.log(`stride import of ${SYNTHEA_DIR}: ${r.stdout.split('\n')[0]}`);
      expect(r.stdout).toContain('No failures.');
      expect(r.code).toBe(0);
      const expected = expectedCounts(syntheaFiles());
      const total = Object.values(expected).reduce((a, b) => a + b, 0);
      expect(r.stdout).toContain(`Imported ${total} resources from 72 file(s)`);
      for (const [type, n] of Object.entries(expected)) expect(r.stdout).toMatch(new RegExp(`^  ${type}\\s+${n}$`, 'm'));
      expect(await withStride({ STRIDE_DATA_DIR: dataDir }, (s) => storedCounts(s.store))).toEqual(expected);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
