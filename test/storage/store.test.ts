/**
 * The storage contract (src/storage/store.ts) on every engine, from one test suite (STYLE 6): migrations,
 * all-or-nothing transactions, readers that see only committed data, and one history row per version.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachEngine } from '../support/server.js';
import type { EngineHandle } from '../support/engines.js';
import { ROOT } from '../support/cli.js';
import { loadConfig } from '../../src/config.js';
import { openStride, type Stride } from '../../src/stride.js';
import { openStore } from '../../src/storage/open.js';
import { MIGRATIONS } from '../../src/storage/schema.js';
import { sql } from '../../src/sql/sql.js';
import type { ResourceRow, Store } from '../../src/storage/store.js';
import { insertCurrent, insertHistory, selectCurrent, writeVersionRows } from '../../src/repo/queries.js';

const VERSIONS = MIGRATIONS.map((m) => m.version);

/** Runs test/storage/migrate-child.ts in its own process; resolves with the versions it printed. */
function migrateInChild(env: Record<string, string>): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/storage/migrate-child.ts')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`migration process exited with ${code}: ${err}`))));
  });
}

const migrationRows = (store: Store) => store.reader.all<{ version: number }>(sql`SELECT version FROM stride_migration ORDER BY version`);
const current = (store: Store, type: string, id: string) => store.reader.get<ResourceRow>(selectCurrent(type, id));
const insertBoth = (type: string, id: string, content: string) => [insertCurrent(type, id, 1, 1_700_000_000_000, 0, content), insertHistory(type, id, 1, 1_700_000_000_000, 0, content)];

describeEachEngine('storage', (engine) => {
  let handle: EngineHandle;
  let stride: Stride;
  let store: Store;
  beforeAll(async () => {
    handle = await engine.create();
    stride = await openStride(loadConfig({ ...handle.env }), pino({ level: 'silent' }));
    store = stride.store;
  });
  afterAll(async () => {
    await stride?.close();
    await handle?.dispose();
  });

  it('migrating again, from this store or a reopened one, applies nothing and keeps the data', async () => {
    await store.transaction(async (tx) => {
      for (const q of insertBoth('Patient', 'kept', '{"resourceType":"Patient","id":"kept"}')) await tx.run(q);
    });
    await store.migrate();
    const reopened = await openStore(loadConfig({ ...handle.env }));
    try {
      await reopened.migrate();
      expect((await migrationRows(reopened)).map((r) => Number(r.version))).toEqual(VERSIONS);
      expect((await current(reopened, 'Patient', 'kept'))?.content).toBe('{"resourceType":"Patient","id":"kept"}');
    } finally {
      await reopened.close();
    }
  });

  it('four processes migrating one new database at once all succeed, and each migration is recorded once', async () => {
    const fresh = await engine.create();
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => migrateInChild(fresh.env)));
      expect(results).toEqual([VERSIONS, VERSIONS, VERSIONS, VERSIONS]);
    } finally {
      await fresh.dispose();
    }
  }, 60_000);

  it('a transaction that throws leaves nothing behind; one running beside it commits; the key is free again', async () => {
    const failed = store.transaction(async (tx) => {
      for (const q of insertBoth('Patient', 'rolled-back', '{}')) await tx.run(q);
      throw new Error('the work failed after writing');
    });
    const committed = store.transaction(async (tx) => {
      for (const q of insertBoth('Patient', 'beside', '{}')) await tx.run(q);
      return 'done';
    });
    await expect(failed).rejects.toThrow('the work failed after writing');
    await expect(committed).resolves.toBe('done');
    expect(await current(store, 'Patient', 'rolled-back')).toBeUndefined();
    expect(await store.reader.get(sql`SELECT id FROM resource_history WHERE id = ${'rolled-back'}`)).toBeUndefined();
    expect((await current(store, 'Patient', 'beside'))?.id).toBe('beside');
    await store.transaction(async (tx) => {
      for (const q of insertBoth('Patient', 'rolled-back', '{"second":true}')) await tx.run(q);
    });
    expect((await current(store, 'Patient', 'rolled-back'))?.content).toBe('{"second":true}');
  });

  it('a transaction alone (no other queued beside it) that throws leaves nothing behind, and the next one commits', async () => {
    await expect(
      store.transaction(async (tx) => {
        for (const q of insertBoth('Patient', 'alone', '{}')) await tx.run(q);
        throw new Error('the lone work failed after writing');
      }),
    ).rejects.toThrow('the lone work failed after writing');
    expect(await current(store, 'Patient', 'alone')).toBeUndefined();
    expect(await store.reader.get(sql`SELECT id FROM resource_history WHERE id = ${'alone'}`)).toBeUndefined();
    await store.transaction(async (tx) => {
      for (const q of insertBoth('Patient', 'alone', '{"again":true}')) await tx.run(q);
    });
    expect((await current(store, 'Patient', 'alone'))?.content).toBe('{"again":true}');
  });

  it('a reader never sees a write before its transaction commits, and sees it after', async () => {
    let seenInside: ResourceRow | undefined | 'not read' = 'not read';
    await store.transaction(async (tx) => {
      for (const q of insertBoth('Patient', 'uncommitted', '{}')) await tx.run(q);
      expect((await tx.get<ResourceRow>(selectCurrent('Patient', 'uncommitted')))?.id).toBe('uncommitted');
      seenInside = await current(store, 'Patient', 'uncommitted');
    });
    expect(seenInside).toBeUndefined();
    expect((await current(store, 'Patient', 'uncommitted'))?.id).toBe('uncommitted');
  });

  it('every version is one history row, in write order; the current row is the last version', async () => {
    const { repo } = stride;
    const created = await repo.create({ resourceType: 'Patient', gender: 'female' });
    const id = created.stored.id;
    await repo.update({ resourceType: 'Patient', id, gender: 'male' });
    await repo.delete('Patient', id);
    const rows = await store.reader.all<ResourceRow & { seq: number }>(
      sql`SELECT seq, resource_type, id, version_id, last_updated, deleted, content FROM resource_history WHERE resource_type = ${'Patient'} AND id = ${id} ORDER BY seq`,
    );
    expect(rows.map((r) => [Number(r.version_id), Number(r.deleted)])).toEqual([[1, 0], [2, 0], [3, 1]]);
    expect(rows.map((r) => JSON.parse(r.content || '{}').gender)).toEqual(['female', 'male', undefined]);
    expect(rows.every((r, i) => i === 0 || (r.seq > rows[i - 1].seq && r.last_updated >= rows[i - 1].last_updated))).toBe(true);
    const now = await current(store, 'Patient', id);
    expect([Number(now?.version_id), Number(now?.deleted)]).toEqual([3, 1]);
  });

  /** The statements `work` runs in its own transaction, each as its text up to the first parameter. */
  async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
    const texts: string[] = [];
    const original = store.transaction.bind(store);
    const spy = vi.spyOn(store, 'transaction').mockImplementation((fn, options) =>
      original((tx) => {
        const logged = Object.create(tx) as typeof tx;
        for (const method of ['get', 'all', 'run'] as const) {
          (logged as any)[method] = (q: { strings: readonly string[] }) => (texts.push(q.strings[0].replace(/\s+/g, ' ').trim()), (tx as any)[method](q));
        }
        return fn(logged);
      }, options),
    );
    try {
      await work();
    } finally {
      spy.mockRestore();
    }
    return texts;
  }

  it('an update expecting a new resource inserts it without reading first; when one is there after all, it becomes the next version', async () => {
    const { repo } = stride;
    const history = async (id: string) => (await store.reader.all<{ version_id: number }>(sql`SELECT version_id FROM resource_history WHERE resource_type = ${'Basic'} AND id = ${id} ORDER BY seq`)).map((r) => Number(r.version_id));
    const basic = (id: string, code: string) => ({ resourceType: 'Basic' as const, id, code: { coding: [{ system: 'urn:test', code }] } });

    let result;
    const fresh = await statementsOf(async () => (result = await repo.update(basic('expect-new', 'first'), { expectNew: true })));
    // No read of the resource (the write hooks' own statements, such as the materialised-view registry's, aside).
    const readsResource = (t: string) => /^SELECT[\s\S]*\bFROM resource\b/.test(t);
    expect(fresh.some(readsResource)).toBe(false);
    expect(result).toMatchObject({ created: true, stored: { versionId: 1 } });
    expect(await history('expect-new')).toEqual([1]);

    // There after all: read, then written as version 2 (the insert left the row and wrote no history).
    const again = await statementsOf(async () => (result = await repo.update(basic('expect-new', 'second'), { expectNew: true })));
    expect(again.some(readsResource)).toBe(true);
    expect(result).toMatchObject({ created: false, stored: { versionId: 2 } });
    expect(await history('expect-new')).toEqual([1, 2]);
    expect(JSON.parse((await current(store, 'Basic', 'expect-new'))?.content ?? '{}').code.coding[0].code).toBe('second');

    // A deletion is a current row too: the next version recreates it.
    await repo.delete('Basic', 'expect-new');
    result = await repo.update(basic('expect-new', 'third'), { expectNew: true });
    expect(result).toMatchObject({ created: true, stored: { versionId: 4 } });
    expect(await history('expect-new')).toEqual([1, 2, 3, 4]);
    expect((await repo.search({ resourceType: 'Basic', params: { code: ['third'] }, count: 10, offset: 0, total: 'none' })).rows.map((r) => r.id)).toEqual(['expect-new']);
  });

  // PostgreSQL writes a version's current and history rows in one statement (Dialect.writesInWith).
  it.runIf(engine.name === 'postgres')('one statement writes both rows of a version; moved from a version that is not current, it writes neither', async () => {
    const history = (id: string) => store.reader.all<{ version_id: number }>(sql`SELECT version_id FROM resource_history WHERE resource_type = ${'Patient'} AND id = ${id} ORDER BY seq`);
    const content = (v: number) => JSON.stringify({ resourceType: 'Patient', id: 'one-statement', meta: { versionId: String(v) } });
    const changes = await store.transaction(async (tx) => [
      (await tx.run(writeVersionRows('Patient', 'one-statement', undefined, 1, 1_700_000_000_000, 0, content(1)))).changes,
      (await tx.run(writeVersionRows('Patient', 'one-statement', 1, 2, 1_700_000_000_001, 0, content(2)))).changes,
      // Someone else moved it first: the version it names is no longer current.
      (await tx.run(writeVersionRows('Patient', 'one-statement', 1, 3, 1_700_000_000_002, 0, content(3)))).changes,
    ]);
    expect(changes).toEqual([1, 1, 0]);
    expect((await history('one-statement')).map((r) => Number(r.version_id))).toEqual([1, 2]);
    const now = await current(store, 'Patient', 'one-statement');
    expect([Number(now?.version_id), Number(now?.last_updated), now?.content]).toEqual([2, 1_700_000_000_001, content(2)]);
  });

  it('numbers come back as numbers and text byte for byte, whatever the engine', async () => {
    const content = JSON.stringify({ resourceType: 'Patient', name: [{ text: 'Zoë "O\'Neil" 李 🦶' }] });
    await store.transaction(async (tx) => {
      await tx.run(insertCurrent('Patient', 'roundtrip', 7, 4_102_444_800_123, 0, content));
    });
    const row = await current(store, 'Patient', 'roundtrip');
    expect(row).toEqual({ resource_type: 'Patient', id: 'roundtrip', version_id: 7, last_updated: 4_102_444_800_123, deleted: 0, content });
  });
});
