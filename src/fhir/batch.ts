/**
 * batch: POST [base] with a batch Bundle (R4 http.html#transaction). Entries are independent: each runs alone, in
 * the order given, in its own database transaction, and a failure answers that entry only.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { BundleEntry } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, FhirResponse, RequestContext } from './types.js';
import type { Router } from './router.js';
import { entryToRequest, readEntries, type EntryRequest } from './bundle-entries.js';
import { bundle } from './bundle.js';
import { toEntryResponse } from './entry-response.js';
import { serverError, statusOf } from './outcomes.js';
import { runTransaction } from './transaction.js';
import { requireResource } from './body.js';

export function createBundleHandler(router: Router): FhirHandler {
  return async (req, ctx) => {
    requireResource(req.body, 'Bundle');
    const { type, entries } = readEntries(req.body, ctx);
    if (type === 'transaction') return runTransaction(req, ctx, router, entries);
    return runBatch(req, ctx, router, entries);
  };
}

async function runBatch(req: FhirRequest, ctx: RequestContext, router: Router, entries: EntryRequest[]): Promise<FhirResponse> {
  const out: BundleEntry[] = [];
  for (const e of entries) out.push(await runBatchEntry(e, req, ctx, router));
  return { status: 200, resource: bundle('batch-response', out) };
}

async function runBatchEntry(e: EntryRequest, req: FhirRequest, ctx: RequestContext, router: Router): Promise<BundleEntry> {
  const entryReq = entryToRequest(e, req);
  try {
    return toEntryResponse(ctx, await router.dispatch(entryReq, ctx), undefined, entryReq);
  } catch (err) {
    const outcome = err instanceof OperationOutcomeError ? err.outcome : serverError(`Entry ${e.index} failed unexpectedly (request ${ctx.requestId})`);
    if (!(err instanceof OperationOutcomeError)) ctx.logger.error({ err, requestId: ctx.requestId, entry: e.index }, 'batch entry failed');
    return { response: { status: String(statusOf(outcome)), outcome } };
  }
}
