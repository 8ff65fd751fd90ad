/**
 * The SQL an export job reads with: one page of a type at a time, in id order from a cursor (keyset paging, so a job
 * never holds more than a page and resumes from the last id it checkpointed), and the versions as of the export's
 * transactionTime of the resources that changed after it.
 */
import { join, sql, type Sql } from '../sql/sql.js';
import type { Queryer, ResourceRow } from '../storage/store.js';
import { compartmentParams } from '../search/compartment.js';
import type { ExportSpec } from './export-types.js';

const COLUMNS = sql`a.resource_type, a.id, a.version_id, a.last_updated, a.deleted, a.content`;

export interface PageScope {
  type: string;
  /** Conditions on alias `a` besides the type and the cursor: compartment, _typeFilter. */
  conditions: Sql[];
  since?: number;
  transactionTime: number;
}

/**
 * A page of current rows: live ones, and deleted ones that may matter (deleted after `_since`, to be reported as
 * deleted, or after transactionTime, whose version as of then may have been live).
 */
export function pageQuery(scope: PageScope, afterId: string, limit: number): Sql {
  const changedAfter = scope.since ?? scope.transactionTime;
  let where = sql`a.resource_type = ${scope.type} AND a.id > ${afterId} AND (a.deleted = 0 OR a.last_updated > ${changedAfter})`;
  if (scope.since !== undefined) where = sql`${where} AND a.last_updated > ${scope.since}`;
  for (const condition of scope.conditions) where = sql`${where} AND ${condition}`;
  return sql`SELECT ${COLUMNS} FROM resource a WHERE ${where} ORDER BY a.id LIMIT ${limit}`;
}

/**
 * Who a Patient or Group export holds, for one type (R4 Patient CompartmentDefinition, src/search/compartment.ts): a
 * resource whose compartment reference parameters name a patient of the export (`listed`: those in export_patient;
 * else any Patient), and for Patient the patients themselves. Undefined for a system-level export.
 */
export function compartmentCondition(spec: ExportSpec, jobId: string, type: string): Sql | undefined {
  if (spec.level === 'system') return undefined;
  const params = compartmentParams('Patient', type) ?? [];
  const listed = sql`SELECT p.patient_id FROM export_patient p WHERE p.job_id = ${jobId}`;
  const parts: Sql[] = [];
  if (type === 'Patient') parts.push(spec.listed ? sql`a.id IN (${listed})` : sql`1 = 1`);
  if (params.length > 0) {
    const inParams = join(params.map((p) => sql`${p}`), ', ');
    // Listed patients drive the lookup (their reference rows, by target); every patient is a check per row instead.
    parts.push(
      spec.listed
        ? sql`a.id IN (SELECT r.id FROM search_reference r WHERE r.target_type = ${'Patient'} AND r.target_id IN (${listed}) AND r.resource_type = ${type} AND r.param IN (${inParams}))`
        : sql`EXISTS (SELECT 1 FROM search_reference r WHERE r.id = a.id AND r.resource_type = ${type} AND r.param IN (${inParams}) AND r.target_type = ${'Patient'})`,
    );
  }
  if (parts.length === 0) return sql`1 = 0`;
  return sql`(${join(parts, ' OR ')})`;
}

/**
 * The version of each resource as it stood at `time` (the latest version stamped at or before it), by id; absent when
 * the resource did not exist yet. For the few resources of a page that changed after the export's transactionTime.
 */
export async function versionsAsOf(db: Queryer, type: string, ids: string[], time: number): Promise<Map<string, ResourceRow>> {
  const out = new Map<string, ResourceRow>();
  if (ids.length === 0) return out;
  const rows = await db.all<ResourceRow>(
    sql`SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource_history
        WHERE resource_type = ${type} AND id IN (${join(ids.map((id) => sql`${id}`), ', ')}) AND last_updated <= ${time}
        ORDER BY id, version_id DESC`,
  );
  for (const row of rows) if (!out.has(row.id)) out.set(row.id, row);
  return out;
}

/** Current resources of the types, for X-Progress: what a system-level export reads at most. */
export async function countCurrent(db: Queryer, types: string[], all: boolean): Promise<number> {
  const where = all ? sql`deleted = 0` : sql`deleted = 0 AND resource_type IN (${join(types.map((t) => sql`${t}`), ', ')})`;
  return Number((await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM resource WHERE ${where}`))?.n ?? 0);
}
