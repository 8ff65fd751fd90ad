/**
 * The storage engines every storage/HTTP suite runs on (STYLE 6). SQLite always; PostgreSQL when a server answers
 * at STRIDE_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres). Each run gets its own fresh
 * database, dropped afterwards. Where PostgreSQL is absent, its suites are skipped and the reason is printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EngineHandle {
  /** Settings for loadConfig: STRIDE_DATA_DIR or STRIDE_DATABASE_URL. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export interface Engine {
  name: 'sqlite' | 'postgres';
  /** Why the engine cannot run here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  create(): Promise<EngineHandle>;
}

export const PG_ADMIN_URL = process.env.STRIDE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const sqliteEngine: Engine = {
  name: 'sqlite',
  unavailable: async () => undefined,
  async create() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-test-'));
    return { env: { STRIDE_DATA_DIR: dir }, dispose: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  },
};

let pgProbe: Promise<string | undefined> | undefined;

export const postgresEngine: Engine = {
  name: 'postgres',
  unavailable() {
    pgProbe ??= (async () => {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return undefined;
      } catch (err) {
        return `PostgreSQL suite skipped: no PostgreSQL at ${PG_ADMIN_URL} (${(err as Error).message}); set STRIDE_TEST_PG_URL to run it`;
      } finally {
        await client.end().catch(() => undefined);
      }
    })();
    return pgProbe;
  },
  async create() {
    const name = `stride_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      env: { STRIDE_DATABASE_URL: url.toString() },
      async dispose() {
        const a = new pg.Client({ connectionString: PG_ADMIN_URL });
        await a.connect();
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await a.end();
      },
    };
  },
};

export const ENGINES: readonly Engine[] = [sqliteEngine, postgresEngine];
