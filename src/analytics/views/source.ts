/**
 * The resources a view runs over, a page at a time, so a run over a million resources holds one page in memory:
 * the store's current resources of the view's type (keyset paging through the search, `_cursor` after `_cursor`),
 * narrowed to patients' compartments (`patient`, `group`) and to changes after `_since`; or resources given inline.
 * Pages are read one after another without a snapshot: a resource written during a long run may or may not be in it.
 */
import type { Group } from '@medplum/fhirtypes';
import type { Repository } from '../../repo/repository.js';
import { toStored } from '../../repo/repository.js';
import { parseKeepingDecimals } from './decimals.js';

/** Resources, parsed, a page at a time. */
export type ResourcePages = AsyncIterable<Array<{ resourceType: string; id?: string }>>;

export interface StoreSourceOptions {
  resourceType: string;
  /** Patient ids: only resources in these patients' compartments (a Patient view: these patients). */
  patients?: readonly string[];
  /** FHIR instant: only resources last updated after it. */
  since?: string;
  /** Resources per page (per query). */
  pageSize?: number;
  /** Parse decimals keeping their written text (views that call lowBoundary/highBoundary). */
  keepDecimalText?: boolean;
}

export const DEFAULT_PAGE_SIZE = 1000;

export async function* storePages(repo: Repository, options: StoreSourceOptions): ResourcePages {
  const parse = options.keepDecimalText ? parseKeepingDecimals : JSON.parse;
  const base: Record<string, string[]> = options.since ? { _lastUpdated: [`gt${options.since}`] } : {};
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const scopes: Array<{ params: Record<string, string[]>; compartment?: { type: string; id: string } }> = [];
  if (options.patients === undefined) scopes.push({ params: base });
  else if (options.resourceType === 'Patient') {
    // A patient is not in its own compartment's Patient list (that is Patient.link): a Patient view takes them by id.
    if (options.patients.length > 0) scopes.push({ params: { ...base, _id: [options.patients.join(',')] } });
  } else for (const id of options.patients) scopes.push({ params: base, compartment: { type: 'Patient', id } });
  // A resource in two of the patients' compartments (a shared Encounter) is run once.
  const seen = scopes.length > 1 ? new Set<string>() : undefined;
  for (const scope of scopes) {
    let cursor: string[] | undefined;
    do {
      const params = cursor ? { ...scope.params, _cursor: cursor } : scope.params;
      const page = await repo.search({ resourceType: options.resourceType, params, count: pageSize, offset: 0, total: 'none', compartment: scope.compartment });
      const resources = [];
      for (const row of page.rows) {
        if (seen) {
          if (seen.has(row.id)) continue;
          seen.add(row.id);
        }
        resources.push(parse(toStored(row).json) as { resourceType: string; id?: string });
      }
      if (resources.length > 0) yield resources;
      cursor = page.next?._cursor;
    } while (cursor);
  }
}

/** Resources given inline (`resource` parameters), as one page. */
export async function* inlinePages(resources: ReadonlyArray<{ resourceType: string; id?: string }>): ResourcePages {
  if (resources.length > 0) yield [...resources];
}

/** The patients of a Group: its members that are Patients and not marked inactive (R4 Group.member). */
export async function groupPatients(repo: Repository, groupId: string): Promise<string[]> {
  const group = JSON.parse((await repo.read('Group', groupId)).json) as Group;
  const out: string[] = [];
  for (const member of group.member ?? []) {
    if (member.inactive) continue;
    const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(member.entity?.reference ?? '');
    if (m) out.push(m[1]);
  }
  return out;
}
