/**
 * The SQL of a materialised view's table. Its rows are keyed by the resource they come from (`_resource_id`, the
 * resource's id, and `_row`, the row's place among that resource's rows), so a write of a resource replaces exactly
 * its rows and a delete removes them. View column names are SQL on FHIR `sql-name`s (letters, digits and _,
 * starting with a letter: views/validate.ts), so they can neither clash with the two key columns nor need escaping;
 * they are quoted to keep their letter case.
 */
import type { Dialect, Sql } from '../../sql/sql.js';
import { fragments, raw, sql } from '../../sql/sql.js';
import type { TableColumn } from './columns.js';

/** Bound values per INSERT at most (PostgreSQL allows 65,535 a statement). */
const MAX_VALUES = 30_000;

export type TableRow = Array<string | number | null>;

export function createTable(dialect: Dialect, table: string, columns: readonly TableColumn[]): string {
  const cols = columns.map((c) => `"${c.name}" ${dialect.viewColumnTypes[c.kind]}`);
  return `CREATE TABLE ${dialect.viewTable(table)} (_resource_id VARCHAR(64) NOT NULL, _row INTEGER NOT NULL${cols.map((c) => `, ${c}`).join('')}, PRIMARY KEY (_resource_id, _row))`;
}

export function dropTable(dialect: Dialect, table: string): Sql {
  return raw(`DROP TABLE IF EXISTS ${dialect.viewTable(table)}`);
}

export function deleteResourceRows(dialect: Dialect, table: string, id: string): Sql {
  return sql`DELETE FROM ${raw(dialect.viewTable(table))} WHERE _resource_id = ${id}`;
}

/** INSERT statements for rows of (resource id, row number, column values...), as many rows each as the engine likes. */
export function insertRows(dialect: Dialect, table: string, columns: readonly TableColumn[], rows: readonly TableRow[]): Sql[] {
  const width = columns.length + 2;
  const perStatement = Math.max(1, Math.min(dialect.rowsPerInsert, Math.floor(MAX_VALUES / width)));
  const head = `INSERT INTO ${dialect.viewTable(table)} (_resource_id, _row${columns.map((c) => `, "${c.name}"`).join('')}) VALUES `;
  const out: Sql[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    const strings: string[] = [];
    const values: unknown[] = [];
    chunk.forEach((row, r) => {
      // '(' v ', ' v ', ' ... v ')' with ', ' between tuples: the text between two values.
      const open = r === 0 ? `${head}(` : '), (';
      row.forEach((v, k) => {
        strings.push(k === 0 ? open : ', ');
        values.push(v);
      });
    });
    strings.push(')');
    out.push(fragments(strings, values));
  }
  return out;
}

/** Every row of the table, in key order (the CLI's counts, the tests' comparisons). */
export function selectRows(dialect: Dialect, table: string): Sql {
  return raw(`SELECT * FROM ${dialect.viewTable(table)} ORDER BY _resource_id, _row`);
}

export function countRows(dialect: Dialect, table: string): Sql {
  return raw(`SELECT COUNT(*) AS n FROM ${dialect.viewTable(table)}`);
}
