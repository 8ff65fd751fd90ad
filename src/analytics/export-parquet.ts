/**
 * `_outputFormat=application/vnd.apache.parquet` (a Stride extension to Bulk Data's NDJSON): one Parquet file per
 * type and part, written with @dsnp/parquetjs (the library the SQL-on-FHIR views use). The table shape for raw
 * resources: a row per resource, the keys as typed columns and the resource whole as JSON text, so nothing of a
 * resource is lost to a fixed schema and any engine reads it as it is:
 *
 *   resource_type UTF8, id UTF8, version_id INT64, last_updated TIMESTAMP_MILLIS (UTC), resource UTF8 (JSON, exactly
 *   the NDJSON line, Snappy-compressed)
 *
 * DuckDB: `SELECT id, resource->>'$.status' FROM 'Observation-1.parquet'`. A flattened table of chosen columns is
 * what a ViewDefinition ($run) is for.
 */
import parquet from '@dsnp/parquetjs';
import type { Sink } from './export-files.js';

const { ParquetSchema, ParquetWriter } = parquet;

export const RESOURCE_TABLE = new ParquetSchema({
  resource_type: { type: 'UTF8' },
  id: { type: 'UTF8' },
  version_id: { type: 'INT64' },
  last_updated: { type: 'TIMESTAMP_MILLIS' },
  resource: { type: 'UTF8', compression: 'SNAPPY' },
});

/** Rows per row group: what the writer holds in memory before it writes them out (about one export page). */
const ROW_GROUP = 1000;

export async function openParquetSink(): Promise<Sink> {
  let pending: Buffer[] = [];
  const stream = {
    write(buf: Buffer, cb?: (err?: Error | null) => void): boolean {
      pending.push(Buffer.from(buf));
      cb?.();
      return true;
    },
    end(cb?: () => void): void {
      cb?.();
    },
  };
  const writer = await ParquetWriter.openStream(RESOURCE_TABLE, stream as never, { rowGroupSize: ROW_GROUP });
  return {
    async add(row) {
      const type = /^\{"resourceType":"([A-Za-z]+)"/.exec(row.json)?.[1] ?? (JSON.parse(row.json) as { resourceType: string }).resourceType;
      await writer.appendRow({ resource_type: type, id: row.id, version_id: BigInt(row.versionId), last_updated: new Date(row.lastUpdated), resource: row.json });
    },
    async finish() {
      await writer.close();
    },
    take() {
      const out = pending;
      pending = [];
      return out;
    },
  };
}
