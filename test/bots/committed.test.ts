/**
 * The committed answers the bots keep between writes (src/bots/committed.ts) against the database itself: after
 * random creates, updates and deletes (in transactions that commit, roll back, or commit together in one group), by
 * this process, by another connection, and by a write that is not a repository transaction, every answer the cache
 * gives is the one SQL gives in the same transaction.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../../src/config.js';
import { openStride, type Stride } from '../../src/stride.js';
import { CommittedCache } from '../../src/bots/committed.js';
import { resourceOf } from '../../src/bots/context.js';
import { toStored, type Repository, type StoredResource } from '../../src/repo/repository.js';
import { selectCurrent, updateCurrent } from '../../src/repo/queries.js';
import { prng } from '../support/random.js';

const LOINC = 'http://loinc.org';
/** Most matches a search returns here (the bots': 1,000): small, so that answers cut short happen. */
const LIMIT = 6;
const QUERIES: Array<[string, Record<string, string[]>]> = [
  ['Encounter', { 'episode-of-care': ['EpisodeOfCare/e1'] }],
  ['Encounter', { 'episode-of-care': ['EpisodeOfCare/e2'] }],
  ['Encounter', { 'episode-of-care': ['EpisodeOfCare/e1,EpisodeOfCare/e3'], status: ['finished'] }],
  ['Observation', { subject: ['Patient/p1'], code: [`${LOINC}|85071-9,${LOINC}|85070-1`] }],
  ['Observation', { subject: ['Patient/p2'] }],
  ['Observation', { code: ['85071-9'] }],
  ['Observation', { code: ['|local-1'] }],
  ['Observation', { subject: ['Patient/p1'], _sort: ['-date'] }],
];

function resourceFor(rnd: () => number, id: string): Resource {
  const pick = <T,>(list: T[]): T => list[Math.floor(rnd() * list.length)];
  if (id.startsWith('enc')) {
    return {
      resourceType: 'Encounter',
      id,
      status: pick(['finished', 'in-progress', 'planned']),
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: pick(['Patient/p1', 'Patient/p2']) },
      ...(rnd() < 0.2 ? {} : { episodeOfCare: [{ reference: pick(['EpisodeOfCare/e1', 'EpisodeOfCare/e2', 'EpisodeOfCare/e3']) }] }),
    } as Resource;
  }
  const coding = pick([{ system: LOINC, code: '85071-9' }, { system: LOINC, code: '85070-1' }, { system: LOINC, code: '8302-2' }, { code: 'local-1' }, { system: 'http://other', code: '85071-9' }]);
  // The performer may be a patient too: the same target under another parameter must not match `subject`.
  const performer = rnd() < 0.5 ? { performer: [{ reference: pick(['Patient/p1', 'Patient/p2']) }] } : {};
  return { resourceType: 'Observation', id, status: 'final', code: { coding: [coding] }, subject: { reference: pick(['Patient/p1', 'Patient/p2']) }, ...performer } as Resource;
}

const ids = (rows: StoredResource[]) => rows.map((r) => `${r.resourceType}/${r.id}/${r.versionId}`);

describe('committed answers kept between writes (SQLite)', () => {
  let dir: string;
  let noBots: string;
  let stride: Stride;
  let other: Stride;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-committed-'));
    noBots = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-no-bots-'));
    const env = { STRIDE_DATA_DIR: dir, STRIDE_BOTS_DIR: noBots };
    stride = await openStride(loadConfig(env), pino({ level: 'silent' }));
    // A second server on the same file: its commits are another connection's.
    other = await openStride(loadConfig(env), pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await other?.close();
    await stride?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(noBots, { recursive: true, force: true });
  });

  it('answers every read and search as SQL does, whoever wrote what', async () => {
    const rnd = prng(20261127);
    const cache = new CommittedCache();
    const stats = { searchHits: 0, readHits: 0, compared: 0, notFirst: 0, rolledBack: 0, objects: 0 };
    const pool = [...Array.from({ length: 12 }, (_, i) => `enc-${i}`), ...Array.from({ length: 12 }, (_, i) => `obs-${i}`)];
    const typeOf = (id: string) => (id.startsWith('enc') ? 'Encounter' : 'Observation');

    /** Compares the cache's answers with SQL's, filling the cache with SQL's where it had none. */
    const check = async (tx: Repository, view: ReturnType<CommittedCache['open']>) => {
      if (!view) throw new Error('SQLite gives every write transaction a view');
      for (const [type, params] of QUERIES) {
        const sql = (await tx.search({ resourceType: type, params, count: LIMIT, offset: 0, total: 'none' })).rows.map(toStored);
        const kept = view.search(type, params);
        // As the bots' context does: an answer as long as the limit may have been cut short; the database answers.
        if (kept && kept.length < LIMIT) {
          stats.searchHits++;
          expect(ids(kept), `${type}?${JSON.stringify(params)}`).toEqual(ids(sql));
          // What a bot reads of each: the stored text as an object (for a version this process wrote, the object
          // its write stored), frozen, so that no bot changes what the next write reads.
          for (const row of kept) {
            const resource = resourceOf(row);
            expect(resource).toEqual(JSON.parse(row.json));
            expect(Object.isFrozen(resource) && Object.isFrozen(resource.meta)).toBe(true);
            stats.objects++;
          }
        } else {
          view.fillSearch(type, params, sql, LIMIT);
        }
        stats.compared++;
      }
      for (const id of pool.filter(() => rnd() < 0.3)) {
        const key = `${typeOf(id)}/${id}`;
        if (tx.changes.some((c) => `${c.resourceType}/${c.id}` === key)) continue; // a write's own: not the cache's
        const sql = await tx.readCurrent(typeOf(id), id);
        const kept = view.read(key);
        if (kept !== undefined) {
          stats.readHits++;
          expect(kept ? `${kept.versionId}:${kept.json}` : null, key).toEqual(sql ? `${sql.versionId}:${sql.json}` : null);
        } else {
          view.fillRead(key, sql);
        }
      }
    };

    const write = async (repo: Repository) => {
      const id = pool[Math.floor(rnd() * pool.length)];
      const current = await repo.readCurrent(typeOf(id), id);
      if (current && !current.deleted && rnd() < 0.2) await repo.delete(typeOf(id), id);
      else await repo.update(resourceFor(rnd, id));
    };

    /** One repository transaction: writes, the cache checked against SQL, more writes, checked again; may roll back. */
    const transaction = async (repo: Repository) => {
      const rollBack = rnd() < 0.15;
      try {
        await repo.transaction(async (tx) => {
          const view = cache.open(tx);
          if (view && !view.usable) stats.notFirst++;
          for (let n = Math.floor(rnd() * 3); n > 0; n--) await write(tx);
          await check(tx, view);
          for (let n = Math.floor(rnd() * 2); n > 0; n--) await write(tx);
          await check(tx, view);
          if (rollBack) throw new Error('roll back');
        });
      } catch (err) {
        if ((err as Error).message !== 'roll back') throw err;
        stats.rolledBack++;
      }
    };

    /** Not a repository transaction: a raw update of a stored row (as a repair script might). */
    const rawWrite = async () => {
      const id = pool[Math.floor(rnd() * pool.length)];
      await stride.store.transaction(async (db) => {
        const row = await db.get<{ version_id: number; content: string; deleted: number }>(selectCurrent(typeOf(id), id));
        const status = typeOf(id) === 'Encounter' ? 'cancelled' : 'amended';
        const content = row?.content.replace(/"status":"[a-z-]+"/, `"status":"${status}"`);
        if (row && !Number(row.deleted)) await db.run(updateCurrent(typeOf(id), id, Number(row.version_id), Number(row.version_id), Date.now(), 0, content as string));
      });
    };

    for (let round = 0; round < 200; round++) {
      const r = rnd();
      if (r < 0.15) {
        // Several at once: one group commit, where only the first may use the cache.
        await Promise.all([transaction(stride.repo), transaction(stride.repo), transaction(stride.repo)]);
      } else if (r < 0.2) {
        await Promise.all([rawWrite(), transaction(stride.repo), transaction(stride.repo)]);
      } else if (r < 0.3) {
        await write(other.repo); // another connection
      } else if (r < 0.35) {
        await rawWrite();
      } else {
        await transaction(stride.repo);
      }
    }
    // The cache answered (the test is not vacuous) and every one of those answers matched SQL.
    expect(stats.objects).toBeGreaterThan(100);
    expect(stats.searchHits).toBeGreaterThan(200);
    expect(stats.readHits).toBeGreaterThan(100);
    expect(stats.notFirst).toBeGreaterThan(5);
    expect(stats.rolledBack).toBeGreaterThan(5);
    expect(cache.clears).toBeGreaterThan(5);
  });
});
