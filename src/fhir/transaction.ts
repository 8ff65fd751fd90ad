/**
 * transaction: POST [base] with a transaction Bundle (R4 http.html#transaction). All entries commit together or
 * none does. Processing order (R4 http.html#trules): DELETE, then POST, then PUT/PATCH, then GET/HEAD, each group
 * in entry order. Before any POST or PUT runs, the resource each of them writes is settled (a new id, or the match
 * of an `ifNoneExist` / conditional URL, searched after the DELETEs), so that every reference between entries -
 * `urn:uuid` fullUrls and conditional references - can be rewritten first and each resource validated once.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirResponse, HttpMethod, RequestContext } from './types.js';
import type { Router } from './router.js';
import type { Repository, StoredResource } from '../repo/repository.js';
import { entryToRequest, type EntryRequest } from './bundle-entries.js';
import { conditionalReferenceKey, conditionalReferences, criteriaKey, resolveConditionalReference, rewriteLinks } from './references.js';
import { findMatches } from '../repo/conditional.js';
import { lockInOrder } from '../repo/locks.js';
import { newId } from '../repo/meta.js';
import { badRequest, notFound, preconditionFailed, statusOf } from './outcomes.js';
import { loadDefinitions } from '../validation/definitions.js';
import { bundle } from './bundle.js';
import { toEntryResponses, type EntryResult } from './entry-response.js';
import { requireResource } from './body.js';
import { authorizeTransactionWrite, ownBody } from '../auth/guard.js';

const PHASE: Record<HttpMethod, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

/** The resource a POST or conditional PUT entry writes, settled before any POST or PUT runs. */
interface Target {
  id: string;
  /** It exists already: a conditional match (a POST then writes nothing, a PUT updates it). */
  existing: boolean;
  /** A POST whose ifNoneExist repeats an earlier entry's: it answers with that entry's resource. */
  sameAs?: number;
}

export async function runTransaction(req: FhirRequest, ctx: RequestContext, router: Router, entries: EntryRequest[]): Promise<FhirResponse> {
  // The database may run this more than once (PostgreSQL retries a deadlock or a serialization failure): every
  // attempt starts from the client's entries, which nothing below changes.
  let findings: ReadonlyMap<string, OperationOutcomeIssue[]> = new Map();
  const results = await ctx.repo.transaction((tx) => {
    findings = tx.findings; // filled by the write hook (the bots) once every entry is applied, before commit
    return new TransactionRun(req, { ...ctx, repo: tx }, tx, router, entries).run();
  });
  return { status: 200, resource: bundle('transaction-response', toEntryResponses(ctx, results, findings)) };
}

class TransactionRun {
  private readonly out: EntryResult[];
  /** `Type/id` -> the entry that writes it: a transaction changes each resource once (R4 http.html#trules). */
  private readonly claims = new Map<string, number>();
  /** fullUrl or conditional reference -> `Type/id`. */
  private readonly links = new Map<string, string>();
  private readonly targets = new Map<number, Target>();
  /** Criteria key of an ifNoneExist or conditional PUT -> the entry it settled. */
  private readonly criteria = new Map<string, number>();
  /** The entries' resources with their links rewritten. */
  private readonly bodies = new Map<number, Resource>();

  constructor(
    private readonly req: FhirRequest,
    private readonly ctx: RequestContext,
    private readonly tx: Repository,
    private readonly router: Router,
    private readonly entries: readonly EntryRequest[],
  ) {
    this.out = new Array(entries.length);
  }

  async run(): Promise<EntryResult[]> {
    // The entries this run writes itself (the others go through the Router, which checks them) are checked before any
    // of them is settled: a conditional one searches.
    for (const e of this.entries) {
      if ((e.method === 'POST' || e.method === 'PUT') && !e.id) {
        await this.guard(e, async () => authorizeTransactionWrite(this.ctx, e.method, e.type, e.method === 'PUT' ? e.query !== '' : !!e.entry.request?.ifNoneExist));
      }
    }
    const byPhase = [...this.entries].sort((a, b) => PHASE[a.method] - PHASE[b.method] || a.index - b.index);
    // Lock the resources named by id in one order across transactions, so that entry order cannot deadlock two.
    await lockInOrder(this.tx, this.entries.filter((e) => isWrite(e.method) && e.id && !e.path.includes('/_history')).map((e) => ({ type: e.type, id: e.id! })));
    for (const e of byPhase.filter((e) => e.method === 'DELETE')) await this.execute(e);
    for (const e of this.entries) await this.guard(e, () => this.settle(e));
    const conditionalPuts = this.entries.filter((e) => e.method === 'PUT' && !e.id && this.targets.has(e.index));
    await lockInOrder(this.tx, conditionalPuts.map((e) => ({ type: e.type, id: this.targets.get(e.index)!.id })));
    await this.resolveConditionalReferences();
    for (const e of this.entries) {
      if (e.resource && (e.method === 'POST' || e.method === 'PUT')) this.bodies.set(e.index, rewriteLinks(e.resource, this.links, `Bundle.entry[${e.index}].resource`));
    }
    for (const e of byPhase.filter((e) => e.method !== 'DELETE')) await this.execute(e);
    return this.out;
  }

  /** Settles the resource an entry writes and maps its fullUrl to it. */
  private async settle(e: EntryRequest): Promise<void> {
    // POST and conditional PUT entries are run here rather than by the router: check the type as the router would.
    if ((e.method === 'POST' || e.method === 'PUT') && !e.id && !loadDefinitions().resourceTypeSet.has(e.type)) {
      throw new OperationOutcomeError(notFound(`Unknown resource type "${e.type}"`));
    }
    const target = e.method === 'POST' && !e.id ? await this.settlePost(e) : e.method === 'PUT' && !e.id && e.query ? await this.settleConditionalPut(e) : undefined;
    if (target) {
      this.targets.set(e.index, target);
      if (target.sameAs === undefined) this.claim(`${e.type}/${target.id}`, e.index);
    }
    const id = target?.id ?? e.id;
    if (e.entry.fullUrl && id && e.type) this.links.set(e.entry.fullUrl, `${e.type}/${id}`);
    if (isWrite(e.method) && e.id && !e.path.includes('/_history')) this.claim(`${e.type}/${e.id}`, e.index);
  }

  private async settlePost(e: EntryRequest): Promise<Target> {
    // The query part of a URL (R4 Bundle.entry.request.ifNoneExist); many clients send `Patient?identifier=...`.
    const ifNoneExist = e.entry.request?.ifNoneExist?.replace(/^[A-Za-z]+\?/, '');
    if (!ifNoneExist) return { id: newId(), existing: false };
    const key = criteriaKey(e.type, ifNoneExist);
    const earlier = this.criteria.get(key);
    // The same conditional create twice makes one resource; a conditional PUT with these criteria writes it instead.
    if (earlier !== undefined) return this.entries[earlier].method === 'POST' ? { ...this.targets.get(earlier)!, sameAs: earlier } : this.targets.get(earlier)!;
    this.criteria.set(key, e.index);
    const matches = await findMatches(this.tx, e.type, ifNoneExist);
    if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`ifNoneExist "${ifNoneExist}" matches more than one ${e.type}`));
    return matches.length === 1 ? { id: matches[0].id, existing: true } : { id: newId(), existing: false };
  }

  private async settleConditionalPut(e: EntryRequest): Promise<Target> {
    const key = criteriaKey(e.type, e.query);
    const earlier = this.criteria.get(key);
    if (earlier !== undefined) return this.targets.get(earlier)!; // the claim then names both entries
    this.criteria.set(key, e.index);
    const matches = await findMatches(this.tx, e.type, e.query);
    if (matches.length > 1) throw new OperationOutcomeError(preconditionFailed(`Conditional update "${e.query}" matches more than one ${e.type}`));
    const bodyId = e.resource?.id;
    if (matches.length === 0) return { id: bodyId ?? newId(), existing: false };
    if (bodyId && bodyId !== matches[0].id) {
      throw new OperationOutcomeError(badRequest(`The resource's id "${bodyId}" differs from the matched ${e.type}/${matches[0].id}`, 'id'));
    }
    return { id: matches[0].id, existing: true };
  }

  /**
   * A conditional reference is resolved by the entry of this Bundle that uses the same criteria, else by a search
   * that must match exactly one resource (R4 http.html#trules). A failure names the first entry holding it.
   */
  private async resolveConditionalReferences(): Promise<void> {
    for (const e of this.entries) {
      if (!e.resource || (e.method !== 'POST' && e.method !== 'PUT')) continue;
      await this.guard(e, async () => {
        for (const ref of conditionalReferences([e.resource!])) {
          if (this.links.has(ref)) continue;
          const entry = this.criteria.get(conditionalReferenceKey(ref)!);
          const local = entry === undefined ? undefined : `${this.entries[entry].type}/${this.targets.get(entry)!.id}`;
          this.links.set(ref, local ?? (await resolveConditionalReference(this.tx, ref)));
        }
      });
    }
  }

  private claim(key: string, index: number): void {
    const other = this.claims.get(key);
    if (other !== undefined && other !== index) {
      throw new OperationOutcomeError(badRequest(`${key} is also written by Bundle.entry[${other}]: a transaction may change each resource only once`));
    }
    this.claims.set(key, index);
  }

  private async execute(e: EntryRequest): Promise<void> {
    await this.guard(e, async () => {
      const before = this.tx.changes.length;
      const { response, version } = await this.runEntry(e);
      const written = this.tx.changes.slice(before);
      for (const w of written) this.claim(`${w.resourceType}/${w.id}`, e.index);
      this.out[e.index] = { request: entryToRequest(e, this.req), response, version: version ?? written[written.length - 1] };
    });
  }

  private async runEntry(e: EntryRequest): Promise<{ response: FhirResponse; version?: StoredResource }> {
    const target = this.targets.get(e.index);
    const body = this.bodies.get(e.index);
    if (target && this.ctx.access) ownBody(this.ctx.access, this.ctx, body);
    if (target && e.method === 'POST') {
      if (target.existing || target.sameAs !== undefined) {
        const stored = await this.tx.read(e.type, target.id);
        return { response: { status: 200, raw: stored.json }, version: stored };
      }
      const { id: _ignored, ...rest } = requireResource(body, e.type);
      const result = await this.tx.create(rest as Resource, target.id);
      return { response: { status: 201, resource: result.resource, outcome: issuesOutcome(result.issues) } };
    }
    if (target && e.method === 'PUT') {
      const result = await this.tx.update({ ...requireResource(body, e.type), id: target.id });
      return { response: { status: result.created ? 201 : 200, resource: result.resource, outcome: issuesOutcome(result.issues) } };
    }
    return { response: await this.router.dispatch(entryToRequest(e, this.req, body ?? e.resource), this.ctx) };
  }

  /** Runs a step of one entry; its failure fails the transaction with that entry's status, naming the entry. */
  private async guard(e: EntryRequest, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      throw failedEntry(err, e);
    }
  }
}

function isWrite(method: HttpMethod): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}

/** The write's own issues (validation warnings) as they are now: the hook's findings are added at the end. */
function issuesOutcome(issues: readonly OperationOutcomeIssue[]): FhirResponse['outcome'] {
  return issues.length ? { resourceType: 'OperationOutcome', issue: [...issues] } : undefined;
}

function failedEntry(err: unknown, e: EntryRequest): unknown {
  if (!(err instanceof OperationOutcomeError)) return err;
  const outcome = err.outcome;
  const prefix = `Bundle.entry[${e.index}] (${e.method} ${e.path}${e.query ? '?' + e.query : ''}): `;
  const issue = (outcome.issue ?? []).map((i) => ({ ...i, details: { ...i.details, text: prefix + (i.details?.text ?? i.diagnostics ?? 'failed') } }));
  const status = statusOf(outcome);
  return new OperationOutcomeError({ ...outcome, issue, id: outcome.id ?? (status === 400 ? 'bad-request' : undefined) });
}
