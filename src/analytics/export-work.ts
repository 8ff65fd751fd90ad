/**
 * Runs one export job from its checkpoint to the end: type after type, page after page in id order, each page's
 * resources appended to the type's current file and checkpointed (files, cursor, lease) in one transaction. What is
 * exported is each resource as it stood at the job's transactionTime (Bulk Data 2.0: "SHALL include any matching
 * resources modified up to and including this instant", "SHOULD NOT include any resources modified after"): a
 * current row stamped after it is replaced by its version of then, from history.
 */
import type { Logger } from 'pino';
import type { ExportConfig } from '../config.js';
import type { ResourceRow, Store } from '../storage/store.js';
import { compartmentCondition, countCurrent, pageQuery, versionsAsOf, type PageScope } from './export-query.js';
import { typeFilterCondition } from './export-type-filter.js';
import { dropFile, fileName, FileWriter, saveDrained, writeWholeFile, type DrainedFile, type ExportRow } from './export-files.js';
import { markCompleted, saveCheckpoint } from './export-jobs.js';
import type { ExportJob, ExportNote, ExportState, OpenFile } from './export-types.js';

export interface WorkDeps {
  store: Store;
  config: ExportConfig;
  logger: Logger;
  /** This process's lease name. */
  owner: string;
  /** True once the process is stopping: the job checkpoints and is given back. */
  stopping(): boolean;
}

/** A page's bytes past this are checkpointed before the page ends, so a page of large resources stays bounded. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ExportWork {
  private readonly state: ExportState;
  private output?: FileWriter;
  private deleted?: FileWriter;
  /** Files finished since the last checkpoint. */
  private finished: FileWriter[] = [];
  private lastCheckpoint = Date.now();

  constructor(
    private readonly deps: WorkDeps,
    private readonly job: ExportJob,
  ) {
    this.state = job.state;
  }

  /** 'completed', or 'stopped' when the process is stopping (the job is checkpointed, to be resumed). */
  async run(): Promise<'completed' | 'stopped'> {
    await this.resume();
    const { spec } = this.job;
    while (this.state.typeIndex < spec.types.length) {
      if (this.deps.stopping()) {
        await this.checkpoint();
        return 'stopped';
      }
      const done = await this.page(await this.scopeOf(spec.types[this.state.typeIndex]));
      if (!done && this.deps.config.pauseMs > 0) await sleep(this.deps.config.pauseMs);
    }
    await this.complete();
    return 'completed';
  }

  /** Opens the files the checkpoint left open; says so when the job was taken up again after an interruption. */
  private async resume(): Promise<void> {
    const state = this.state;
    if (this.job.attempts > 1) {
      state.resumed++;
      const where = this.job.spec.types[state.typeIndex] ?? 'the end';
      let text = `The export was interrupted after ${state.exported} resources (the process running it stopped) and resumed at ${where} from its last checkpoint: no resource is missing or repeated.`;
      if (state.output && this.job.spec.format === 'parquet') {
        // A Parquet file's footer describes all its row groups: one cut short cannot be appended to, so it is written again.
        await this.deps.store.transaction(async (tx) => {
          await saveCheckpoint(tx, this.job.id, this.deps.owner, state, this.leaseMs());
          await dropFile(tx, this.job.id, (state.output as OpenFile).name);
        });
        this.rewind(state.output);
        text += ` The unfinished Parquet file ${fileName('output', state.output.resourceType, state.output.part, 'parquet')} was written again from its start.`;
        state.output = undefined;
      }
      state.notes.push({ severity: 'information', code: 'informational', text });
      this.deps.logger.info({ job: this.job.id, attempt: this.job.attempts, exported: state.exported }, 'export resumed after an interruption');
    }
    state.total ??= await countCurrent(this.deps.store.reader, this.job.spec.types, this.job.spec.level === 'system' && this.job.spec.types.length > 100);
    if (state.output) this.output = await FileWriter.open(state.output, this.job.spec.format);
    if (state.deleted) this.deleted = await FileWriter.open(state.deleted, 'ndjson');
  }

  private rewind(file: OpenFile): void {
    const s = this.state;
    s.typeIndex = this.job.spec.types.indexOf(file.resourceType);
    s.afterId = file.startAfterId;
    s.exported -= file.resources;
    s.perType[file.resourceType] = (s.perType[file.resourceType] ?? 0) - file.resources;
    s.parts[file.resourceType] = file.part - 1;
  }

  private async scopeOf(type: string): Promise<PageScope> {
    const { spec } = this.job;
    const conditions = [compartmentCondition(spec, this.job.id, type), await typeFilterCondition(this.deps.store.reader, type, spec.typeFilters[type])];
    return { type, conditions: conditions.filter((c) => c !== undefined), since: spec.since, transactionTime: this.job.transactionTime };
  }

  /** Reads and writes one page; true when it was the type's last. */
  private async page(scope: PageScope): Promise<boolean> {
    const { store, config } = this.deps;
    const state = this.state;
    const rows = await store.reader.all<ResourceRow>(pageQuery(scope, state.afterId, config.pageSize));
    const time = this.job.transactionTime;
    const later = rows.filter((r) => Number(r.last_updated) > time).map((r) => r.id);
    const asOf = await versionsAsOf(store.reader, scope.type, later, time);
    const reportsDeletions = this.job.spec.level === 'system' && scope.since !== undefined && !this.job.spec.typeFilters[scope.type];
    const deletions: string[] = [];
    const exportedBefore = state.exported;
    for (const row of rows) {
      const version = Number(row.last_updated) > time ? asOf.get(row.id) : row;
      const live = version !== undefined && Number(version.deleted) === 0 && (scope.since === undefined || Number(version.last_updated) > scope.since);
      if (live) await this.write(scope.type, version);
      else if (version === row && reportsDeletions) deletions.push(`${scope.type}/${row.id}`);
      state.afterId = row.id;
      if (this.pendingBytes() > MAX_PENDING_BYTES) await this.checkpoint();
    }
    if (deletions.length > 0) await this.writeDeletions(deletions);
    const last = rows.length < config.pageSize;
    if (last) {
      if (this.output) await this.finish(this.output);
      this.output = undefined;
      state.typeIndex++;
      state.afterId = '';
    }
    // A page that wrote nothing (most types of a server hold no resources) moves the cursor in memory only, until
    // the lease needs renewing: after a restart those pages are read again, and still write nothing.
    const wrote = state.exported > exportedBefore || deletions.length > 0 || this.finished.length > 0;
    if (wrote || Date.now() - this.lastCheckpoint > this.leaseMs() / 3) await this.checkpoint();
    return last;
  }

  private async write(type: string, row: ResourceRow): Promise<void> {
    const state = this.state;
    const resource: ExportRow = { id: row.id, versionId: Number(row.version_id), lastUpdated: Number(row.last_updated), json: row.content };
    if (this.output && this.output.wouldExceed(resource, this.deps.config.fileSize)) {
      await this.finish(this.output);
      this.output = undefined;
    }
    this.output ??= await this.openFile('output', type, this.job.spec.format === 'parquet' ? 'parquet' : 'ndjson');
    await this.output.add(resource);
    state.exported++;
    state.perType[type] = (state.perType[type] ?? 0) + 1;
  }

  /** A transaction Bundle of DELETE entries, one line of the deleted file (export.html, manifest `deleted`). */
  private async writeDeletions(urls: string[]): Promise<void> {
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: urls.map((url) => ({ request: { method: 'DELETE', url } })) };
    this.deleted ??= await this.openFile('deleted', 'Bundle', 'ndjson');
    await this.deleted.add({ id: '', versionId: 0, lastUpdated: 0, json: JSON.stringify(bundle) });
    this.state.deletedCount += urls.length;
  }

  private async openFile(kind: OpenFile['kind'], type: string, format: 'ndjson' | 'parquet'): Promise<FileWriter> {
    const key = kind === 'deleted' ? '#deleted' : type;
    const part = (this.state.parts[key] ?? 0) + 1;
    this.state.parts[key] = part;
    const file: OpenFile = { name: fileName(kind, type, part, format), kind, resourceType: type, part, resources: 0, bytes: 0, chunks: 0, startAfterId: this.state.afterId };
    return FileWriter.open(file, format);
  }

  private async finish(writer: FileWriter): Promise<void> {
    await writer.finish();
    this.finished.push(writer);
  }

  private pendingBytes(): number {
    return [this.output, this.deleted, ...this.finished].reduce((n, w) => n + (w?.pendingBytes() ?? 0), 0);
  }

  private leaseMs(): number {
    return this.deps.config.leaseSeconds * 1000;
  }

  /** Stores the new bytes, the cursor and the open files, and renews the lease: all or nothing. */
  private async checkpoint(): Promise<void> {
    this.state.output = this.output?.file;
    this.state.deleted = this.deleted?.file;
    const drained = this.drainAll();
    const state = JSON.parse(JSON.stringify(this.state)) as ExportState;
    await this.deps.store.transaction(async (tx) => {
      await saveCheckpoint(tx, this.job.id, this.deps.owner, state, this.leaseMs());
      for (const d of drained) await saveDrained(tx, this.job.id, d);
    });
    this.lastCheckpoint = Date.now();
  }

  private drainAll(): DrainedFile[] {
    const writers = [...this.finished, this.output, this.deleted].filter((w): w is FileWriter => w !== undefined);
    this.finished = [];
    return writers.map((w) => w.drain());
  }

  /** Closes the deleted file, writes the messages file, and marks the job completed, in one transaction. */
  private async complete(): Promise<void> {
    if (this.deleted) await this.finish(this.deleted);
    this.deleted = undefined;
    this.state.output = undefined;
    this.state.deleted = undefined;
    const drained = this.drainAll();
    const notes = [...this.job.spec.notes, ...this.state.notes];
    const errors = Buffer.from(notes.map((n) => `${JSON.stringify(noteOutcome(n))}\n`).join(''));
    const state = JSON.parse(JSON.stringify(this.state)) as ExportState;
    await this.deps.store.transaction(async (tx) => {
      await markCompleted(tx, this.job.id, this.deps.owner, state, this.deps.config.retentionSeconds * 1000);
      for (const d of drained) await saveDrained(tx, this.job.id, d);
      if (notes.length > 0) await writeWholeFile(tx, this.job.id, { name: fileName('error', 'OperationOutcome', 1, 'ndjson'), kind: 'error', resourceType: 'OperationOutcome', resources: notes.length }, errors);
    });
  }
}

function noteOutcome(note: ExportNote): object {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: note.severity, code: note.code, details: { text: note.text }, ...(note.expression ? { expression: [note.expression] } : {}) }],
  };
}
