/** The search contract the repository depends on; src/search/ implements it. */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Queryer, ResourceRow } from '../storage/store.js';
import type { IndexRows } from './tables.js';

export type TotalMode = 'none' | 'estimate' | 'accurate';

export interface SearchQuery {
  resourceType: string;
  /** System search (`GET [base]?_type=A,B`): the types searched; `resourceType` is then ignored. */
  types?: readonly string[];
  /** Raw query parameters (names may carry modifiers and chains: `name:exact`, `subject:Patient.name`). */
  params: Record<string, string[]>;
  /** Page size; 0 asks for the total only. */
  count: number;
  /** Rows to skip (`_offset`); 0 with a `_cursor` parameter means keyset paging from that cursor. */
  offset: number;
  /** Whether a total is wanted (_total; conditional operations need only "0, 1 or more"). */
  total: TotalMode;
  /** Compartment search (`GET /Patient/1/Procedure`): only resources in that compartment. */
  compartment?: { type: string; id: string };
  /** `Prefer: handling=strict`: an unknown parameter is a 400 instead of being ignored and reported. */
  strict?: boolean;
  /** The server's base URL: an absolute reference to it is searched as a local reference. */
  baseUrl?: string;
  /** What the caller may see (auth on): enforced in the search itself, so no parameter reveals more (issue 23). */
  access?: SearchAccess;
}

export interface SearchAccess {
  /** Whether the caller may search resources of this type: a chain or `_has` through a type it may not is a 403. */
  maySearch(type: string): boolean;
  /** Whether it may read resources of this type: an `_include` or `_revinclude` of a type it may not adds nothing. */
  mayRead(type: string): boolean;
  /** A patient-scoped caller: every match, and everything included, is in this Patient's compartment. */
  patient?: string;
}

export interface SearchResult {
  rows: ResourceRow[];
  total?: number;
  /** Resources added by _include and _revinclude (search mode "include"). */
  included?: ResourceRow[];
  /** Paging parameters (`_cursor` or `_offset`) of the next and previous pages, when there are such pages. */
  next?: Record<string, string[]>;
  previous?: Record<string, string[]>;
  /** Parameters ignored under lenient handling, and other notes for an OperationOutcome entry (mode "outcome"). */
  issues?: OperationOutcomeIssue[];
}

/** Finds resources; runs on the connection it is given so that a transaction sees its own writes. */
export interface Searcher {
  search(db: Queryer, query: SearchQuery): Promise<SearchResult>;
}

/**
 * The search index rows of resource versions, inside the write's transaction: a version's rows are extracted when it
 * is written and inserted later, with those of the transaction's other writes (the repository inserts them before
 * anything searches the transaction, and before it commits); a new version's rows replace the previous version's.
 */
export interface Indexer {
  /** The rows a version is found by. */
  extract(resource: Resource): IndexRows;
  /** Removes a resource's rows (a new version or a deletion replaces them). */
  remove(tx: Queryer, resourceType: string, id: string): Promise<void>;
  /** Inserts the rows of several resources, a few statements per table for all of them. */
  insert(tx: Queryer, resources: readonly ResourceRows[]): Promise<void>;
}

export interface ResourceRows {
  resourceType: string;
  id: string;
  rows: IndexRows;
}
