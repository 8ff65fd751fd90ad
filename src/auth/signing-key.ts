/**
 * The secret Stride signs access tokens with. Only Stride verifies its own tokens, so a shared secret (HS256) does,
 * and it verifies in microseconds, which matters on every request. The first process to start makes it and stores it
 * (auth_key); the others, and later starts, read the same one, so a token from one process works on every other.
 */
import { randomBytes } from 'node:crypto';
import { sql } from '../sql/sql.js';
import type { Store } from '../storage/store.js';

const KEY_ID = 'access-token';

export async function loadSigningSecret(store: Store): Promise<Uint8Array> {
  const existing = await store.reader.get<{ secret: string }>(sql`SELECT secret FROM auth_key WHERE id = ${KEY_ID}`);
  if (existing) return Buffer.from(existing.secret, 'base64');
  const made = randomBytes(32).toString('base64');
  // Two processes starting at once: one INSERT wins, both read the winner's.
  await store.transaction((tx) => tx.run(sql`INSERT INTO auth_key (id, secret, created_at) VALUES (${KEY_ID}, ${made}, ${Date.now()}) ON CONFLICT DO NOTHING`));
  const row = await store.reader.get<{ secret: string }>(sql`SELECT secret FROM auth_key WHERE id = ${KEY_ID}`);
  return Buffer.from(row!.secret, 'base64');
}
