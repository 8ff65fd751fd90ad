/**
 * transaction: POST [base] with a transaction Bundle (R4 http.html#transaction). All entries commit together or
 * none does. Order: DELETE, POST, PUT/PATCH, then GET/HEAD (R4 http.html#trules); ids for POST entries and the
 * targets of conditional writes are settled first so that every reference between entries can be rewritten.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse, RequestContext } from './types.js';
import type { Router } from './router.js';
import { entryToRequest, type EntryRequest } from './bundle-entries.js';
import { conditionalReferences, resolveConditionalReference, rewrite } from './references.js';
import { findMatches } from '../repo/conditional.js';
import { newId } from '../repo/meta.js';
import { badRequest, preconditionFailed, statusOf } from './outcomes.js';
import type { Repository } from '../repo/repository.js';
import { bundle } from './bundle.js';
import { toEntryResponse } from './entry-response.js';
import { requireResource } from './body.js';

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

interface Plan {
  /** fullUrl or conditional reference -> Type/id */
  references: Map<string, string>;
  /** entry index -> id the entry writes (POST: new or matched id; conditional PUT: matched or new id) */
  targets: Map<number, { id: string; existing: boolean }>;
}

export async function runTransaction(req: FhirRequest, ctx: RequestContext, router: Router, entries: EntryRequest[]): Promise<FhirResponse> {
  const responses = await ctx.repo.transaction(async (tx) => {
    const txCtx = { ...ctx, repo: tx };
    const plan = await planTransaction(tx, entries);
    const out: BundleEntry[] = new Array(entries.length);
    const ordered = [...entries].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index);
    for (const e of ordered) {
      try {
        out[e.index] = await runEntry(e, req, txCtx, router, plan);
      } catch (err) {
        throw failedEntry(err, e);
      }
    }
    return out;
  });
  return { status: 200, resource: bundle('transaction-response', responses) };
}

async function planTransaction(tx: Repository, entries: EntryRequest[]): Promise<Plan> {
  const plan: Plan = { references: new Map(), targets: new Map() };
  const written = new Set<string>();
  for (const e of entries) {
    const target = await resolveTarget(tx, e);
    if (!target) continue;
    const key = `${target.type}/${target.id}`;
    if (e.method !== 'GET' && e.method !== 'HEAD') {
      if (written.has(key)) throw new OperationOutcomeError(badRequest(`Bundle.entry[${e.index}] writes ${key}, which another entry of this transaction also writes`));
      written.add(key);
    }
    plan.targets.set(e.index, { id: target.id, existing: target.existing });
    if (e.entry.fullUrl) plan.references.set(e.entry.fullUrl, key);
  }
  const resources = entries.filter((e) => e.resource && (e.method === 'POST' || e.method === 'PUT')).map((e) => e.resource as Resource);
  for (const ref of conditionalReferences(resources)) plan.references.set(ref, await resolveConditionalReference(tx, ref));
  for (const e of entries) {
    if (e.resource && (e.method === 'POST' || e.method === 'PUT')) rewrite(e.resource, plan.references, `Bundle.entry[${e.index}].resource`);
  }
  return plan;
}

/** Which resource an entry writes: known before any write so that references to it can be rewritten. */
async function resolveTarget(tx: Repository, e: EntryRequest): Promise<{ type: string; id: string; existing: boolean } | undefined> {
  const [type, id] = e.path.split('/');
  if (e.method === 'POST' && !id) {
    const criteria = e.entry.request?.ifNoneExist;
    if (criteria) {
      const matches = await findMatches(tx, type, criteria);
      if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`Bundle.entry[${e.index}]: If-None-Exist "${criteria}" matches more than one ${type}`));
      if (matches.length === 1) return { type, id: matches[0].id, existing: true };
    }
    return { type, id: newId(), existing: false };
  }
  if (e.method === 'PUT' && !id && e.query) {
    const matches = await findMatches(tx, type, e.query);
    if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`Bundle.entry[${e.index}]: conditional update "${e.query}" matches more than one ${type}`));
    if (matches.length === 1) return { type, id: matches[0].id, existing: true };
    return { type, id: e.resource?.id ?? newId(), existing: false };
  }
  if (id && !e.path.includes('/_history') && e.method !== 'POST') return { type, id, existing: false };
  return undefined;
}

async function runEntry(e: EntryRequest, req: FhirRequest, ctx: RequestContext, router: Router, plan: Plan): Promise<BundleEntry> {
  const target = plan.targets.get(e.index);
  const entryReq = entryToRequest(e, req);
  const [type] = e.path.split('/');
  if (e.method === 'POST' && target) {
    requireResource(e.resource, type);
    if (target.existing) {
      const stored = await ctx.repo.read(type, target.id);
      return toEntryResponse(ctx, { status: 200, raw: stored.json, headers: { ETag: `W/"${stored.versionId}"` } }, { type, id: target.id, version: stored.versionId, lastUpdated: stored.lastUpdated }, entryReq);
    }
    const { id: _ignored, ...body } = e.resource as Resource;
    const result = await ctx.repo.create({ ...body, resourceType: type } as Resource, target.id);
    return toEntryResponse(ctx, { status: 201, resource: result.resource, outcome: issuesOutcome(result.issues) }, { type, id: target.id, version: 1, lastUpdated: result.stored.lastUpdated }, entryReq);
  }
  if (e.method === 'PUT' && target && e.query) {
    const resource = { ...(e.resource as Resource), id: target.id };
    const result = await ctx.repo.update(resource);
    return toEntryResponse(ctx, { status: result.created ? 201 : 200, resource: result.resource, outcome: issuesOutcome(result.issues) }, { type, id: target.id, version: result.stored.versionId, lastUpdated: result.stored.lastUpdated }, entryReq);
  }
  const response = await router.dispatch(entryReq, ctx);
  return toEntryResponse(ctx, response, undefined, entryReq);
}

function issuesOutcome(issues: OperationOutcome['issue']): OperationOutcome | undefined {
  return issues.length ? { resourceType: 'OperationOutcome', issue: issues } : undefined;
}

/** A failed entry fails the transaction with that entry's status, naming the entry. */
function failedEntry(err: unknown, e: EntryRequest): unknown {
  if (!(err instanceof OperationOutcomeError)) return err;
  const outcome = err.outcome;
  const prefix = `Bundle.entry[${e.index}] (${e.method} ${e.path}${e.query ? '?' + e.query : ''}): `;
  const issue = (outcome.issue ?? []).map((i) => ({ ...i, details: { text: prefix + (i.details?.text ?? i.diagnostics ?? 'failed') } }));
  const status = statusOf(outcome);
  return new OperationOutcomeError({ ...outcome, issue, id: outcome.id ?? (status === 400 ? 'bad-request' : undefined) });
}
