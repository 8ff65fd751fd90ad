/**
 * Dialect-free SQL: a query is a list of text fragments and bound values, written once with the `sql` tag and
 * rendered to text by a dialect. Values are always bound parameters, never spliced into SQL text.
 */

export interface Sql {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

const SQL_BRAND = Symbol('sql');

interface BrandedSql extends Sql {
  readonly [SQL_BRAND]: true;
}

function make(strings: string[], values: unknown[]): BrandedSql {
  return { strings, values, [SQL_BRAND]: true };
}

export function isSql(value: unknown): value is Sql {
  return typeof value === 'object' && value !== null && SQL_BRAND in value;
}

/** Tagged template: `sql\`SELECT * FROM resource WHERE id = ${id}\``; nested `Sql` values are inlined. */
export function sql(template: TemplateStringsArray, ...values: unknown[]): Sql {
  const strings: string[] = [template[0]];
  const out: unknown[] = [];
  values.forEach((value, i) => {
    if (isSql(value)) {
      strings[strings.length - 1] += value.strings[0];
      for (let k = 0; k < value.values.length; k++) {
        out.push(value.values[k]);
        strings.push(value.strings[k + 1]);
      }
      strings[strings.length - 1] += template[i + 1];
    } else {
      out.push(value);
      strings.push(template[i + 1]);
    }
  });
  return make(strings, out);
}

/**
 * A query from its parts, as the sql tag builds one: `strings` has one more element than `values` (a statement built
 * in a loop, e.g. a VALUES list of many rows). It can be nested in another like any other.
 */
export function fragments(strings: string[], values: unknown[]): Sql {
  return make(strings, values);
}

/** Trusted SQL text (identifiers from a fixed list, keywords); never client input. */
export function raw(text: string): Sql {
  return make([text], []);
}

export const empty: Sql = raw('');

/**
 * Joins fragments with a separator, e.g. `join(conditions, ' AND ')`. In one pass: nesting each part in the sql tag
 * in turn copied every value so far at each step, quadratic in a long VALUES list (25 us an AuditEvent in a batch of
 * 250 rows, more than inserting it).
 */
export function join(parts: readonly Sql[], separator: string): Sql {
  if (parts.length === 0) return empty;
  const strings: string[] = [...parts[0].strings];
  const values: unknown[] = [...parts[0].values];
  for (let p = 1; p < parts.length; p++) {
    const part = parts[p];
    strings[strings.length - 1] += separator + part.strings[0];
    for (let k = 0; k < part.values.length; k++) {
      values.push(part.values[k]);
      strings.push(part.strings[k + 1]);
    }
  }
  return make(strings, values);
}

/** What a database needs to turn a Sql into text; the only place engines differ in SQL spelling. */
export interface Dialect {
  readonly name: string;
  /** Placeholder for the 0-based parameter index: `?` or `$1`. */
  placeholder(index: number): string;
  /** Column type and key for an auto-incrementing 64-bit primary key. */
  readonly autoIncrementKey: string;
  /** Column type for bytes (bulk export files): BLOB or BYTEA; both drivers take and give a Buffer. */
  readonly bytesType: string;
  /** Suffix that locks the selected rows until the transaction ends (` FOR UPDATE`); empty where writes are serialised. */
  readonly lockRows: string;
  /**
   * A statement that holds an exclusive lock on `key` (a signed 64-bit integer, as decimal text) until the open
   * transaction ends, for writes whose race no row lock or unique key can catch (a conditional create: no row
   * exists yet to lock); undefined where write transactions are already serialised.
   */
  transactionLock(key: string): Sql | undefined;
  /** Column collation comparing text by code point, for prefix ranges on search strings; '' where that is the default. */
  readonly binaryCollation: string;
  /** Rows per INSERT for bulk writes (search index rows): what the engine runs fastest. */
  readonly rowsPerInsert: number;
  /**
   * Data-modifying statements in WITH (PostgreSQL), which save round trips: a version's current row and its history
   * row are written by one statement, a transaction's index rows of every table by one. Elsewhere each INSERT or
   * UPDATE is a statement of its own in the open transaction.
   */
  readonly writesInWith: boolean;
  /**
   * One statement that holds a shared lock on each key, in the order given, until the open transaction ends (many
   * holders at once; none while someone holds transactionLock(key)); undefined where write transactions are already
   * serialised. Writers of resource types take them before they read which views are materialised over those types
   * (src/analytics/materialized/).
   */
  sharedTransactionLocks(keys: readonly string[]): Sql | undefined;
  /** The qualified, quoted name of a materialised view's table: a schema `views` (PostgreSQL), `view_<name>` (SQLite). */
  viewTable(name: string): string;
  /** Statements that prepare for view tables (PostgreSQL: the `views` schema); none where they sit beside the data. */
  readonly viewTablesSetup: readonly string[];
  /** Column types of view tables, by the kind of value a view's declared type gives (src/analytics/materialized/columns.ts). */
  readonly viewColumnTypes: Readonly<Record<ViewColumnKind, string>>;
}

/** What a view's column holds, from its declared FHIR type: the SQL type of its table column follows from it. */
export type ViewColumnKind = 'boolean' | 'integer' | 'bigint' | 'decimal' | 'date' | 'timestamp' | 'time' | 'text' | 'json';

export interface RenderedSql {
  text: string;
  params: unknown[];
}

export function render(query: Sql, dialect: Dialect): RenderedSql {
  let text = query.strings[0];
  for (let i = 0; i < query.values.length; i++) {
    text += dialect.placeholder(i) + query.strings[i + 1];
  }
  return { text, params: query.values as unknown[] };
}
