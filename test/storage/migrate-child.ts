/**
 * One process that opens the store named by its environment (STRIDE_DATABASE_URL or STRIDE_DATA_DIR), migrates it
 * and prints the migration versions the database then records, as JSON. The storage suite starts several at once.
 */
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/storage/open.js';
import { sql } from '../../src/sql/sql.js';

const store = await openStore(loadConfig(process.env));
try {
  await store.migrate();
  const rows = await store.reader.all<{ version: number }>(sql`SELECT version FROM stride_migration ORDER BY version`);
  process.stdout.write(JSON.stringify(rows.map((r) => Number(r.version))));
} finally {
  await store.close();
}
