/**
 * Bot searches beside the transaction (src/bots/committed.ts searchBeside, Repository.searchCommitted): without the
 * committed view (PostgreSQL), a bot's search the index rows decide alone runs on committed data, on the read pool,
 * and the write's own changes are replayed over its answer. After random creates, updates and deletes inside a
 * transaction, that answer is the one the transaction's own search gives; a search it cannot answer so runs in the
 * transaction.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { searchBeside } from '../../src/bots/committed.js';
import { ReadOnlyContext } from '../../src/bots/context.js';
import { loadPolicies } from '../../src/bots/policies.js';
import { toStored, type Repository, type StoredResource } from '../../src/repo/repository.js';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { prng } from '../support/random.js';

const LOINC = 'http://loinc.org';
/** Most matches a search returns here (the bots': 1,000): small, so that answers cut short happen. */
const LIMIT = 6;
const QUERIES: Array<[string, Record<string, string[]>]> = [
  ['Encounter', { 'episode-of-care': ['EpisodeOfCare/sb-e1'] }],
  ['Encounter', { 'episode-of-care': ['EpisodeOfCare/sb-e1,EpisodeOfCare/sb-e2'], status: ['finished'] }],
  ['Observation', { subject: ['Patient/sb-p1'], code: [`${LOINC}|85071-9,${LOINC}|85070-1`] }],
  ['Observation', { subject: ['Patient/sb-p2'] }],
  ['Observation', { code: ['|local-1'] }],
];
const policies = loadPolicies(fileURLToPath(new URL('../../bots/policies/', import.meta.url)));

function resourceFor(rnd: () => number, id: string): Resource {
  const pick = <T,>(list: T[]): T => list[Math.floor(rnd() * list.length)];
  if (id.includes('enc')) {
    return {
      resourceType: 'Encounter',
      id,
      status: pick(['finished', 'in-progress']),
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'Patient/sb-p1' },
      ...(rnd() < 0.2 ? {} : { episodeOfCare: [{ reference: pick(['EpisodeOfCare/sb-e1', 'EpisodeOfCare/sb-e2']) }] }),
    } as Resource;
  }
  const coding = pick([{ system: LOINC, code: '85071-9' }, { system: LOINC, code: '85070-1' }, { system: LOINC, code: '8302-2' }, { code: 'local-1' }]);
  return { resourceType: 'Observation', id, status: 'final', code: { coding: [coding] }, subject: { reference: pick(['Patient/sb-p1', 'Patient/sb-p2']) } } as Resource;
}

const ids = (rows: StoredResource[]) => rows.map((r) => `${r.resourceType}/${r.id}/${r.versionId}`);

describeEachEngine('bot searches beside the transaction', (engine) => {
  let s: TestServer;
  const noBots = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-no-bots-'));
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BOTS_DIR: noBots });
  });
  afterAll(async () => {
    await s?.close();
    fs.rmSync(noBots, { recursive: true, force: true });
  });

  it("gives the transaction's own answer: committed matches, with its creates, updates and deletes replayed", async () => {
    const rnd = prng(20261128);
    const pool = [...Array.from({ length: 16 }, (_, i) => `sb-enc-${i}`), ...Array.from({ length: 16 }, (_, i) => `sb-obs-${i}`)];
    const typeOf = (id: string) => (id.includes('enc') ? 'Encounter' : 'Observation');
    const stats = { answered: 0, cutShort: 0, rolledBack: 0, changed: 0 };
    const write = async (tx: Repository) => {
      const id = pool[Math.floor(rnd() * pool.length)];
      const current = await tx.readCurrent(typeOf(id), id);
      if (current && !current.deleted && rnd() < 0.25) await tx.delete(typeOf(id), id);
      else await tx.update(resourceFor(rnd, id));
    };
    for (let round = 0; round < 40; round++) {
      const rollBack = rnd() < 0.2;
      try {
        await s.stride.repo.transaction(async (tx) => {
          for (let n = 1 + Math.floor(rnd() * 6); n > 0; n--) await write(tx);
          stats.changed += tx.changes.length;
          for (const [type, params] of QUERIES) {
            const own = (await tx.search({ resourceType: type, params, count: LIMIT, offset: 0, total: 'none' })).rows.map(toStored);
            const committed = async () => (await tx.searchCommitted({ resourceType: type, params, count: LIMIT, offset: 0, total: 'none' })).rows.map(toStored);
            const beside = await searchBeside(type, params, LIMIT, committed, tx.changes);
            if (beside === undefined) {
              // Only an answer that may have been cut short is refused (every query here is one the index decides).
              expect((await committed()).length, `${type}?${JSON.stringify(params)}`).toBe(LIMIT);
              stats.cutShort++;
              continue;
            }
            expect(ids(beside), `${type}?${JSON.stringify(params)}`).toEqual(ids(own));
            stats.answered++;
          }
          if (rollBack) throw new Error('roll back');
        });
      } catch (err) {
        if ((err as Error).message !== 'roll back') throw err;
        stats.rolledBack++;
      }
    }
    // Not vacuous: most answers came beside the transaction, some were cut short, some writes rolled back.
    expect(stats.answered).toBeGreaterThan(120);
    expect(stats.cutShort).toBeGreaterThan(0);
    expect(stats.rolledBack).toBeGreaterThan(2);
  });

  it('answers a search only the transaction can answer (a sort, a date) in the transaction', async () => {
    await s.stride.repo.transaction(async (tx) => {
      expect(await searchBeside('Observation', { subject: ['Patient/sb-p1'], _sort: ['-date'] }, LIMIT, async () => [], tx.changes)).toBeUndefined();
      expect(await searchBeside('Observation', { date: ['ge2026-01-01'] }, LIMIT, async () => [], tx.changes)).toBeUndefined();
    });
  });

  it("a bot's search without the committed view runs on the read pool and sees the write's own resources", async () => {
    await s.stride.repo.transaction(async (tx) => {
      await tx.update({ resourceType: 'Observation', id: 'sb-new', status: 'final', code: { coding: [{ system: LOINC, code: '85071-9' }] }, subject: { reference: 'Patient/sb-p3' } } as Resource);
      const inTx = vi.spyOn(tx, 'search');
      const beside = vi.spyOn(tx, 'searchCommitted');
      const ctx = new ReadOnlyContext({ tx, policies, logger: pino({ level: 'silent' }), now: new Date() });
      const found = await ctx.search('Observation', { subject: 'Patient/sb-p3', code: `${LOINC}|85071-9` });
      expect(found.map((o) => o.id)).toEqual(['sb-new']);
      expect(beside).toHaveBeenCalledTimes(1);
      expect(inTx).not.toHaveBeenCalled();
      // A sorted search is not decided by index rows: the transaction answers it.
      expect((await ctx.search('Observation', { subject: 'Patient/sb-p3', _sort: '-date' })).map((o) => o.id)).toEqual(['sb-new']);
      expect(inTx).toHaveBeenCalledTimes(1);
    });
  });
});
