/**
 * `stride money rebuild`: the money ledger (migration 10) rebuilt from the stored resources, for a database whose claims,
 * remittances and payments were written before the ledger existed (or to repair it). The ledger holds nothing the
 * resources do not say (src/money/README.md), so it is emptied and every current Claim, then every ClaimResponse, then
 * every PaymentReconciliation is posted again through the same code as a write (MoneyLedger.post), in id order (the
 * order server-assigned ids were made in: a patient's payments are allocated oldest first, as they were), a page per
 * transaction. Stages follow (a settled claim is closed) as they would on a write.
 */
import type { Repository, StoredResource } from '../repo/repository.js';
import { sql } from '../sql/sql.js';
import { MoneyLedger } from './hook.js';

const PAGE = 500;
const TYPES = ['Claim', 'ClaimResponse', 'PaymentReconciliation'] as const;

export interface RebuildProgress {
  type: string;
  resources: number;
}

export async function rebuildLedger(repo: Repository, progress: (p: RebuildProgress) => void = () => undefined): Promise<Map<string, number>> {
  const ledger = new MoneyLedger();
  const counts = new Map<string, number>();
  await repo.transaction(async (tx) => {
    await tx.db.run(sql`DELETE FROM money_posting`);
    await tx.db.run(sql`DELETE FROM money_claim`);
  });
  for (const type of TYPES) {
    let after = '';
    let done = 0;
    for (;;) {
      const rows = await repo.db.all<{ id: string; version_id: number | string; last_updated: number | string; content: string }>(
        sql`SELECT id, version_id, last_updated, content FROM resource WHERE resource_type = ${type} AND deleted = 0 AND id > ${after} ORDER BY id LIMIT ${PAGE}`,
      );
      if (rows.length === 0) break;
      const page: StoredResource[] = rows.map((r) => ({ resourceType: type, id: r.id, versionId: Number(r.version_id), lastUpdated: Number(r.last_updated), deleted: false, json: r.content }));
      await repo.transaction((tx) => ledger.post(tx, page));
      after = rows.at(-1)!.id;
      done += rows.length;
      progress({ type, resources: done });
    }
    counts.set(type, done);
  }
  return counts;
}
