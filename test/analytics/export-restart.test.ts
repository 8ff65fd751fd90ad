/**
 * Export jobs survive their process (issue 22 point 4): a real `stride serve` is killed (SIGKILL: no chance to give
 * the job back) in the middle of an export; another process on the same database takes the job up when its lease
 * lapses and finishes it from the last checkpoint, and says so; every resource is in the files exactly once. On
 * PostgreSQL, two processes share several jobs and no job runs twice. SQLite has one process per file, so the
 * two-process case runs on PostgreSQL only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { describeEachEngine } from '../support/server.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import type { EngineHandle } from '../support/engines.js';
import { syntheaMissing } from '../support/synthea.js';
import { download, kickoff, linesByKey, poll, type ExportResult } from './bulk-client.js';
import { loadBundles, smallestPatients } from './support.js';

/** Slow pages (a pause after each) and a short lease: an export lasts seconds, and a dead process's job frees fast. */
const SLOW = { STRIDE_EXPORT_PAGE_SIZE: '20', STRIDE_EXPORT_PAUSE_MS: '150', STRIDE_EXPORT_LEASE_SECONDS: '2' };

async function waitForProgress(statusUrl: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const res = await fetch(statusUrl);
    await res.text();
    const progress = res.headers.get('x-progress') ?? '';
    const m = /\((\d+) resources/.exec(progress);
    if (res.status === 202 && m && Number(m[1]) > 0) return progress;
    expect(res.status, 'the export finished before the process could be stopped').toBe(202);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no progress');
}

async function collect(statusUrl: string): Promise<ExportResult> {
  const { manifest, progress } = await poll(statusUrl, 0.2);
  const files = new Map<string, string[]>();
  for (const item of manifest.output) files.set(item.url, await download(item.url));
  return { statusUrl, manifest, progress, files };
}

const missing = syntheaMissing();
if (missing) {
  describe.skip(missing, () => it('needs ../shared/conformance/synthea-r4', () => undefined));
} else {
  describeEachEngine('$export jobs across process restarts', (engine) => {
    let handle: EngineHandle;
    let keys: string[];
    /** The process an export is under way on, and the one started after it. */
    let current: ServerProcess;
    const processes: ServerProcess[] = [];
    const start = async (env: Record<string, string>): Promise<ServerProcess> => {
      const p = await startServerProcess({ ...handle.env, ...env });
      processes.push(p);
      return p;
    };
    beforeAll(async () => {
      handle = await engine.create();
      current = await start(SLOW);
      keys = await loadBundles(current.baseUrl, smallestPatients(3));
    }, 120_000);
    afterAll(async () => {
      for (const p of processes) await p.stop();
      await handle?.dispose();
    });

    it('a process killed mid-export: the next one resumes the job from its checkpoint; nothing missing or repeated', async () => {
      const first = current;
      const statusUrl = await kickoff(first.baseUrl, '$export');
      expect(await waitForProgress(statusUrl)).toMatch(/resources/);
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      // Slow pages still, and a long lease of its own: the next test stops this one in the middle of a job.
      current = await start({ ...SLOW, STRIDE_EXPORT_LEASE_SECONDS: '600' });
      // The status URL names the first process's port: the job is the database's, so ask the second one.
      const result = await collect(statusUrl.replace(first.baseUrl, current.baseUrl));
      expect([...linesByKey(result).keys()].sort()).toEqual([...keys].sort());
      const notes = (await download(result.manifest.error[0].url)).map((l) => JSON.parse(l).issue[0]);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatchObject({ severity: 'information', code: 'informational' });
      expect(notes[0].details.text).toMatch(/interrupted after \d+ resources .* resumed/);
      expect(Number(/interrupted after (\d+)/.exec(notes[0].details.text)?.[1])).toBeGreaterThan(0);
    }, 120_000);

    it('a process stopped with SIGTERM gives its job back at once; a Parquet file cut short is written again', async () => {
      const first = current;
      const statusUrl = await kickoff(first.baseUrl, '$export', { query: '_type=Observation&_outputFormat=parquet' });
      await waitForProgress(statusUrl);
      await first.stop();
      // The job's lease was 600 s: only a job given back can be taken up again within this test.
      current = await start({ STRIDE_EXPORT_PAGE_SIZE: '20' });
      const { manifest } = await poll(statusUrl.replace(first.baseUrl, current.baseUrl), 0.2, 30_000);
      expect(manifest.output.reduce((n, o) => n + (o.count ?? 0), 0)).toBe(keys.filter((k) => k.startsWith('Observation/')).length);
      const notes = (await download(manifest.error[0].url)).map((l) => JSON.parse(l).issue[0].details.text);
      expect(notes[0]).toMatch(/resumed .* Parquet file Observation-1\.parquet was written again/);
    }, 120_000);

    if (engine.name === 'postgres') {
      it('two processes on one PostgreSQL share the jobs, and no job runs twice', async () => {
        const a = current;
        const b = await start({ ...SLOW, STRIDE_EXPORT_PAUSE_MS: '30' });
        const urls: string[] = [];
        for (let i = 0; i < 6; i++) urls.push(await kickoff(i % 2 ? b.baseUrl : a.baseUrl, '$export', { query: '_type=Patient,Encounter,Condition' }));
        const expected = keys.filter((k) => /^(Patient|Encounter|Condition)\//.test(k)).sort();
        for (const url of urls) expect([...linesByKey(await collect(url)).keys()].sort()).toEqual(expected);
        const client = new pg.Client({ connectionString: handle.env.STRIDE_DATABASE_URL });
        await client.connect();
        const { rows } = await client.query(`SELECT id, attempts, lease_owner FROM export_job WHERE request LIKE '%_type=Patient%2CEncounter%2CCondition'`);
        await client.end();
        expect(rows).toHaveLength(6);
        // Taken once each: a second take (attempts 2) would mean a process ran a job another one held.
        expect(rows.map((r) => Number(r.attempts))).toEqual([1, 1, 1, 1, 1, 1]);
      }, 180_000);
    }
  });
}
