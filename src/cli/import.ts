/**
 * `stride import FILE|DIR...`: loads transaction/batch Bundles and NDJSON files through the same router as HTTP (so
 * the same validation, reference and transaction rules apply), with a progress bar on a terminal and a summary at
 * the end: resources written per type, every failure with its reason and file (and entry or line). Exit code 1
 * when anything failed.
 */
import fs from 'node:fs';
import pino from 'pino';
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../config.js';
import { openStride, type Stride } from '../stride.js';
import type { RequestContext } from '../fhir/types.js';
import { collectFiles, ndjsonChunks, type NdjsonLine } from './import-files.js';
import { ImportSummary, outcomeText } from './import-summary.js';
import { createProgress, type Progress } from './import-progress.js';

/** NDJSON lines written per transaction: large enough to amortise the commit, small enough to retry line by line. */
const NDJSON_CHUNK = 500;

export async function importCommand(paths: string[]): Promise<number> {
  const files = collectFiles(paths);
  if (files.length === 0) {
    process.stderr.write(`stride import: no .json or .ndjson files in ${paths.join(', ')}\n`);
    return 1;
  }
  // The entry limit protects the server from what clients send; an import is the operator's own data.
  const config = { ...loadConfig(), maxBundleEntries: Number.MAX_SAFE_INTEGER };
  const stride = await openStride({ ...config, export: { ...config.export, workers: 0 } }, pino({ level: 'silent' }));
  process.stderr.write(`stride import: ${files.length} file(s) into ${stride.store.dialect.name} at ${stride.store.location}\n`);
  const summary = new ImportSummary();
  const progress = createProgress(files.reduce((n, f) => n + fs.statSync(f).size, 0));
  const started = performance.now();
  try {
    const importer = new Importer(stride, summary, progress);
    for (const file of files) await importer.file(file);
    await stride.store.analyze();
  } finally {
    progress.stop();
    await stride.close();
  }
  process.stdout.write(summary.format(files.length, (performance.now() - started) / 1000));
  return summary.failures.length ? 1 : 0;
}

class Importer {
  private readonly ctx: RequestContext;

  constructor(
    private readonly stride: Stride,
    private readonly summary: ImportSummary,
    private readonly progress: Progress,
  ) {
    const { config } = stride;
    const baseUrl = config.baseUrl ?? `http://localhost:${config.port}/fhir`;
    this.ctx = { repo: stride.repo, config, logger: stride.logger, requestId: 'import', baseUrl };
  }

  async file(file: string): Promise<void> {
    if (/\.ndjson$/i.test(file)) return this.ndjson(file);
    const text = fs.readFileSync(file, 'utf8');
    let bundle: Bundle | undefined;
    try {
      bundle = asBundle(JSON.parse(text));
      const response = await this.post(bundle);
      (response.entry ?? []).forEach((entry, i) => this.summary.record(`${file} entry ${i}`, bundle!.entry?.[i], entry));
    } catch (err) {
      this.summary.fail(file, reasonOf(err, bundle));
    } finally {
      this.progress.advance(Buffer.byteLength(text), this.summary.written, file);
    }
  }

  /** One transaction per chunk of lines; when a chunk fails, it is sent again as a batch to name the bad lines. */
  private async ndjson(file: string): Promise<void> {
    for await (const chunk of ndjsonChunks(file, NDJSON_CHUNK)) {
      const lines: NdjsonLine[] = [];
      const entries: BundleEntry[] = [];
      for (const line of chunk) {
        const resource = this.parseLine(line, file);
        if (resource) lines.push(line), entries.push(toEntry(resource));
      }
      await this.ndjsonChunk(file, lines, entries);
      this.progress.advance(chunk.reduce((n, l) => n + Buffer.byteLength(l.text) + 1, 0), this.summary.written, file);
    }
  }

  private async ndjsonChunk(file: string, lines: NdjsonLine[], entries: BundleEntry[]): Promise<void> {
    if (entries.length === 0) return;
    let response: Bundle;
    try {
      response = await this.post({ resourceType: 'Bundle', type: 'transaction', entry: entries });
    } catch {
      response = await this.post({ resourceType: 'Bundle', type: 'batch', entry: entries });
    }
    (response.entry ?? []).forEach((entry, i) => this.summary.record(`${file}:${lines[i].line}`, entries[i], entry));
  }

  private parseLine(line: NdjsonLine, file: string): Resource | undefined {
    try {
      const value = JSON.parse(line.text) as Resource;
      if (!value || typeof value !== 'object' || typeof value.resourceType !== 'string') throw new Error('not a FHIR resource (no resourceType)');
      return value;
    } catch (err) {
      this.summary.fail(`${file}:${line.line}`, (err as Error).message);
      return undefined;
    }
  }

  private async post(bundle: Bundle): Promise<Bundle> {
    const response = await this.stride.router.dispatch({ method: 'POST', path: '', query: {}, headers: {}, body: bundle }, this.ctx);
    return response.resource as Bundle;
  }
}

/** A transaction/batch Bundle as it is; any other Bundle or a lone resource becomes a batch of creates/updates. */
function asBundle(json: unknown): Bundle {
  const value = json as Resource;
  if (!value || typeof value !== 'object' || Array.isArray(value) || typeof value.resourceType !== 'string') throw new Error('not a FHIR resource (no resourceType)');
  if (value.resourceType === 'Bundle' && (value.type === 'transaction' || value.type === 'batch')) return value;
  const resources = value.resourceType === 'Bundle' ? (value.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r) : [value];
  return { resourceType: 'Bundle', type: 'batch', entry: resources.map(toEntry) };
}

/** A resource with an id keeps it (PUT, an upsert); one without gets a server id (POST). */
function toEntry(resource: Resource): BundleEntry {
  return resource.id
    ? { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }
    : { resource, request: { method: 'POST', url: resource.resourceType } };
}

function reasonOf(err: unknown, bundle: Bundle | undefined): string {
  if (!(err instanceof OperationOutcomeError)) return (err as Error).message;
  const text = outcomeText(err.outcome) ?? 'failed';
  return bundle?.type === 'transaction' ? `transaction rolled back, none of its ${bundle.entry?.length ?? 0} entries written: ${text}` : text;
}
