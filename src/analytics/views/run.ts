/**
 * Running a compiled view: pages of resources in, pages of rows out (at most `limit` rows), encoded in one of the
 * output formats as chunks that can be written as they come. Nothing here holds more than a page of resources and
 * what the encoder buffers (a Parquet row group).
 */
import type { CompiledView } from './compile.js';
import type { ResourcePages } from './source.js';
import type { Row } from './types.js';
import { csvChunks, jsonChunks, ndjsonChunks, type RowPages } from './formats/text.js';
import { parquetChunks } from './formats/parquet.js';

export const OUTPUT_FORMATS = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
} as const;

export type OutputFormat = keyof typeof OUTPUT_FORMATS;

/** The rows of every resource of `pages`, a page of rows per page of resources; stops after `limit` rows. */
export async function* viewRows(view: CompiledView, pages: ResourcePages, limit = Number.POSITIVE_INFINITY): RowPages {
  let left = limit;
  if (left <= 0) return;
  for await (const resources of pages) {
    const out: Row[] = [];
    for (const resource of resources) {
      for (const row of view.rows(resource)) {
        out.push(row);
        if (--left === 0) break;
      }
      if (left === 0) break;
    }
    if (out.length > 0) yield out;
    if (left === 0) return;
  }
}

export interface EncodeOptions {
  /** CSV: a first line of column names (default true). */
  header?: boolean;
}

export function encodeRows(view: CompiledView, rows: RowPages, format: OutputFormat, options: EncodeOptions = {}): AsyncIterable<string | Buffer> {
  switch (format) {
    case 'json':
      return jsonChunks(view.columns, rows);
    case 'ndjson':
      return ndjsonChunks(view.columns, rows);
    case 'csv':
      return csvChunks(view.columns, rows, options.header ?? true);
    case 'parquet':
      return parquetChunks(view.columns, rows);
  }
}
