/** The search contract the repository depends on; src/search/ implements it. */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryer, ResourceRow } from '../storage/store.js';

export interface SearchQuery {
  resourceType: string;
  /** Raw query parameters (names may carry modifiers: `name:exact`). */
  params: Record<string, string[]>;
  count: number;
  offset: number;
  /** Whether a total is wanted (_total, conditional operations need only "0, 1 or more"). */
  total: 'none' | 'accurate';
}

export interface SearchResult {
  rows: ResourceRow[];
  total?: number;
}

/** Finds resources; runs on the connection it is given so that a transaction sees its own writes. */
export interface Searcher {
  search(db: Queryer, query: SearchQuery): Promise<SearchResult>;
}

/** Writes the search index rows of one resource version inside the write's transaction. */
export interface Indexer {
  /** `resource` undefined means deleted: remove its index rows. */
  index(tx: Queryer, resourceType: string, id: string, resource: Resource | undefined): Promise<void>;
}
