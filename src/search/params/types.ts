/**
 * One interface for every search-parameter type (STYLE 5): how its values become index rows on write, and how a
 * search value becomes a condition on those rows. params/registry.ts maps `SearchParameter.type` to each.
 */
import type { TypedValue } from '@medplum/core';
import type { Sql } from '../../sql/sql.js';
import type { Evaluator } from '../path.js';
import type { IndexRows, IndexTable } from '../tables.js';

export type ParamTypeName = 'token' | 'string' | 'reference' | 'date' | 'number' | 'quantity' | 'uri' | 'composite' | 'special';

/** A search parameter as it applies to one resource type. */
export interface ParamDef {
  readonly resourceType: string;
  readonly code: string;
  readonly type: ParamTypeName;
  readonly url: string;
  readonly description?: string;
  /** Resource types a reference parameter may point to. */
  readonly targets: readonly string[];
  /** Values in one resource; absent for parameters read from the resource row itself (`_id`, `_lastUpdated`). */
  readonly evaluate?: Evaluator;
  /** Top-level JSON keys the expression reads: a resource with none of them has no value (undefined: unknown). */
  readonly keys?: readonly string[];
  /** The resource column of `_id` and `_lastUpdated`. */
  readonly column?: 'id' | 'last_updated';
  /** The components of a composite parameter, each with its own type and expression (relative to the base). */
  readonly components?: readonly ComponentDef[];
}

export interface ComponentDef {
  readonly type: ParamTypeName;
  readonly evaluate: Evaluator;
}

/** Rows of an index table that a condition selects; `where` must scope them to the type and parameter. */
export interface Match {
  readonly table: IndexTable;
  where(alias: string): Sql;
  /** The resource matches when none of its rows do (`:not`, `:missing=true`). */
  readonly negate?: boolean;
  /**
   * Any row of the parameter matches, whatever its value (`:missing`). Rarely selective, and no index is keyed by
   * type and parameter alone in every table (a resource's rows are keyed by id first): checked per candidate with
   * the resource's own rows, never sampled or listed.
   */
  readonly presence?: boolean;
}

/** What a parameter type needs to know about one search value list. */
export interface ValueContext {
  readonly def: ParamDef;
  /** The parameter as written by the client, for error messages (`birthdate`, `subject:Patient`). */
  readonly name: string;
  readonly modifier: string;
  /** This server's base URL: an absolute reference to it is a local reference. */
  readonly baseUrl?: string;
}

export interface ParamType {
  readonly name: ParamTypeName;
  /** The table `:missing` looks at. */
  readonly table: IndexTable;
  /** Modifiers besides `missing` this type understands. */
  readonly modifiers: ReadonlySet<string>;
  /** Adds the index rows of one resource's values of `def`. */
  extract(def: ParamDef, values: TypedValue[], rows: IndexRows): void;
  /** The condition for an OR list of values; a malformed value is a 400 naming the parameter. */
  match(ctx: ValueContext, values: readonly string[]): Match;
  /** The sort key of a resource from its rows (alias), lowest for ascending, highest for descending. */
  sortKey?(alias: string, descending: boolean): Sql;
}
