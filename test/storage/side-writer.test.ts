/**
 * Store.appendRows, the audit trail's bulk write (SQLite: one INSERT on the side writer's worker thread connection,
 * src/storage/sqlite/side-writer.ts; PostgreSQL: COPY FROM STDIN): rows written all or nothing, every value back as
 * it was given (text with tabs, newlines, backslashes and quotes, numbers, NULL), on SQLite in the writer's queue
 * between its own transactions and waited for by close.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sql } from '../../src/sql/sql.js';
import { openStore } from '../../src/storage/open.js';
import { loadConfig } from '../../src/config.js';
import type { Store } from '../../src/storage/store.js';
import { describeEachEngine } from '../support/server.js';
import type { EngineHandle } from '../support/engines.js';

const COLUMNS = ['name', 'value'];
const names = async (s: Store): Promise<string[]> => (await s.reader.all<{ name: string }>(sql`SELECT name FROM x12_counter WHERE name LIKE ${'side%'} ORDER BY name`)).map((r) => r.name);

describeEachEngine('bulk appends', (engine) => {
  let handle: EngineHandle;
  let store: Store;
  beforeEach(async () => {
    handle = await engine.create();
    store = await openStore(loadConfig(handle.env));
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await handle.dispose();
  });

  it("writes the rows, committed when it resolves, between the writer's own transactions", async () => {
    const writes = [
      store.transaction((tx) => tx.run(sql`INSERT INTO x12_counter (name, value) VALUES (${'side-a'}, ${1})`)),
      store.appendRows('x12_counter', COLUMNS, [['side-b', 2], ['side-c', 3]]),
      store.transaction((tx) => tx.run(sql`INSERT INTO x12_counter (name, value) VALUES (${'side-d'}, ${4})`)),
    ];
    await Promise.all(writes);
    expect(await names(store)).toEqual(['side-a', 'side-b', 'side-c', 'side-d']);
  });

  it('writes all of a batch or none of it, and says why', async () => {
    // The third row breaks the primary key: the first two are not written either.
    await expect(store.appendRows('x12_counter', COLUMNS, [['side-e', 1], ['side-a', 1], ['side-a', 1]])).rejects.toThrow(/UNIQUE|duplicate key/);
    expect(await names(store)).toEqual([]);
    await store.appendRows('x12_counter', COLUMNS, [['side-f', 1]]);
    expect(await names(store)).toEqual(['side-f']);
  });

  it('gives back every value as it was written', async () => {
    const texts = ['tab\there', 'new\nline', 'back\\slash', 'carriage\rreturn', "quote's \"double\"", '\\N', 'ünïcödé 患者', ''];
    const rows = texts.map((t, i) => [`side-${i}`, i, t, i % 2 === 0 ? null : `c${i}`]);
    await store.appendRows('auth_client', ['id', 'created_at', 'name', 'jwks', 'scope', 'disabled'], rows.map((r) => [...r, 'system/*.rs', 0]));
    const back = await store.reader.all<{ id: string; name: string; jwks: string | null; created_at: number }>(sql`SELECT id, name, jwks, created_at FROM auth_client WHERE id LIKE ${'side-%'} ORDER BY created_at`);
    expect(back.map((r) => [r.id, Number(r.created_at), r.name, r.jwks])).toEqual(rows);
  });

  if (engine.name === 'sqlite') {
    it('finishes what it was given before the store closes', async () => {
      const pending = store.appendRows('x12_counter', COLUMNS, [['side-g', 1]]);
      await store.close();
      await pending;
      store = await openStore(loadConfig(handle.env));
      expect(await names(store)).toEqual(['side-g']);
    });
  }
});
