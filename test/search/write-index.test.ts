/**
 * A transaction's index rows (src/repo/repository.ts): inserted together before the transaction searches and before
 * it commits. Whatever order a transaction writes, replaces, deletes and searches in, its searches and everyone's
 * after it find each resource by its last version only, and a transaction that fails leaves no row.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import type { Repository } from '../../src/repo/repository.js';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { found, search } from './support.js';

const SYSTEM = 'urn:stride-test:write-index';
const patient = (id: string, value: string): Patient => ({ resourceType: 'Patient', id, identifier: [{ system: SYSTEM, value }] });

describeEachEngine('index rows of a transaction', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  const inTx = async (repo: Repository, value: string): Promise<string[]> =>
    (await repo.search({ resourceType: 'Patient', params: { identifier: [`${SYSTEM}|${value}`] }, count: 10, offset: 0, total: 'none' })).rows.map((r) => r.id);

  it('finds what the transaction wrote, by its last version only, during the transaction and after it', async () => {
    await s.stride.repo.transaction(async (repo) => {
      // Searched between its versions: the first version's rows were inserted, then replaced.
      await repo.update(patient('wi-1', 'first'));
      expect(await inTx(repo, 'first')).toEqual(['wi-1']);
      await repo.update(patient('wi-1', 'second'));
      // Replaced before any search: the first version's rows never reach the database.
      await repo.update(patient('wi-2', 'first'));
      await repo.update(patient('wi-2', 'second'));
      // Created and deleted in the same transaction.
      await repo.update(patient('wi-3', 'second'));
      await repo.delete('Patient', 'wi-3');
      expect(await inTx(repo, 'first')).toEqual([]);
      expect(await inTx(repo, 'second')).toEqual(['wi-1', 'wi-2']);
      // Written after the last search: found once the transaction commits.
      await repo.update(patient('wi-4', 'second'));
    });
    expect(await found(s.baseUrl, `Patient?identifier=${SYSTEM}|first`)).toEqual([]);
    expect(await found(s.baseUrl, `Patient?identifier=${SYSTEM}|second`)).toEqual(['wi-1', 'wi-2', 'wi-4']);
  });

  it('searches run side by side (a bot reading a session) all see every row the transaction wrote', async () => {
    await s.stride.repo.transaction(async (repo) => {
      await repo.update({ ...patient('wi-7', 'parallel'), name: [{ family: 'Sidebyside' }], birthDate: '1951-03-04' });
      await repo.update({ resourceType: 'Observation', id: 'wi-8', status: 'final', code: { text: 'gait speed' }, subject: { reference: 'Patient/wi-7' } });
      const search = (resourceType: string, params: Record<string, string[]>) => repo.search({ resourceType, params, count: 10, offset: 0, total: 'none' });
      const answers = await Promise.all([
        search('Patient', { identifier: [`${SYSTEM}|parallel`] }),
        search('Patient', { family: ['sidebyside'] }),
        search('Observation', { subject: ['Patient/wi-7'] }),
        search('Patient', { birthdate: ['1951-03-04'] }),
      ]);
      expect(answers.map((a) => a.rows.map((r) => r.id))).toEqual([['wi-7'], ['wi-7'], ['wi-8'], ['wi-7']]);
    });
  });

  it('a transaction with more index rows than one statement takes finds every resource by every kind of row', async () => {
    // 1,440 Patients, 54 bound values of index rows each: more than one PostgreSQL statement takes (65,535).
    const n = 1440;
    await s.stride.repo.transaction(async (repo) => {
      for (let i = 0; i < n; i++) {
        await repo.update({
          ...patient(`wi-many-${i}`, `many-${i}`),
          name: [{ family: `Manyrows${i % 3}`, given: ['Ada'] }],
          birthDate: `19${String(10 + (i % 80))}-01-0${1 + (i % 9)}`,
          gender: i % 2 ? 'female' : 'male',
          generalPractitioner: [{ reference: `Practitioner/wi-gp-${i % 4}` }],
        });
      }
    });
    for (const i of [0, 719, 1439]) {
      const id = `wi-many-${i}`;
      expect(await found(s.baseUrl, `Patient?identifier=${SYSTEM}|many-${i}`)).toEqual([id]);
      expect(await found(s.baseUrl, `Patient?family=manyrows${i % 3}&general-practitioner=Practitioner/wi-gp-${i % 4}&birthdate=19${String(10 + (i % 80))}-01-0${1 + (i % 9)}&identifier=${SYSTEM}|many-${i}`)).toEqual([id]);
    }
    const count = async (query: string) => (await search(s.baseUrl, `${query}&_summary=count`)).total;
    expect(await count(`Patient?family=manyrows0`)).toBe(n / 3);
    expect(await count(`Patient?general-practitioner=Practitioner/wi-gp-3`)).toBe(n / 4);
    expect(await count(`Patient?gender=female&family=manyrows1`)).toBe(n / 6);
  });

  it('a transaction that fails leaves none of its rows, searched or not', async () => {
    const attempt = s.stride.repo.transaction(async (repo) => {
      await repo.update(patient('wi-5', 'failed'));
      expect(await inTx(repo, 'failed')).toEqual(['wi-5']);
      await repo.update(patient('wi-6', 'failed'));
      throw new Error('the write fails after its searches');
    });
    await expect(attempt).rejects.toThrow('the write fails after its searches');
    expect(await found(s.baseUrl, `Patient?identifier=${SYSTEM}|failed`)).toEqual([]);
  });
});
