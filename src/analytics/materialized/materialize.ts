/**
 * Materialising a stored ViewDefinition (`stride views sync`, ViewDefinition/[id]/$materialize, and a write of a
 * materialised view): in one transaction, holding the exclusive lock of the view's resource type (registry.ts), drop
 * the view's table if there is one, create it with the columns the view declares, fill it from every current
 * resource of the type, and register it. Writers of that type wait for the lock and then keep the table current
 * (hook.ts). Dropping removes the table and the registration. A table is named after the view's `name` (else its
 * id), in lower case, so plain SQL needs no quotes: `views.outcome_observation` on PostgreSQL, `view_outcome_observation`
 * on SQLite.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Repository } from '../../repo/repository.js';
import { badRequest, conflict } from '../../fhir/outcomes.js';
import { lockUntilCommit } from '../../repo/locks.js';
import { compileView } from '../views/compile.js';
import { SQL_NAME } from '../views/validate.js';
import { VIEW_DEFINITION_TYPE } from '../views/stored.js';
import { storePages } from '../views/source.js';
import { raw } from '../../sql/sql.js';
import { createTable, dropTable, insertRows } from './table.js';
import { readRegistrations, removeRegistration, saveRegistration, sourceLockKey, type RegistryCache } from './registry.js';
import { tableRowsOf } from './rows.js';

/** Longest table name: PostgreSQL keeps 63 bytes of an identifier, and SQLite's tables get a `view_` prefix. */
const MAX_NAME = 58;

export interface MaterializeResult {
  viewId: string;
  table: string;
  /** The table's name as plain SQL writes it (`views.x` or `view_x`). */
  qualifiedTable: string;
  resourceType: string;
  viewVersion: number;
  rows: number;
  resources: number;
  /** Values the columns could not hold, and resources the view failed on (the first 20). */
  issues: string[];
  columns: Array<{ name: string; sqlType: string }>;
}

/** The table name of a view: its `name`, else its id with `-` and `.` as `_`, in lower case. */
export function tableNameOf(view: { name?: unknown; id?: unknown }): string {
  const base = typeof view.name === 'string' ? view.name : String(view.id ?? '').replace(/[-.]/g, '_');
  const name = (/^[A-Za-z]/.test(base) ? base : `v_${base}`).toLowerCase();
  if (!SQL_NAME.test(name) || name.length > MAX_NAME) {
    throw new OperationOutcomeError(badRequest(`The view's table name "${name}" must be letters, digits and _ (at most ${MAX_NAME}): give the ViewDefinition a shorter name`, 'ViewDefinition.name'));
  }
  return name;
}

/** Materialises (or rebuilds) the stored view `viewId` in the open transaction `tx`. */
export async function materializeView(tx: Repository, registry: RegistryCache, viewId: string): Promise<MaterializeResult> {
  const stored = await tx.read(VIEW_DEFINITION_TYPE, viewId);
  const json = stored.json;
  const view = compileView(JSON.parse(json), { stored: true });
  const table = tableNameOf({ ...view.view, id: viewId });
  const dialect = tx.deps.store.dialect;
  registry.changed();
  const all = await readRegistrations(tx.db);
  const owner = all.find((r) => r.table === table && r.viewId !== viewId);
  if (owner) throw new OperationOutcomeError(conflict(`ViewDefinition/${owner.viewId} is already materialised as table ${table}: give this view another name`));
  const previous = all.find((r) => r.viewId === viewId);
  for (const type of [...new Set([view.resourceType, previous?.resourceType ?? view.resourceType])].sort()) await lockUntilCommit(tx, sourceLockKey(type));
  if (previous) await tx.db.run(dropTable(dialect, previous.table));
  await tx.db.run(dropTable(dialect, table));
  const reg = registry.compile({ viewId, table, resourceType: view.resourceType, viewVersion: stored.versionId, definition: json, syncedAt: Date.now(), lastIssue: null });
  await tx.db.run(raw(createTable(dialect, table, reg.columns)));
  let rows = 0;
  let resources = 0;
  const issues: string[] = [];
  for await (const page of storePages(tx, { resourceType: view.resourceType, keepDecimalText: view.keepsDecimalText })) {
    const tableRows = [];
    for (const resource of page) {
      const out = tableRowsOf(reg, resource);
      resources++;
      tableRows.push(...out.rows);
      if (issues.length < 20) issues.push(...out.issues.slice(0, 20 - issues.length));
    }
    for (const statement of insertRows(dialect, table, reg.columns, tableRows)) await tx.db.run(statement);
    rows += tableRows.length;
  }
  await saveRegistration(tx.db, { ...reg, lastIssue: issues[0] ?? null });
  registry.changed();
  return {
    viewId,
    table,
    qualifiedTable: dialect.viewTable(table).replace(/"/g, ''),
    resourceType: view.resourceType,
    viewVersion: stored.versionId,
    rows,
    resources,
    issues,
    columns: reg.columns.map((c) => ({ name: c.name, sqlType: dialect.viewColumnTypes[c.kind] })),
  };
}

/** Drops the table of `viewId` and its registration; false when it was not materialised. */
export async function dropMaterializedView(tx: Repository, registry: RegistryCache, viewId: string): Promise<boolean> {
  registry.changed();
  const previous = (await readRegistrations(tx.db)).find((r) => r.viewId === viewId);
  if (!previous) return false;
  await lockUntilCommit(tx, sourceLockKey(previous.resourceType));
  await tx.db.run(dropTable(tx.deps.store.dialect, previous.table));
  await removeRegistration(tx.db, viewId);
  registry.changed();
  return true;
}
