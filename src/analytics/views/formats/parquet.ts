/**
 * A view as a Parquet file (https://parquet.apache.org/docs/file-format/) that DuckDB, Spark or Trino read as it is:
 * each column typed from its declared FHIR type, a collection column a repeated (list) column, Snappy pages, row
 * groups of ROW_GROUP_SIZE rows written as they fill. Written with @dsnp/parquetjs (pure JavaScript, streaming).
 * Type mapping (FHIR -> Parquet logical type):
 * - boolean -> BOOLEAN; integer, positiveInt, unsignedInt -> INT32; integer64 -> INT64; decimal -> DOUBLE;
 * - date -> DATE, dateTime and instant -> TIMESTAMP (milliseconds, UTC), time -> TIME (milliseconds): a value given
 *   to a coarser precision (a year, a month, a date without a time) is stored at its start (its lowBoundary, in UTC
 *   for a dateTime without a zone); declare the column `string` to keep the text as written;
 * - every other type, and a column with no type, -> UTF8 (a complex value as its JSON text).
 */
import { PassThrough } from 'node:stream';
import parquet from '@dsnp/parquetjs';
import { ViewRunError } from '../compile.js';
import type { CellValue, ColumnInfo, Row } from '../types.js';
import type { RowPages } from './text.js';

export const ROW_GROUP_SIZE = 10_000;

type ParquetType = 'BOOLEAN' | 'INT32' | 'INT64' | 'DOUBLE' | 'DATE' | 'TIMESTAMP_MILLIS' | 'TIME_MILLIS' | 'UTF8';

const TYPES: Record<string, ParquetType> = {
  boolean: 'BOOLEAN',
  integer: 'INT32',
  positiveInt: 'INT32',
  unsignedInt: 'INT32',
  integer64: 'INT64',
  decimal: 'DOUBLE',
  date: 'DATE',
  dateTime: 'TIMESTAMP_MILLIS',
  instant: 'TIMESTAMP_MILLIS',
  time: 'TIME_MILLIS',
};

/** The declared type without the StructureDefinition prefix a view may give it. */
function fhirType(column: ColumnInfo): string | undefined {
  return column.type?.replace(/^http:\/\/hl7\.org\/fhir\/StructureDefinition\//, '');
}

export function parquetType(column: ColumnInfo): ParquetType {
  return TYPES[fhirType(column) ?? ''] ?? 'UTF8';
}

function schemaOf(columns: readonly ColumnInfo[]): InstanceType<typeof parquet.ParquetSchema> {
  const fields: Record<string, { type: ParquetType; optional?: boolean; repeated?: boolean; compression: 'SNAPPY' }> = {};
  for (const c of columns) {
    fields[c.name] = c.collection ? { type: parquetType(c), repeated: true, compression: 'SNAPPY' } : { type: parquetType(c), optional: true, compression: 'SNAPPY' };
  }
  return new parquet.ParquetSchema(fields as never);
}

const DATE_START = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/;

function toDate(text: string): Date | undefined {
  const m = DATE_START.exec(text);
  if (m) return new Date(Date.UTC(Number(m[1]), Number(m[2] ?? 1) - 1, Number(m[3] ?? 1)));
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function toTimeMillis(text: string): number | undefined {
  const m = /^(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/.exec(text);
  if (!m) return undefined;
  return ((Number(m[1]) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000 + Number((m[4] ?? '0').padEnd(3, '0').slice(0, 3));
}

/** One value as its Parquet column takes it; a value the declared type cannot hold is the view's error. */
function convert(column: ColumnInfo, type: ParquetType, value: CellValue): unknown {
  if (value === null || value === undefined) return null;
  let out: unknown;
  switch (type) {
    case 'BOOLEAN':
      out = typeof value === 'boolean' ? value : undefined;
      break;
    case 'INT32':
    case 'INT64':
      out = typeof value === 'number' && Number.isInteger(value) ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? (type === 'INT64' ? BigInt(value) : Number(value)) : undefined;
      break;
    case 'DOUBLE':
      out = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined;
      break;
    case 'DATE':
    case 'TIMESTAMP_MILLIS':
      out = typeof value === 'string' ? toDate(value) : undefined;
      break;
    case 'TIME_MILLIS':
      out = typeof value === 'string' ? toTimeMillis(value) : undefined;
      break;
    default:
      out = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  if (out === undefined) throw new ViewRunError(`Column "${column.name}" is declared ${column.type} but gave ${JSON.stringify(value)}, which Parquet's ${type} cannot hold`);
  return out;
}

/**
 * The file's bytes as they are written. A row group goes out as it fills; the writer waits while the consumer (the
 * HTTP response, a file) has not taken the previous bytes, so memory holds about one row group whatever the size.
 */
export async function* parquetChunks(columns: readonly ColumnInfo[], pages: RowPages): AsyncIterable<Buffer> {
  const types = columns.map(parquetType);
  const toRecord = (row: Row): Record<string, unknown> => {
    const record: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      const value = row[i];
      record[c.name] = c.collection ? (Array.isArray(value) ? value.filter((v) => v !== null).map((v) => convert(c, types[i], v)) : []) : convert(c, types[i], value);
    });
    return record;
  };
  // The first page is converted before a byte is written: a value its column cannot hold is found while the answer
  // can still be an OperationOutcome (see the $run handler).
  const iterator = pages[Symbol.asyncIterator]();
  const head = await iterator.next();
  const firstRecords = head.done ? [] : head.value.map(toRecord);
  const out = new PassThrough();
  // The library types its stream as an fs.WriteStream; it only calls write and end.
  const writer = await parquet.ParquetWriter.openStream(schemaOf(columns), out as never, { rowGroupSize: ROW_GROUP_SIZE });
  const writing = (async () => {
    for (const record of firstRecords) await writer.appendRow(record);
    for (let next = head.done ? head : await iterator.next(); !next.done; next = await iterator.next()) {
      for (const row of next.value) await writer.appendRow(toRecord(row));
    }
    await writer.close();
  })();
  // An error while writing ends the stream with it, so the loop below throws it instead of waiting forever.
  writing.catch((err: unknown) => out.destroy(err as Error));
  try {
    for await (const chunk of out) yield chunk as Buffer;
    await writing;
  } finally {
    // A consumer that stops early (a closed connection) stops the writer too.
    if (!out.destroyed) out.destroy();
  }
}
