/**
 * _include and _revinclude (R4 search.html#include): `Type:param[:targetType]`, `*` for every reference parameter,
 * `:iterate` to apply the same inclusion to included resources too. Resources come from the reference index of the
 * page's matches, in a bounded number of rounds.
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../fhir/outcomes.js';
import { join, sql, type Sql } from '../sql/sql.js';
import type { Queryer, ResourceRow } from '../storage/store.js';
import { loadDefinitions } from '../validation/definitions.js';
import { SEARCH_LIMITS } from './limits.js';
import { getParam } from './params/registry.js';

export interface IncludeSpec {
  reverse: boolean;
  iterate: boolean;
  /** The type that holds the reference. */
  sourceType: string;
  /** The reference parameter, or undefined for `*` (every one). */
  param?: string;
  targetType?: string;
}

export function parseIncludes(params: Record<string, string[]>): IncludeSpec[] {
  const specs: IncludeSpec[] = [];
  for (const [key, values] of Object.entries(params)) {
    const [name, modifier] = key.split(':');
    if (name !== '_include' && name !== '_revinclude') continue;
    if (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse') {
      throw new OperationOutcomeError(badRequest(`${key}: the only modifier of ${name} is :iterate`, key));
    }
    for (const value of values) specs.push(parseInclude(key, name === '_revinclude', modifier !== undefined, value));
  }
  if (specs.length > SEARCH_LIMITS.includes) {
    throw new OperationOutcomeError(badRequest(`At most ${SEARCH_LIMITS.includes} _include and _revinclude parameters are allowed; got ${specs.length}`, '_include'));
  }
  return specs;
}

function parseInclude(key: string, reverse: boolean, iterate: boolean, value: string): IncludeSpec {
  if (value === '*') return { reverse, iterate, sourceType: '*' };
  const [sourceType, param, targetType, extra] = value.split(':');
  const types = loadDefinitions().resourceTypeSet;
  if (!sourceType || !param || extra !== undefined) throw new OperationOutcomeError(badRequest(`${key}=${value}: use Type:parameter[:targetType] or *`, key));
  if (!types.has(sourceType)) throw new OperationOutcomeError(badRequest(`${key}=${value}: ${sourceType} is not a resource type`, key));
  if (targetType !== undefined && !types.has(targetType)) throw new OperationOutcomeError(badRequest(`${key}=${value}: ${targetType} is not a resource type`, key));
  if (param === '*') return { reverse, iterate, sourceType, targetType };
  const def = getParam(sourceType, param);
  if (def?.type !== 'reference') throw new OperationOutcomeError(badRequest(`${key}=${value}: ${param} is not a reference parameter of ${sourceType}`, key));
  return { reverse, iterate, sourceType, param, targetType };
}

interface Key {
  resource_type: string;
  id: string;
}

const keyOf = (r: Key): string => `${r.resource_type}/${r.id}`;

/** Resources the specs add to a page of matches (none of which is repeated). */
export async function loadIncludes(db: Queryer, specs: readonly IncludeSpec[], matches: readonly ResourceRow[]): Promise<ResourceRow[]> {
  if (specs.length === 0 || matches.length === 0) return [];
  const seen = new Set(matches.map(keyOf));
  const included: ResourceRow[] = [];
  let frontier: readonly Key[] = matches;
  for (let round = 0; round <= SEARCH_LIMITS.includeIterations && frontier.length > 0; round++) {
    const active = specs.filter((s) => round === 0 || s.iterate);
    if (active.length === 0) break;
    const found: ResourceRow[] = [];
    for (const spec of active) {
      for (const row of await includeRound(db, spec, frontier)) {
        if (seen.has(keyOf(row))) continue;
        seen.add(keyOf(row));
        found.push(row);
      }
    }
    included.push(...found);
    if (included.length > SEARCH_LIMITS.includedResources) {
      throw new OperationOutcomeError(badRequest(`The includes add more than ${SEARCH_LIMITS.includedResources} resources to this page: ask for a smaller _count or fewer includes`, '_include'));
    }
    frontier = found;
  }
  return included;
}

async function includeRound(db: Queryer, spec: IncludeSpec, frontier: readonly Key[]): Promise<ResourceRow[]> {
  const byType = new Map<string, string[]>();
  for (const r of frontier) {
    if (!spec.reverse && spec.sourceType !== '*' && r.resource_type !== spec.sourceType) continue;
    let ids = byType.get(r.resource_type);
    if (!ids) byType.set(r.resource_type, (ids = []));
    ids.push(r.id);
  }
  const out: ResourceRow[] = [];
  for (const [type, ids] of byType) {
    const keys = spec.reverse ? await referrers(db, spec, type, ids) : await targets(db, spec, type, ids);
    out.push(...(await loadResources(db, keys)));
  }
  return out;
}

const list = (values: readonly string[]): Sql => join(values.map((v) => sql`${v}`), ', ');

function paramFilter(spec: IncludeSpec): Sql {
  return spec.param ? sql` AND x.param = ${spec.param}` : sql``;
}

/** _include: what the frontier's resources of `type` refer to. */
async function targets(db: Queryer, spec: IncludeSpec, type: string, ids: string[]): Promise<Key[]> {
  const target = spec.targetType ? sql` AND x.target_type = ${spec.targetType}` : sql` AND x.target_type <> ''`;
  return db.all<Key>(
    sql`SELECT x.target_type AS resource_type, x.target_id AS id FROM search_reference x
        WHERE x.resource_type = ${type} AND x.id IN (${list(ids)})${paramFilter(spec)}${target}`,
  );
}

/** _revinclude: the resources of the spec's type that refer to the frontier's resources of `type`. */
async function referrers(db: Queryer, spec: IncludeSpec, type: string, ids: string[]): Promise<Key[]> {
  if (spec.targetType && spec.targetType !== type) return [];
  const source = spec.sourceType === '*' ? sql`` : sql` AND x.resource_type = ${spec.sourceType}`;
  return db.all<Key>(
    sql`SELECT x.resource_type, x.id FROM search_reference x
        WHERE x.target_type = ${type} AND x.target_id IN (${list(ids)})${source}${paramFilter(spec)}`,
  );
}

/** The current resources of the keys (repeated keys once: the queries above leave duplicates, DISTINCT there would
 * steer SQLite to an index in (type, id) order instead of the target lookup). */
async function loadResources(db: Queryer, keys: readonly Key[]): Promise<ResourceRow[]> {
  const byType = new Map<string, Set<string>>();
  for (const k of keys) {
    let ids = byType.get(k.resource_type);
    if (!ids) byType.set(k.resource_type, (ids = new Set()));
    ids.add(k.id);
  }
  const rows: ResourceRow[] = [];
  for (const [type, ids] of byType) {
    rows.push(
      ...(await db.all<ResourceRow>(
        sql`SELECT resource_type, id, version_id, last_updated, deleted, content FROM resource
            WHERE resource_type = ${type} AND id IN (${list([...ids])}) AND deleted = 0 ORDER BY id`,
      )),
    );
  }
  return rows;
}
