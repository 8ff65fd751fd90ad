/**
 * The text formats of $run (SQL on FHIR v2, Output Format Codes): json (one array of row objects), ndjson (one row
 * object a line) and csv (RFC 4180: a header line unless `header=false`, fields with a comma, quote or line break
 * quoted, quotes doubled; a null is an empty field; a collection or complex value is its JSON text). Each page of rows
 * becomes one chunk, written as it comes.
 */
import type { CellValue, ColumnInfo, Row } from '../types.js';

export type RowPages = AsyncIterable<Row[]>;

function rowObject(columns: readonly ColumnInfo[], row: Row): Record<string, CellValue> {
  const out: Record<string, CellValue> = {};
  columns.forEach((c, i) => (out[c.name] = row[i] ?? null));
  return out;
}

/**
 * Each format's first chunk carries the first page of rows (the opening bracket or the header goes with it): a
 * caller that takes the first chunk before it answers has seen the first page evaluated.
 */
export async function* jsonChunks(columns: readonly ColumnInfo[], pages: RowPages): AsyncIterable<string> {
  let first = true;
  let open = '[';
  for await (const rows of pages) {
    let chunk = open;
    for (const row of rows) {
      chunk += (first ? '' : ',') + JSON.stringify(rowObject(columns, row));
      first = false;
    }
    open = '';
    yield chunk;
  }
  yield `${open}]`;
}

export async function* ndjsonChunks(columns: readonly ColumnInfo[], pages: RowPages): AsyncIterable<string> {
  for await (const rows of pages) {
    let chunk = '';
    for (const row of rows) chunk += `${JSON.stringify(rowObject(columns, row))}\n`;
    yield chunk;
  }
}

function csvField(value: CellValue): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function* csvChunks(columns: readonly ColumnInfo[], pages: RowPages, header: boolean): AsyncIterable<string> {
  let head = header ? `${columns.map((c) => csvField(c.name)).join(',')}\r\n` : '';
  for await (const rows of pages) {
    let chunk = head;
    for (const row of rows) chunk += `${row.map(csvField).join(',')}\r\n`;
    head = '';
    yield chunk;
  }
  if (head) yield head;
}
