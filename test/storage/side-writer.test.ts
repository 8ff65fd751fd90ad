/**
 * SQLite's side writer (src/storage/sqlite/side-writer.ts, Store.writeAside): statements written on a worker
 * thread's connection, all or nothing, in the writer's queue between its own transactions, and waited for by close.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { sql } from '../../src/sql/sql.js';

let dir: string;
let store: SqliteStore;
const file = (): string => path.join(dir, 'stride.sqlite');
const row = (id: string) => sql`INSERT INTO x12_counter (name, value) VALUES (${id}, ${1})`;
const names = async (s: SqliteStore): Promise<string[]> => (await s.reader.all<{ name: string }>(sql`SELECT name FROM x12_counter WHERE name LIKE ${'side%'} ORDER BY name`)).map((r) => r.name);

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-side-'));
  store = new SqliteStore({ file: file() });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it("writes the statements, committed when it resolves, between the writer's own transactions", async () => {
  const writes = [
    store.transaction((tx) => tx.run(row('side-a'))),
    store.writeAside([row('side-b'), row('side-c')]),
    store.transaction((tx) => tx.run(row('side-d'))),
  ];
  await Promise.all(writes);
  expect(await names(store)).toEqual(['side-a', 'side-b', 'side-c', 'side-d']);
});

it('writes all of a batch or none of it, and says why', async () => {
  // The second statement breaks the primary key: the first is rolled back with it.
  await expect(store.writeAside([row('side-e'), row('side-a'), row('side-a')])).rejects.toThrow(/UNIQUE/);
  expect(await names(store)).toEqual([]);
  await store.writeAside([row('side-f')]);
  expect(await names(store)).toEqual(['side-f']);
});

it('finishes what it was given before the store closes', async () => {
  const pending = store.writeAside([row('side-g')]);
  await store.close();
  await pending;
  store = new SqliteStore({ file: file() });
  expect(await names(store)).toEqual(['side-g']);
});
