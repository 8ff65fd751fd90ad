/**
 * `_typeFilter` (Bulk Data Access 2.0.0, export.html#_typefilter-experimental-query-parameter): per type, search
 * queries of which a resource must match one, run by Stride's own searcher (src/search) so that a filter means what
 * the same search means. Result parameters (_include, _sort ...) "SHALL NOT be used": a 400.
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../fhir/outcomes.js';
import { join, sql, type Sql } from '../sql/sql.js';
import type { Queryer } from '../storage/store.js';
import { buildFilter } from '../search/filter.js';
import { parseConditions, RESULT_PARAMETERS } from '../search/parse.js';
import { Planner } from '../search/plan.js';
import { parseQueryString } from '../fhir/query.js';
import { loadDefinitions } from '../validation/definitions.js';
import type { Refusals } from './export-kickoff.js';

/**
 * The queries of `_typeFilter` values. A client URL-encodes each query and joins them with commas; once the URL is
 * decoded, a comma inside a query (an OR of values) is followed by a value, a comma between queries by `Type?`.
 */
export function splitTypeFilter(values: string[]): string[] {
  return values.flatMap((v) => v.split(/,(?=[A-Z][A-Za-z]+\?)/)).map((q) => q.trim()).filter(Boolean);
}

/** A query checked against the export's types and the searcher's parameters; undefined when refused leniently. */
export function checkTypeFilter(filter: string, types: string[], explicitTypes: boolean, refusals: Refusals): { type: string; query: string } | undefined {
  const q = filter.indexOf('?');
  const type = q < 0 ? filter : filter.slice(0, q);
  if (!loadDefinitions().resourceTypeSet.has(type)) {
    refusals.refuse(`_typeFilter "${filter}" must start with a resource type and "?", e.g. MedicationRequest?status=active`, '_typeFilter');
    return undefined;
  }
  if (!types.includes(type)) {
    refusals.refuse(`_typeFilter "${filter}" is about ${type}, which ${explicitTypes ? '_type leaves out' : 'this export does not hold'}`, '_typeFilter');
    return undefined;
  }
  const params = parseQueryString(q < 0 ? '' : filter.slice(q + 1));
  for (const name of Object.keys(params)) {
    if (RESULT_PARAMETERS.has(name.split(':')[0]) || name === '_elements' || name === '_contained') {
      throw new OperationOutcomeError(badRequest(`_typeFilter "${filter}": ${name} shapes search results and cannot filter an export`, '_typeFilter'));
    }
  }
  const { unknown } = parseConditions(type, params);
  for (const name of unknown) {
    refusals.refuse(`_typeFilter "${filter}": ${name} is not a search parameter of ${type} that Stride supports`, '_typeFilter');
    delete params[name];
  }
  const query = new URLSearchParams(Object.entries(params).flatMap(([n, vs]) => vs.map((v) => [n, v]))).toString();
  return { type, query };
}

/**
 * The condition on resource alias `a` that a type's filters put on a page: matching any one of them (each as the
 * searcher writes it, current and not deleted). Undefined when the type has no filter.
 */
export async function typeFilterCondition(db: Queryer, type: string, queries: readonly string[] | undefined, baseUrl?: string): Promise<Sql | undefined> {
  if (!queries?.length) return undefined;
  const parts: Sql[] = [];
  // One planner for all: its aliases stay distinct across the queries.
  const planner = new Planner({ baseUrl });
  for (const query of queries) {
    const { conditions } = parseConditions(type, parseQueryString(query));
    const filter = await buildFilter(db, planner, [type], [conditions]);
    parts.push(sql`(${filter.where})`);
  }
  return sql`(${join(parts, ' OR ')})`;
}
