/**
 * A resource's rows as its view's table holds them: the view's rows (compile.ts, the same function $run streams),
 * each value converted to its column (columns.ts), keyed by the resource's id and the row's place. A value its column
 * cannot hold becomes null and a view that fails on the resource (a column with several values and no
 * `collection: true`) gives it no rows; either way the problem is returned, to be reported, never thrown: the write
 * that brought the resource in must not fail because of a view.
 */
import type { Queryer } from '../../storage/store.js';
import type { Dialect } from '../../sql/sql.js';
import { ViewRunError } from '../views/compile.js';
import { toColumnValue } from './columns.js';
import { deleteResourceRows, insertRows, type TableRow } from './table.js';
import type { CompiledRegistration } from './registry.js';

export interface ResourceRows {
  rows: TableRow[];
  issues: string[];
}

export function tableRowsOf(reg: CompiledRegistration, resource: { resourceType: string; id?: string }): ResourceRows {
  const id = resource.id as string;
  const issues: string[] = [];
  let viewRows;
  try {
    viewRows = reg.view.rows(resource);
  } catch (err) {
    if (!(err instanceof ViewRunError)) throw err;
    return { rows: [], issues: [`${resource.resourceType}/${id} has no rows in ${reg.table}: ${err.message}`] };
  }
  const rows = viewRows.map((row, n): TableRow => {
    const out: TableRow = [id, n];
    reg.columns.forEach((c, i) => {
      const value = toColumnValue(c, row[i]);
      if (value === undefined) issues.push(`${resource.resourceType}/${id}: column "${c.name}" of ${reg.table} is declared ${c.type} but the view gave ${JSON.stringify(row[i])}; stored as null`);
      out.push(value ?? null);
    });
    return out;
  });
  return { rows, issues };
}

/** Replaces a resource's rows in the table (none when it was deleted); `fresh`: it had none (a first version). */
export async function replaceRows(db: Queryer, dialect: Dialect, reg: CompiledRegistration, id: string, resource: { resourceType: string; id?: string } | undefined, fresh: boolean): Promise<string[]> {
  if (!fresh) await db.run(deleteResourceRows(dialect, reg.table, id));
  if (!resource) return [];
  const { rows, issues } = tableRowsOf(reg, resource);
  for (const statement of insertRows(dialect, reg.table, reg.columns, rows)) await db.run(statement);
  return issues;
}
