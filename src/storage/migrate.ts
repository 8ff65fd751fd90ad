/** Applies the versioned migrations of schema.ts that a database has not seen yet, inside one transaction. */
import type { Dialect } from '../sql/sql.js';
import { sql } from '../sql/sql.js';
import type { Queryer } from './store.js';
import { MIGRATIONS } from './schema.js';

export async function applyMigrations(tx: Queryer, dialect: Dialect, exec: (text: string) => void | Promise<void>): Promise<number[]> {
  await exec(`CREATE TABLE IF NOT EXISTS stride_migration (version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)`);
  const done = new Set((await tx.all<{ version: number }>(sql`SELECT version FROM stride_migration`)).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements(dialect)) await exec(statement);
    await migration.after?.(tx, dialect);
    await tx.run(sql`INSERT INTO stride_migration (version, name, applied_at) VALUES (${migration.version}, ${migration.name}, ${Date.now()})`);
    applied.push(migration.version);
  }
  return applied;
}
