/**
 * Keeping materialised views current (issue 22 point 3): a WriteHook that runs at the end of every write transaction,
 * after the bots (their ChargeItems and Claims are writes too), inside the same transaction. For each materialised
 * view that reads a type the transaction changed, each changed resource's rows are replaced (its last version's rows;
 * none for a deletion). The table changes commit with the write or not at all: a crash (kill -9) between the write
 * and the table update cannot happen, as there is no between, and a rolled-back write leaves the table as it was.
 * A write of a materialised ViewDefinition rebuilds its table (its columns may have changed); deleting it drops the
 * table. Cost: with no view over the types written, a map lookup on SQLite (registry.ts); on PostgreSQL a shared lock
 * and a registry read per write transaction (two round trips), which is what lets several processes materialise and
 * write at once without a write ever missing a table.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Repository, StoredResource, WriteHook } from '../../repo/repository.js';
import { VIEW_DEFINITION_TYPE } from '../views/stored.js';
import { parseKeepingDecimals } from '../views/decimals.js';
import { RegistryCache, noteIssue, readRegistrations, type Registration } from './registry.js';
import { dropMaterializedView, materializeView, type MaterializeResult } from './materialize.js';
import { replaceRows } from './rows.js';

export class MaterializedViews implements WriteHook {
  readonly registry = new RegistryCache();

  async afterWrite(tx: Repository): Promise<void> {
    // The last version of each resource the transaction wrote (a bot may update a Claim several times).
    const latest = new Map<string, StoredResource>();
    for (const c of tx.changes) {
      const key = `${c.resourceType}/${c.id}`;
      latest.delete(key);
      latest.set(key, c);
    }
    const views = [...latest.values()].filter((c) => c.resourceType === VIEW_DEFINITION_TYPE);
    const rebuilt = views.length > 0 ? await this.followViewDefinitions(tx, views) : new Set<string>();
    const types = [...new Set([...latest.values()].map((c) => c.resourceType))];
    // A table rebuilt just now was filled from this transaction's own writes: it is current already.
    const regs = (await this.registry.viewsReading(tx.db, tx.deps.store.dialect, types)).filter((r) => !rebuilt.has(r.viewId));
    if (regs.length === 0) return;
    const dialect = tx.deps.store.dialect;
    for (const reg of regs) {
      const problems: string[] = [];
      for (const c of latest.values()) {
        if (c.resourceType !== reg.resourceType) continue;
        const resource = c.deleted ? undefined : reg.view.keepsDecimalText ? (parseKeepingDecimals(c.json) as StoredResource['resource']) : (c.resource ?? JSON.parse(c.json));
        const issues = await replaceRows(tx.db, dialect, reg, c.id, resource, c.versionId === 1);
        for (const text of issues) addWarning(tx, `${c.resourceType}/${c.id}`, text);
        problems.push(...issues);
      }
      if (problems.length > 0) await noteIssue(tx.db, reg.viewId, problems[0]);
    }
  }

  /** A materialised ViewDefinition that was written is rebuilt with its new version; one that was deleted, dropped. */
  private async followViewDefinitions(tx: Repository, changed: StoredResource[]): Promise<Set<string>> {
    const registered = new Set((await readRegistrations(tx.db)).map((r) => r.viewId));
    const rebuilt = new Set<string>();
    for (const c of changed) {
      if (!registered.has(c.id)) continue;
      if (c.deleted) await dropMaterializedView(tx, this.registry, c.id);
      else await materializeView(tx, this.registry, c.id);
      rebuilt.add(c.id);
    }
    return rebuilt;
  }

  /** `stride views sync`, $materialize: (re)builds the view's table in the repository's transaction. */
  materialize(repo: Repository, viewId: string): Promise<MaterializeResult> {
    return repo.transaction((tx) => materializeView(tx, this.registry, viewId));
  }

  drop(repo: Repository, viewId: string): Promise<boolean> {
    return repo.transaction((tx) => dropMaterializedView(tx, this.registry, viewId));
  }

  list(repo: Repository): Promise<Registration[]> {
    return readRegistrations(repo.db);
  }
}

function addWarning(tx: Repository, key: string, text: string): void {
  const issue: OperationOutcomeIssue = { severity: 'warning', code: 'value', details: { text } };
  tx.findings.set(key, [...(tx.findings.get(key) ?? []), issue]);
}
