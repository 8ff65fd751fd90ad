/**
 * `stride reindex` rebuilds the search index from the stored resources (issue 3, item 1), run as the real command
 * against the database a server is using.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { runCli } from '../support/cli.js';
import { fhir } from '../support/http.js';
import { raw, sql } from '../../src/sql/sql.js';
import { found, load } from './support.js';

describeEachEngine('stride reindex', (engine) => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startTestServer(engine);
    const { dataDir, databaseUrl } = s.stride.config;
    env = databaseUrl ? { STRIDE_DATABASE_URL: databaseUrl } : { STRIDE_DATA_DIR: dataDir };
    await load(s.baseUrl, [
      { resourceType: 'Patient', id: 'r1', name: [{ family: 'Rebuilt' }], gender: 'female' },
      { resourceType: 'Patient', id: 'r2', name: [{ family: 'Rebuilt' }], gender: 'male' },
      { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/r1' } },
    ]);
    await fhir(s.baseUrl, 'DELETE', 'Patient/r2');
  });
  afterAll(async () => s?.close());

  it('rebuilds a lost index: searches find the resources again, and deleted ones stay out', async () => {
    await s.stride.store.transaction(async (tx) => {
      for (const table of ['search_token', 'search_string', 'search_reference']) await tx.run(sql`DELETE FROM ${raw(table)}`);
      // A stray row of the deleted patient, as a crash of an old version might have left it.
      await tx.run(sql`INSERT INTO search_string (resource_type, id, param, value, exact) VALUES ('Patient', 'r2', 'family', 'rebuilt', 'Rebuilt')`);
      // And a row of a resource that is not stored at all (purged): counted from the index alone until it goes.
      await tx.run(sql`INSERT INTO search_string (resource_type, id, param, value, exact) VALUES ('Patient', 'ghost', 'family', 'rebuilt', 'Rebuilt')`);
    });
    const count = async (query: string) => (await fhir<any>(s.baseUrl, 'GET', `${query}&_summary=count`)).body.total;
    expect(await count('Patient?family=rebuilt')).toBe(2);
    expect(await found(s.baseUrl, 'Patient?gender=female')).toEqual([]);
    const r = await runCli(['reindex'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Reindexed 2 resources \(\d+ index rows\) of 2 type\(s\)/);
    expect(r.stdout).toMatch(/Patient\s+1 resources/);
    expect(await found(s.baseUrl, 'Patient?gender=female')).toEqual(['r1']);
    expect(await found(s.baseUrl, 'Patient?family=rebuilt')).toEqual(['r1']);
    expect(await count('Patient?family=rebuilt')).toBe(1);
    expect(await found(s.baseUrl, 'Observation?subject.family=rebuilt')).toEqual(['o1']);
  });

  it('--type limits the rebuild; an unknown type is refused', async () => {
    const r = await runCli(['reindex', '--type', 'Observation'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Reindexed 1 resources');
    const bad = await runCli(['reindex', '--type', 'Nonsense'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Nonsense');
  });
});
