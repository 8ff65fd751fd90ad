/**
 * Writes resources' search index rows inside the write's own transaction (issue 3, DESIGN §1): a version's rows
 * replace the previous version's; a deletion removes them. Rows go in as multi-row INSERTs per table, those of every
 * resource a transaction wrote together (the repository holds them until then).
 */
import { fragments, join, raw, sql, type Dialect, type Sql } from '../sql/sql.js';
import type { Queryer } from '../storage/store.js';
import { extractRows } from './extract.js';
import type { Indexer, ResourceRows } from './types.js';
import { INDEX_TABLES, INDEX_TABLE_NAMES, type IndexTable } from './tables.js';

export function createIndexer(dialect: Dialect): Indexer {
  return {
    extract: extractRows,
    remove: deleteIndexRows,
    async insert(tx, resources) {
      await insertIndexRows(tx, dialect, resources);
    },
  };
}

export async function deleteIndexRows(tx: Queryer, resourceType: string, id: string): Promise<void> {
  for (const table of INDEX_TABLE_NAMES) {
    await tx.run(sql`DELETE FROM ${tableName(table)} WHERE resource_type = ${resourceType} AND id = ${id}`);
  }
}

/**
 * Inserts the rows of one or more resources (reindexing batches many resources together), as many rows per
 * statement as the dialect runs fastest; statements of one size share one text, so they are prepared once.
 * `sizes` (largest first) are the statement sizes to cut the rows into, each as often as it fits; what is left below
 * the smallest goes in one statement. The default is the dialect's rows per INSERT. A caller that writes many rows at
 * a time on an engine that prepares each text once (the audit trail on SQLite) gives a few fixed sizes: multi-row
 * statements, and never more than a few texts to prepare.
 */
export async function insertIndexRows(tx: Queryer, dialect: Dialect, resources: readonly ResourceRows[], sizes: readonly number[] = [Math.max(1, dialect.rowsPerInsert)]): Promise<number> {
  let written = 0;
  const together = new Together(tx, dialect);
  for (const table of INDEX_TABLE_NAMES) {
    const all: unknown[][] = [];
    for (const r of resources) {
      for (const row of r.rows.rows.get(table) ?? []) all.push([r.resourceType, r.id, ...row]);
    }
    for (const [from, to] of chunks(all.length, sizes)) {
      await together.run(insertStatement(table, to - from === 1 ? [all[from]] : all.slice(from, to)));
    }
    written += all.length;
  }
  await together.flush();
  return written;
}

/** [from, to) ranges cutting `count` items into the given sizes (largest first), each as often as it fits, then the rest. */
export function chunks(count: number, sizes: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = 0;
  for (const size of sizes) {
    for (; count - at >= size; at += size) out.push([at, at + size]);
  }
  if (at < count) out.push([at, count]);
  return out;
}

/** Bound values per combined statement: well under PostgreSQL's 65,535. */
const MAX_VALUES_TOGETHER = 30_000;

/**
 * Where the engine takes writes in WITH (PostgreSQL), the INSERTs of every table go to the server as one statement
 * (`WITH w0 AS (INSERT ...), ... INSERT ...`), up to MAX_VALUES_TOGETHER values: a session's rows in one round trip
 * instead of one per table. Elsewhere each runs as it comes.
 */
class Together {
  private parts: Sql[] = [];
  private values = 0;

  constructor(
    private readonly tx: Queryer,
    private readonly dialect: Dialect,
  ) {}

  async run(statement: Sql): Promise<void> {
    if (!this.dialect.writesInWith) {
      await this.tx.run(statement);
      return;
    }
    if (this.values + statement.values.length > MAX_VALUES_TOGETHER) await this.flush();
    this.parts.push(statement);
    this.values += statement.values.length;
  }

  async flush(): Promise<void> {
    const parts = this.parts;
    this.parts = [];
    this.values = 0;
    if (parts.length === 0) return;
    const last = parts[parts.length - 1];
    const withs = parts.slice(0, -1).map((part, i) => sql`${raw(`w${i}`)} AS (${part})`);
    await this.tx.run(withs.length ? sql`WITH ${join(withs, ', ')} ${last}` : last);
  }
}

const statementHeads = new Map<IndexTable, string>();

/**
 * `INSERT INTO t (cols) VALUES (?, ...), (?, ...)` built directly as fragments and values: the table and column
 * names come from the fixed list of tables.ts, every value is a bound parameter.
 */
function insertStatement(table: IndexTable, rows: unknown[][]): Sql {
  let head = statementHeads.get(table);
  if (!head) {
    const { name, columns } = INDEX_TABLES[table];
    head = `INSERT INTO ${name} (resource_type, id, param, ${columns.join(', ')}) VALUES (`;
    statementHeads.set(table, head);
  }
  const strings: string[] = [head];
  const values: unknown[] = [];
  rows.forEach((row, r) => {
    row.forEach((value, c) => {
      if (r > 0 || c > 0) strings.push(c === 0 ? '), (' : ', ');
      values.push(value);
    });
  });
  strings.push(')');
  return fragments(strings, values);
}

function tableName(table: IndexTable): Sql {
  return raw(INDEX_TABLES[table].name);
}
