/**
 * For the materialised-view tests: the table's rows read with plain SQL, and $run's rows, both brought to the same
 * plain values by the view's declared types (written here, apart from the code under test: a timestamp compares as
 * epoch milliseconds, a decimal as a number, a boolean as true/false, a collection as its list), grouped by resource.
 */
import type { Stride } from '../../src/stride.js';
import { raw } from '../../src/sql/sql.js';

export interface ColumnSpec {
  name: string;
  type?: string;
  collection?: boolean;
}

type Plain = string | number | boolean | null | unknown[];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function plain(column: ColumnSpec, value: unknown): Plain {
  if (value === null || value === undefined) return null;
  if (column.collection) return (typeof value === 'string' ? JSON.parse(value) : value) as unknown[];
  switch (column.type) {
    case 'dateTime':
    case 'instant':
      return value instanceof Date ? value.getTime() : Date.parse(String(value));
    case 'date':
      // node-postgres gives a DATE as local midnight.
      return value instanceof Date ? `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}` : String(value).slice(0, 10);
    case 'decimal':
    case 'integer':
      return Number(value);
    case 'boolean':
      return value === true || value === 1 || value === '1' || value === 't';
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

/** resource id -> its rows (each a list of plain values in column order), ids sorted. */
export type RowsByResource = Record<string, Plain[][]>;

function sorted(map: Map<string, Plain[][]>): RowsByResource {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** $run's JSON rows, grouped by the view's `idColumn` (its getResourceKey() column), in the order $run gave them. */
export function runRows(columns: readonly ColumnSpec[], rows: Array<Record<string, unknown>>, idColumn: string): RowsByResource {
  const map = new Map<string, Plain[][]>();
  for (const row of rows) {
    const id = String(row[idColumn]);
    map.set(id, [...(map.get(id) ?? []), columns.map((c) => plain(c, row[c.name]))]);
  }
  return sorted(map);
}

/** The table's rows with plain SQL, grouped by _resource_id in _row order. */
export async function tableRows(stride: Stride, table: string, columns: readonly ColumnSpec[]): Promise<RowsByResource> {
  const name = stride.store.dialect.viewTable(table);
  const rows = await stride.store.reader.all<Record<string, unknown>>(raw(`SELECT * FROM ${name} ORDER BY _resource_id, _row`));
  const map = new Map<string, Plain[][]>();
  for (const row of rows) {
    const id = String(row._resource_id);
    map.set(id, [...(map.get(id) ?? []), columns.map((c) => plain(c, row[c.name]))]);
  }
  return sorted(map);
}
