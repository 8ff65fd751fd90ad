/**
 * Output files of an export, written into the database (export_file, export_chunk: export-schema.ts) as the job goes:
 * bytes gather in memory for one page at most, then go in as chunks with the job's checkpoint. NDJSON (one resource
 * a line, Bulk Data 2.0 export.html#bulk-data-output-file-request) can be appended to after a restart; a Parquet
 * file (export-parquet.ts) cannot, and is started over from where it began.
 */
import { sql, type Sql } from '../sql/sql.js';
import type { Queryer } from '../storage/store.js';
import { openParquetSink } from './export-parquet.js';
import { EXPORT_FORMATS, type ExportFormat, type OpenFile } from './export-types.js';

/** Largest chunk row: a download streams one chunk at a time. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** A resource as it goes into a file. */
export interface ExportRow {
  id: string;
  versionId: number;
  lastUpdated: number;
  /** The stored JSON, exactly as a read returns it. */
  json: string;
}

/** Turns resources into a file's bytes. */
export interface Sink {
  add(row: ExportRow): Promise<void>;
  /** Writes whatever ends the file (Parquet's footer). */
  finish(): Promise<void>;
  /** Bytes made since the last call. */
  take(): Buffer[];
}

export function ndjsonSink(): Sink {
  let pending: Buffer[] = [];
  return {
    async add(row) {
      pending.push(Buffer.from(`${row.json}\n`));
    },
    async finish() {},
    take() {
      const out = pending;
      pending = [];
      return out;
    },
  };
}

export function fileName(kind: OpenFile['kind'] | 'error', type: string, part: number, format: ExportFormat): string {
  if (kind === 'deleted') return `deleted-${part}.ndjson`;
  if (kind === 'error') return `errors-${part}.ndjson`;
  return `${type}-${part}.${EXPORT_FORMATS[format].extension}`;
}

/** An open file: its record (what the checkpoint stores) and the sink that makes its bytes. */
export class FileWriter {
  private pending: Buffer[] = [];
  /** Complete: nothing more will be appended (set by finish). */
  complete = false;

  private constructor(
    readonly file: OpenFile,
    private readonly sink: Sink,
  ) {}

  static async open(file: OpenFile, format: ExportFormat): Promise<FileWriter> {
    return new FileWriter(file, format === 'parquet' && file.kind === 'output' ? await openParquetSink() : ndjsonSink());
  }

  /** Bytes the next resource would bring the file to, counting its JSON (Parquet's compressed size is smaller). */
  wouldExceed(row: ExportRow, limit: number): boolean {
    return this.file.resources > 0 && this.file.bytes + Buffer.byteLength(row.json) + 1 > limit;
  }

  async add(row: ExportRow): Promise<void> {
    await this.sink.add(row);
    this.file.resources++;
    this.file.bytes += Buffer.byteLength(row.json) + 1;
    this.pending.push(...this.sink.take());
  }

  async finish(): Promise<void> {
    await this.sink.finish();
    this.pending.push(...this.sink.take());
    this.complete = true;
  }

  pendingBytes(): number {
    return this.pending.reduce((n, b) => n + b.length, 0);
  }

  /**
   * What was made since the last drain, as chunk rows numbered on from the file's last one, with the file's record as
   * it then stands. Taken before the checkpoint's transaction, which may run more than once (PostgreSQL retries).
   */
  drain(): DrainedFile {
    const data = Buffer.concat(this.pending);
    this.pending = [];
    const chunks: Array<{ seq: number; data: Buffer }> = [];
    for (let at = 0; at < data.length; at += CHUNK_BYTES) chunks.push({ seq: this.file.chunks++, data: data.subarray(at, at + CHUNK_BYTES) });
    return { file: { ...this.file }, chunks, complete: this.complete };
  }
}

export interface DrainedFile {
  file: OpenFile;
  chunks: Array<{ seq: number; data: Buffer }>;
  complete: boolean;
}

/** Stores a drained file's new chunks and its record, inside the checkpoint's transaction. */
export async function saveDrained(tx: Queryer, jobId: string, drained: DrainedFile): Promise<void> {
  for (const chunk of drained.chunks) {
    await tx.run(sql`INSERT INTO export_chunk (job_id, name, seq, data) VALUES (${jobId}, ${drained.file.name}, ${chunk.seq}, ${chunk.data})`);
  }
  await tx.run(upsertFile(jobId, drained.file, drained.complete));
}

function upsertFile(jobId: string, f: OpenFile, complete: boolean): Sql {
  const done = complete ? 1 : 0;
  return sql`INSERT INTO export_file (job_id, name, kind, resource_type, resources, bytes, chunks, complete)
    VALUES (${jobId}, ${f.name}, ${f.kind}, ${f.resourceType}, ${f.resources}, ${f.bytes}, ${f.chunks}, ${done})
    ON CONFLICT (job_id, name) DO UPDATE SET resources = ${f.resources}, bytes = ${f.bytes}, chunks = ${f.chunks}, complete = ${done}`;
}

/** Removes a file a restart cannot append to (Parquet): its rows, so that it is written again from its start. */
export async function dropFile(tx: Queryer, jobId: string, name: string): Promise<void> {
  await tx.run(sql`DELETE FROM export_chunk WHERE job_id = ${jobId} AND name = ${name}`);
  await tx.run(sql`DELETE FROM export_file WHERE job_id = ${jobId} AND name = ${name}`);
}

/** A complete file written in one go (the error file): its chunks and its row. */
export async function writeWholeFile(tx: Queryer, jobId: string, file: { name: string; kind: 'error'; resourceType: string; resources: number }, data: Buffer): Promise<void> {
  let chunks = 0;
  for (let at = 0; at < data.length; at += CHUNK_BYTES) {
    await tx.run(sql`INSERT INTO export_chunk (job_id, name, seq, data) VALUES (${jobId}, ${file.name}, ${chunks}, ${data.subarray(at, at + CHUNK_BYTES)})`);
    chunks++;
  }
  await tx.run(sql`INSERT INTO export_file (job_id, name, kind, resource_type, resources, bytes, chunks, complete)
    VALUES (${jobId}, ${file.name}, ${file.kind}, ${file.resourceType}, ${file.resources}, ${data.length}, ${chunks}, 1)`);
}
