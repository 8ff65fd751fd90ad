/**
 * A correct but unindexed searcher: reads every current resource of the type and keeps those that
 * @medplum/core's in-memory matcher accepts. It serves until the indexed search of src/search/ replaces it; it is
 * also the reference the indexed search is tested against.
 */
import { matchesSearchRequest, OperationOutcomeError, parseSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { sql } from '../sql/sql.js';
import type { Queryer, ResourceRow } from '../storage/store.js';
import type { Searcher, SearchQuery, SearchResult } from './types.js';
import { badRequest } from '../fhir/outcomes.js';

/** Parameters that shape the result rather than filter it. */
const RESULT_PARAMETERS = new Set(['_count', '_offset', '_total', '_summary', '_elements', '_sort', '_format', '_pretty', '_include', '_revinclude', '_contained', '_containedType']);

export function createScanSearcher(): Searcher {
  return {
    async search(db: Queryer, query: SearchQuery): Promise<SearchResult> {
      const filters: Record<string, string[]> = Object.create(null); // keys are the client's names
      for (const [name, values] of Object.entries(query.params)) {
        if (!RESULT_PARAMETERS.has(name.split(':')[0])) filters[name] = values;
      }
      let request;
      try {
        request = parseSearchRequest(query.resourceType, filters);
      } catch (err) {
        throw new OperationOutcomeError(badRequest(`Invalid search: ${(err as Error).message}`));
      }
      const ids = filters._id?.flatMap((v) => v.split(','));
      const rows = ids?.length === 1
        ? await db.all<ResourceRow>(sql`SELECT * FROM resource WHERE resource_type = ${query.resourceType} AND id = ${ids[0]} AND deleted = 0`)
        : await db.all<ResourceRow>(sql`SELECT * FROM resource WHERE resource_type = ${query.resourceType} AND deleted = 0 ORDER BY last_updated DESC, id`);
      const matches = rows.filter((row) => matchesSearchRequest(JSON.parse(row.content) as Resource, request));
      return {
        rows: matches.slice(query.offset, query.offset + query.count),
        total: query.total === 'accurate' ? matches.length : undefined,
      };
    },
  };
}
