/**
 * The registry of materialised views (table view_materialized, schema.ts) and what a process keeps of it: the rows
 * it read and each view compiled once. Every write that changes a resource type asks which views read that type:
 * - on an engine whose queryer tracks other connections' commits (SQLite: CommitTracking), the rows read last are
 *   used as long as no other connection committed since and this process changed no registration (`generation`);
 *   with nothing materialised, a write then costs a map lookup;
 * - elsewhere (PostgreSQL, several processes) the write takes a shared lock on each type it changed, then reads the
 *   registry: a materialisation holds the exclusive lock of its type while it fills the table, so a write either
 *   finishes before the fill reads the data, or waits and then finds the view registered and updates its table.
 */
import type { Queryer } from '../../storage/store.js';
import type { Dialect } from '../../sql/sql.js';
import { join, sql } from '../../sql/sql.js';
import { lockKey } from '../../repo/locks.js';
import { compileView, type CompiledView } from '../views/compile.js';
import { tableColumns, type TableColumn } from './columns.js';

export interface Registration {
  viewId: string;
  table: string;
  resourceType: string;
  viewVersion: number;
  definition: string;
  syncedAt: number;
  lastIssue: string | null;
}

export interface CompiledRegistration extends Registration {
  view: CompiledView;
  columns: TableColumn[];
}

interface RegistryRow {
  view_id: string;
  table_name: string;
  resource_type: string;
  view_version: number;
  definition: string;
  synced_at: number;
  last_issue: string | null;
}

const toRegistration = (r: RegistryRow): Registration => ({
  viewId: r.view_id,
  table: r.table_name,
  resourceType: r.resource_type,
  viewVersion: Number(r.view_version),
  definition: r.definition,
  syncedAt: Number(r.synced_at),
  lastIssue: r.last_issue,
});

/** The lock a materialisation of a view over `type` holds exclusively, and writers of `type` share. */
export function sourceLockKey(type: string): string {
  return lockKey(`view-source:${type}`);
}

export async function readRegistrations(db: Queryer, types?: readonly string[]): Promise<Registration[]> {
  if (types !== undefined && types.length === 0) return [];
  const where = types === undefined ? sql`` : sql` WHERE resource_type IN (${join(types.map((t) => sql`${t}`), ', ')})`;
  const rows = await db.all<RegistryRow>(sql`SELECT view_id, table_name, resource_type, view_version, definition, synced_at, last_issue FROM view_materialized${where} ORDER BY view_id`);
  return rows.map(toRegistration);
}

export async function saveRegistration(db: Queryer, r: Registration): Promise<void> {
  await db.run(sql`DELETE FROM view_materialized WHERE view_id = ${r.viewId}`);
  await db.run(
    sql`INSERT INTO view_materialized (view_id, table_name, resource_type, view_version, definition, synced_at, last_issue) VALUES (${r.viewId}, ${r.table}, ${r.resourceType}, ${r.viewVersion}, ${r.definition}, ${r.syncedAt}, ${r.lastIssue})`,
  );
}

export async function removeRegistration(db: Queryer, viewId: string): Promise<void> {
  await db.run(sql`DELETE FROM view_materialized WHERE view_id = ${viewId}`);
}

export async function noteIssue(db: Queryer, viewId: string, issue: string): Promise<void> {
  await db.run(sql`UPDATE view_materialized SET last_issue = ${issue} WHERE view_id = ${viewId}`);
}

/** What one process remembers of the registry; `changed()` after anything that registers or drops a view. */
export class RegistryCache {
  /** Bumped by every change of a registration this process makes (even one later rolled back). */
  private generation = 0;
  private cached?: { generation: number; external: number; byType: Map<string, Registration[]> };
  private readonly compiled = new Map<string, CompiledRegistration>();

  changed(): void {
    this.generation++;
    this.cached = undefined;
  }

  /** The views (compiled) that read any of `types`, as the open transaction `db` sees the registry. */
  async viewsReading(db: Queryer, dialect: Dialect, types: readonly string[]): Promise<CompiledRegistration[]> {
    const commits = db.commits;
    let regs: Registration[];
    if (commits) {
      const external = commits.externalVersion();
      const c = this.cached;
      if (!c || c.generation !== this.generation || c.external !== external) {
        const byType = new Map<string, Registration[]>();
        for (const r of await readRegistrations(db)) byType.set(r.resourceType, [...(byType.get(r.resourceType) ?? []), r]);
        this.cached = { generation: this.generation, external, byType };
      }
      const byType = (this.cached as { byType: Map<string, Registration[]> }).byType;
      if (byType.size === 0) return [];
      regs = types.flatMap((t) => byType.get(t) ?? []);
    } else {
      const sorted = [...new Set(types)].sort();
      const locks = dialect.sharedTransactionLocks(sorted.map(sourceLockKey));
      if (locks) await db.get(locks);
      regs = await readRegistrations(db, sorted);
    }
    return regs.map((r) => this.compile(r));
  }

  /** A registration with its view compiled (once per view version in this process). */
  compile(r: Registration): CompiledRegistration {
    const key = `${r.viewId}|${r.viewVersion}|${r.table}`;
    const hit = this.compiled.get(key);
    if (hit && hit.definition === r.definition) return { ...hit, lastIssue: r.lastIssue, syncedAt: r.syncedAt };
    const view = compileView(JSON.parse(r.definition), { stored: true });
    const out: CompiledRegistration = { ...r, view, columns: tableColumns(view.columns) };
    if (this.compiled.size > 1000) this.compiled.clear();
    this.compiled.set(key, out);
    return out;
  }
}
