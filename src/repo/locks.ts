/**
 * Locks that make concurrent writes from several processes come out as if run one after another (DESIGN §4).
 * Row locks cover resources that exist; a transaction-scoped lock on a key covers what does not exist yet (a
 * conditional create's criteria, a new client id). Where write transactions are serialised (SQLite) the dialect
 * has no such lock and `lockRows` is empty: every function here is then a no-op.
 */
import { createHash } from 'node:crypto';
import type { Repository } from './repository.js';
import { selectCurrent } from './queries.js';

export interface ResourceKey {
  type: string;
  id: string;
}

/** A signed 64-bit lock key (decimal text) for a name. Two names sharing a key only wait for each other. */
export function lockKey(name: string): string {
  return BigInt.asIntN(64, createHash('sha256').update(name).digest().readBigUInt64BE(0)).toString();
}

/** The key of `type?criteria`, the same however the criteria were spelled (parameter order, percent-encoding). */
export function criteriaLockKey(type: string, params: Record<string, string[]>): string {
  const pairs = Object.entries(params).flatMap(([name, values]) => values.map((v) => `${encodeURIComponent(name)}=${encodeURIComponent(v)}`));
  return lockKey(`criteria:${type}?${pairs.sort().join('&')}`);
}

/**
 * Holds the lock on `key` until the repository's open transaction ends; outside a transaction there is none to hold.
 * True when a lock was taken (false where write transactions are serialised and the dialect has none).
 */
export async function lockUntilCommit(repo: Repository, key: string): Promise<boolean> {
  const statement = repo.inTransaction ? repo.deps.store.dialect.transactionLock(key) : undefined;
  if (statement) await repo.db.run(statement);
  return statement !== undefined;
}

/**
 * Locks resources a transaction is about to change in one global order (type/id by code unit), so that two
 * transactions writing the same resources in different entry orders queue instead of deadlocking. A resource
 * that does not exist yet is locked by its key, then its row is locked if another transaction created it meanwhile.
 */
export async function lockInOrder(repo: Repository, refs: readonly ResourceKey[]): Promise<void> {
  const { dialect } = repo.deps.store;
  if (!repo.inTransaction || !dialect.lockRows) return;
  const names = [...new Set(refs.map((r) => `${r.type}/${r.id}`))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const [type, id] = name.split('/');
    if (await repo.db.get(selectCurrent(type, id, dialect))) continue;
    await lockUntilCommit(repo, lockKey(`resource:${name}`));
    await repo.db.get(selectCurrent(type, id, dialect));
  }
}
