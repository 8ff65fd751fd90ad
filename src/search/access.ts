/**
 * What a caller's scopes let a search reveal (issue 23): a chain or `_has` through a type the caller may not search is
 * refused (it would tell what those resources hold); `_include`/`_revinclude` add only resources of types it may see
 * and, for a patient-scoped caller, only those in its patient's compartment. The matches themselves are limited by a
 * compartment condition (searcher.ts), so `_summary=count`, paging and totals count only what the caller may see.
 */
import { OperationOutcomeError } from '@medplum/core';
import { forbidden } from '../fhir/outcomes.js';
import { join, sql } from '../sql/sql.js';
import type { Queryer, ResourceRow } from '../storage/store.js';
import { compartmentParams } from './compartment.js';
import type { Condition } from './parse.js';
import type { SearchAccess } from './types.js';

export function checkRevealed(access: SearchAccess, conditions: readonly Condition[]): void {
  for (const c of conditions) {
    if (c.kind === 'chain') {
      for (const link of c.links) {
        if (!access.maySearch(link.type)) throw refused(c.name, link.type);
        checkRevealed(access, [link.inner]);
      }
    } else if (c.kind === 'has') {
      if (!access.maySearch(c.sourceType)) throw refused(c.name, c.sourceType);
      checkRevealed(access, [c.inner]);
    }
  }
}

function refused(name: string, type: string): OperationOutcomeError {
  return new OperationOutcomeError(forbidden(`"${name}" searches ${type}, which this client's scopes do not allow it to search`));
}

export async function limitIncluded(db: Queryer, access: SearchAccess, rows: readonly ResourceRow[]): Promise<ResourceRow[]> {
  const visible = rows.filter((r) => access.mayRead(r.resource_type));
  const patient = access.patient;
  if (!patient || visible.length === 0) return visible;
  const inside = new Set<string>();
  const byType = new Map<string, string[]>();
  for (const r of visible) {
    if (r.resource_type === 'Patient') {
      if (r.id === patient) inside.add(`Patient/${r.id}`);
      continue;
    }
    let ids = byType.get(r.resource_type);
    if (!ids) byType.set(r.resource_type, (ids = []));
    ids.push(r.id);
  }
  for (const [type, ids] of byType) {
    const params = compartmentParams('Patient', type) ?? [];
    if (params.length === 0) continue;
    const found = await db.all<{ id: string }>(
      sql`SELECT DISTINCT x.id FROM search_reference x WHERE x.target_type = ${'Patient'} AND x.target_id = ${patient} AND x.resource_type = ${type}
          AND x.param IN (${join(params.map((p) => sql`${p}`), ', ')}) AND x.id IN (${join(ids.map((id) => sql`${id}`), ', ')})`,
    );
    for (const f of found) inside.add(`${type}/${f.id}`);
  }
  return visible.filter((r) => inside.has(`${r.resource_type}/${r.id}`));
}
