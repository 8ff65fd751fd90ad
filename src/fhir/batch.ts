/**
 * batch: POST [base] with a batch Bundle (R4 http.html#transaction). Entries are independent: each runs alone, in
 * the order given, in its own database transaction, and a failure answers that entry only. Entries may not depend
 * on each other (R4 http.html#brules): a reference to another entry's fullUrl fails that entry.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, FhirResponse, RequestContext } from './types.js';
import type { Router } from './router.js';
import type { Repository, StoredResource } from '../repo/repository.js';
import { entryToRequest, readEntries, type EntryRequest } from './bundle-entries.js';
import { bundle } from './bundle.js';
import { toEntryResponse, toEntryResponses } from './entry-response.js';
import { badRequest, serverError, statusOf } from './outcomes.js';
import { runTransaction } from './transaction.js';
import { requireResource } from './body.js';
import { forEachReference } from './references.js';

export function createBundleHandler(router: Router): FhirHandler {
  return async (req, ctx) => {
    requireResource(req.body, 'Bundle');
    const { type, entries } = readEntries(req.body, ctx);
    if (!ctx.auditEntry) return type === 'transaction' ? runTransaction(req, ctx, router, entries) : runBatch(req, ctx, router, entries);
    let response: FhirResponse;
    try {
      response = type === 'transaction' ? await runTransaction(req, ctx, router, entries) : await runBatch(req, ctx, router, entries);
    } catch (err) {
      // A transaction that fails changes nothing: each of its entries is an access refused or failed with it.
      const status = err instanceof OperationOutcomeError ? statusOf(err.outcome) : 500;
      for (const e of entries) ctx.auditEntry({ method: e.method, path: e.path, query: e.query, status });
      throw err;
    }
    const out = (response.resource as Bundle | undefined)?.entry ?? [];
    entries.forEach((e, i) => ctx.auditEntry!({ method: e.method, path: e.path, query: e.query, status: parseInt(out[i]?.response?.status ?? '', 10) || 500 }));
    return response;
  };
}

async function runBatch(req: FhirRequest, ctx: RequestContext, router: Router, entries: EntryRequest[]): Promise<FhirResponse> {
  const fullUrls = new Set(entries.map((e) => e.entry.fullUrl).filter((u): u is string => !!u));
  const out: BundleEntry[] = [];
  for (const e of entries) out.push(await runBatchEntry(e, req, ctx, router, fullUrls));
  return { status: 200, resource: bundle('batch-response', out) };
}

async function runBatchEntry(e: EntryRequest, req: FhirRequest, ctx: RequestContext, router: Router, fullUrls: ReadonlySet<string>): Promise<BundleEntry> {
  const entryReq = entryToRequest(e, req);
  try {
    checkIndependent(e, fullUrls);
    if (e.method === 'GET' || e.method === 'HEAD') return toEntryResponse(ctx, await router.dispatch(entryReq, ctx), entryReq);
    // The entry's own transaction, opened here so that the version it wrote, and the write hook's findings about
    // it, are known for the response entry.
    // (The version is taken before the hook runs: what the bots write after it is not this entry's.)
    let repo: Repository | undefined;
    const result = await ctx.repo.transaction(async (tx) => {
      repo = tx;
      const response = await router.dispatch(entryReq, { ...ctx, repo: tx });
      return { request: entryReq, response, version: tx.changes[tx.changes.length - 1] as StoredResource | undefined };
    });
    return toEntryResponses(ctx, [result], repo?.findings)[0];
  } catch (err) {
    const outcome = err instanceof OperationOutcomeError ? err.outcome : serverError(`Bundle.entry[${e.index}] failed unexpectedly (request ${ctx.requestId})`);
    if (!(err instanceof OperationOutcomeError)) ctx.logger.error({ err, requestId: ctx.requestId, entry: e.index }, 'batch entry failed');
    return { response: { status: String(statusOf(outcome)), outcome } };
  }
}

function checkIndependent(e: EntryRequest, fullUrls: ReadonlySet<string>): void {
  if (!e.resource || fullUrls.size === 0) return;
  forEachReference(e.resource, (ref) => {
    if (fullUrls.has(ref)) {
      const where = `Bundle.entry[${e.index}].resource`;
      throw new OperationOutcomeError(badRequest(`${where} refers to ${ref}, another entry of this batch: batch entries are processed independently; send a transaction to link them`, where));
    }
  });
}
