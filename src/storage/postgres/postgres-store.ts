/**
 * PostgreSQL storage through `pg` (DESIGN §4): pooled connections, one client per transaction. Races between
 * processes are settled by the database: primary keys, row locks and retries of serialization failures.
 */
import pg from 'pg';
import type { Queryer, Row, Store, TransactionOptions } from '../store.js';
import { render, type Sql } from '../../sql/sql.js';
import { postgresDialect } from './dialect.js';
import { applyMigrations } from '../migrate.js';

export interface PostgresStoreOptions {
  url: string;
  poolSize?: number;
}

/** SQLSTATEs worth retrying the whole transaction for: serialization_failure, deadlock_detected, unique_violation. */
const RETRYABLE = new Set(['40001', '40P01', '23505']);
/** Key of the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 7_401_116;

class PgQueryer implements Queryer {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  async all<R extends Row = Record<string, unknown>>(query: Sql): Promise<R[]> {
    const { text, params } = render(query, postgresDialect);
    return (await this.client.query({ text, values: params })).rows as R[];
  }

  async get<R extends Row = Record<string, unknown>>(query: Sql): Promise<R | undefined> {
    return (await this.all<R>(query))[0];
  }

  async run(query: Sql): Promise<{ changes: number }> {
    const { text, params } = render(query, postgresDialect);
    return { changes: (await this.client.query({ text, values: params })).rowCount ?? 0 };
  }
}

export class PostgresStore implements Store {
  readonly dialect = postgresDialect;
  readonly location: string;
  readonly reader: Queryer;
  private readonly pool: pg.Pool;

  constructor(options: PostgresStoreOptions) {
    // BIGINT columns hold epoch milliseconds: read them as numbers, not strings.
    pg.types.setTypeParser(20, (v) => Number(v));
    this.pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    this.location = options.url.replace(/\/\/([^:@/]+)(:[^@/]*)?@/, '//$1@');
    this.reader = new PgQueryer(this.pool);
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await applyMigrations(new PgQueryer(client), this.dialect, async (text) => void (await client.query(text)));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async transaction<T>(work: (tx: Queryer) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const retries = options.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(new PgQueryer(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= retries) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
      } finally {
        client.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
