/** Chooses the storage engine from the configuration: PostgreSQL for a postgres:// URL, else SQLite under dataDir. */
import path from 'node:path';
import type { Config } from '../config.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export const SQLITE_FILE = 'stride.sqlite';

export async function openStore(config: Config): Promise<Store> {
  if (config.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(config.databaseUrl)) throw new Error(`STRIDE_DATABASE_URL must start with postgres://, got "${config.databaseUrl}"`);
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    return new PostgresStore({ url: config.databaseUrl });
  }
  return new SqliteStore({ file: path.join(config.dataDir, SQLITE_FILE), synchronous: config.sqliteSynchronous });
}
