/** history: GET [type]/[id]/_history, [type]/_history, /_history (R4 http.html#history). */
import { OperationOutcomeError } from '@medplum/core';
import type { BundleEntry } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, RequestContext } from './types.js';
import { bundle, fullUrl, link, pageUrl } from './bundle.js';
import { instantParam, integerParam } from './query.js';
import { toStored, type StoredResource } from '../repo/repository.js';
import { etag } from '../repo/meta.js';
import { badRequest, notFound } from './outcomes.js';
import { readHistory, type HistoryScope } from '../repo/history.js';
import { parseJsonKeepingDecimals } from './json-decimals.js';
import { AUDIT_TYPE } from '../auth/audit-store.js';

export const instanceHistory: FhirHandler = async (req, ctx, { type, id }) => {
  // A resource that never existed has no history (404); a deleted one still has its versions.
  const current = await ctx.repo.readCurrent(type, id);
  if (!current) throw new OperationOutcomeError(notFound(`${type}/${id} not found`));
  if (type === AUDIT_TYPE) return auditHistory(req, ctx, current, `${type}/${id}/_history`);
  return history(req, ctx, { type, id }, `${type}/${id}/_history`);
};

export const typeHistory: FhirHandler = (req, ctx, { type }) => {
  if (type === AUDIT_TYPE) {
    throw new OperationOutcomeError(badRequest('AuditEvents record accesses and are never changed: they have no history as a type; search them by date (AuditEvent?date=ge...)'));
  }
  return history(req, ctx, { type }, `${type}/_history`);
};

export const systemHistory: FhirHandler = (req, ctx) => history(req, ctx, {}, '_history');

/** R4 history parameters this server does not implement: refused, since ignoring them would answer another question. */
const UNSUPPORTED = ['_at', '_list'];

function refuseUnsupported(req: FhirRequest): void {
  const unsupported = UNSUPPORTED.find((name) => req.query[name]);
  if (unsupported) throw new OperationOutcomeError(badRequest(`History with ${unsupported} is not supported here: use _since and _count`, unsupported));
}

async function history(req: FhirRequest, ctx: RequestContext, scope: HistoryScope, path: string) {
  refuseUnsupported(req);
  const count = integerParam(req.query, '_count', ctx.config.defaultCount, 0, ctx.config.maxCount);
  const offset = integerParam(req.query, '_offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const since = instantParam(req.query, '_since');
  // _snapshot comes from our own paging links; a hand-edited one is still client input, checked like any other.
  const snapshot = req.query._snapshot ? integerParam(req.query, '_snapshot', 0, 0, Number.MAX_SAFE_INTEGER) : undefined;
  const page = await readHistory(ctx.repo.db, scope, { count, offset, since, snapshot });
  const base: Record<string, string[]> = { _count: [String(count)] };
  if (req.query._since) base._since = req.query._since;
  base._snapshot = [String(page.snapshot)];
  const links = [link('self', pageUrl(ctx, path, { ...base, _offset: [String(offset)] }))];
  // _count=0 asks for no entries (the total alone): a next link would repeat this page forever.
  if (page.hasMore && count > 0) links.push(link('next', pageUrl(ctx, path, { ...base, _offset: [String(offset + count)] })));
  if (offset > 0) links.push(link('previous', pageUrl(ctx, path, { ...base, _offset: [String(Math.max(0, offset - count))] })));
  const entries = page.rows.map((row) => historyEntry(ctx, toStored(row)));
  return { status: 200, resource: bundle('history', entries, { total: page.total, link: links }) };
}

/** An AuditEvent's history: its one version, never changed (src/auth/audit-store.ts keeps no history rows). */
function auditHistory(req: FhirRequest, ctx: RequestContext, current: StoredResource, path: string) {
  refuseUnsupported(req);
  const count = integerParam(req.query, '_count', ctx.config.defaultCount, 0, ctx.config.maxCount);
  const since = instantParam(req.query, '_since');
  const shown = since === undefined || current.lastUpdated >= since;
  return {
    status: 200,
    resource: bundle('history', shown && count > 0 ? [historyEntry(ctx, current)] : [], { total: shown ? 1 : 0, link: [link('self', pageUrl(ctx, path, req.query))] }),
  };
}

function historyEntry(ctx: RequestContext, stored: StoredResource): BundleEntry {
  const url = fullUrl(ctx, stored.resourceType, stored.id);
  const lastModified = new Date(stored.lastUpdated).toISOString();
  if (stored.deleted) {
    return {
      fullUrl: url,
      request: { method: 'DELETE', url: `${stored.resourceType}/${stored.id}` },
      response: { status: '204 No Content', etag: etag(stored.versionId), lastModified },
    };
  }
  const created = stored.versionId === 1;
  return {
    fullUrl: url,
    resource: parseJsonKeepingDecimals(stored.json) as BundleEntry['resource'],
    request: { method: created ? 'POST' : 'PUT', url: created ? stored.resourceType : `${stored.resourceType}/${stored.id}` },
    response: { status: created ? '201 Created' : '200 OK', etag: etag(stored.versionId), lastModified },
  };
}
