/**
 * `stride import FILE|DIR...`: loads transaction/batch Bundles and NDJSON through the same router as HTTP (so the
 * same validation and transaction rules apply), with a progress bar on a terminal and a summary at the end.
 */
import fs from 'node:fs';
import pino from 'pino';
import cliProgress from 'cli-progress';
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../config.js';
import { openStride, type Stride } from '../stride.js';
import type { RequestContext } from '../fhir/types.js';
import { collectFiles, ndjsonChunks, type NdjsonLine } from './import-files.js';
import { ImportSummary } from './import-summary.js';

const NDJSON_CHUNK = 500;

export async function importCommand(paths: string[]): Promise<number> {
  const files = collectFiles(paths);
  const stride = await openStride(loadConfig(), pino({ level: 'silent' }));
  const summary = new ImportSummary();
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'importing [{bar}] {value}/{total} files | {resources} resources | {file}', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(files.length, 0, { resources: 0, file: '' });
  try {
    for (const file of files) {
      bar?.update({ file: file.slice(-40) });
      await importFile(stride, file, summary);
      bar?.increment(1, { resources: summary.written });
    }
  } finally {
    bar?.stop();
    await stride.close();
  }
  process.stdout.write(summary.format(files.length));
  return summary.failures.length ? 1 : 0;
}

export async function importFile(stride: Stride, file: string, summary: ImportSummary): Promise<void> {
  if (/\.ndjson$/i.test(file)) return importNdjson(stride, file, summary);
  let bundle: Bundle;
  try {
    bundle = asBundle(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch (err) {
    summary.fail(file, (err as Error).message);
    return;
  }
  await postBundle(stride, bundle, file, summary);
}

/** A transaction/batch Bundle as it is; any other Bundle or a lone resource becomes a batch of creates/updates. */
function asBundle(json: unknown): Bundle {
  const value = json as Resource;
  if (!value || typeof value !== 'object' || typeof value.resourceType !== 'string') throw new Error('not a FHIR resource (no resourceType)');
  if (value.resourceType === 'Bundle' && (value.type === 'transaction' || value.type === 'batch')) return value;
  const resources = value.resourceType === 'Bundle' ? (value.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r) : [value];
  return { resourceType: 'Bundle', type: 'batch', entry: resources.map(toEntry) };
}

function toEntry(resource: Resource): BundleEntry {
  return resource.id
    ? { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }
    : { resource, request: { method: 'POST', url: resource.resourceType } };
}

function context(stride: Stride): RequestContext {
  const baseUrl = stride.config.baseUrl ?? `http://localhost:${stride.config.port}/fhir`;
  return { repo: stride.repo, config: stride.config, logger: stride.logger, requestId: 'import', baseUrl };
}

async function postBundle(stride: Stride, bundle: Bundle, where: string, summary: ImportSummary): Promise<boolean> {
  try {
    const response = await stride.router.dispatch({ method: 'POST', path: '', query: {}, headers: {}, body: bundle }, context(stride));
    const entries = (response.resource as Bundle).entry ?? [];
    entries.forEach((entry, i) => summary.record(where, i, bundle.entry?.[i]?.resource?.resourceType, entry));
    return true;
  } catch (err) {
    summary.fail(where, err instanceof OperationOutcomeError ? (err.outcome.issue ?? []).map((i) => i.details?.text).join('; ') : (err as Error).message);
    return false;
  }
}

async function importNdjson(stride: Stride, file: string, summary: ImportSummary): Promise<void> {
  for await (const chunk of ndjsonChunks(file, NDJSON_CHUNK)) {
    const parsed = chunk.map((l) => parseLine(l, file, summary)).filter((r): r is Resource => r !== undefined);
    // Fast path: the chunk in one transaction; if any line fails, redo it line by line to name the failures.
    const quiet = new ImportSummary();
    if (await postBundle(stride, { resourceType: 'Bundle', type: 'transaction', entry: parsed.map(toEntry) }, file, quiet)) {
      summary.merge(quiet);
      continue;
    }
    for (let i = 0; i < parsed.length; i++) {
      await postBundle(stride, { resourceType: 'Bundle', type: 'transaction', entry: [toEntry(parsed[i])] }, `${file}:${chunk[i].line}`, summary);
    }
  }
}

function parseLine(line: NdjsonLine, file: string, summary: ImportSummary): Resource | undefined {
  try {
    const value = JSON.parse(line.text) as Resource;
    if (typeof value?.resourceType !== 'string') throw new Error('not a FHIR resource (no resourceType)');
    return value;
  } catch (err) {
    summary.fail(`${file}:${line.line}`, (err as Error).message);
    return undefined;
  }
}
