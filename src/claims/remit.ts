/**
 * Money back in (issue 21 §1, §5): an 835 posted to $process-x12 (or `stride x12`) in one transaction, whole or not at
 * all. Before anything is written, every payment of the file is read (remittance.ts) and must balance
 * (remittance-balance.ts): a file that is not valid, or does not balance, is a 400 naming each problem. Under locks on
 * the file's SHA-256 and on each payment's trace (TRN02 under its payer, TRN03), a file or payment posted before
 * changes nothing and says so. Then each payment is posted (remit-post.ts): a PaymentReconciliation, a ClaimResponse
 * per claim, reversals and corrections, Tasks, stages; the file is stored (files.ts) and each posted resource gets a
 * Provenance to it and to the lines of its segments.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Claim, ClaimResponse, OperationOutcomeIssue, Organization, Reference } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { lockInOrder, lockKey, lockUntilCommit } from '../repo/locks.js';
import { badRequest } from '../fhir/outcomes.js';
import { SYSTEMS } from '../billing/codes.js';
import { SECONDARY_KEY, isSecondaryClaim, primaryOf, secondaryKeyOf } from '../billing/secondary.js';
import { RemittanceError, read835, type Remittance } from '../billing/x12/remittance.js';
import { balanceProblems } from '../billing/x12/remittance-balance.js';
import type { Interchange } from '../billing/x12/read.js';
import { FILE_IDS, sha256Of, storeFile } from './files.js';
import { TRACE_SYSTEM, sourceProvenance, traceKey } from './remit-records.js';
import { postPayment, restage, type PostingState } from './remit-post.js';
import type { ProcessResult } from './acknowledge.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';
import { escapeSearchValue } from '../search/values.js';

/** Values per search of claims or responses by a list (comma = OR). */
const CHUNK = 100;

export function readRemittances(interchanges: readonly Interchange[]): Remittance[] {
  const remittances: Remittance[] = [];
  try {
    for (const i of interchanges) for (const g of i.groups) for (const t of g.transactions) remittances.push(read835(t, i.componentSeparator));
  } catch (err) {
    if (err instanceof RemittanceError) throw new OperationOutcomeError(badRequest(`The 835 cannot be read, nothing was recorded: ${err.message}`));
    throw err;
  }
  const problems = remittances.flatMap((r) => balanceProblems(r).map((p) => `payment ${r.trace} (transaction set ${r.control}): ${p}`));
  if (problems.length) {
    throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: problems.slice(0, 100).map((p, i) => ({ severity: 'error', code: 'business-rule', details: { text: i === 0 ? `The 835 does not balance, nothing was recorded: ${p}` : p } })) });
  }
  const traces = remittances.map(traceKey);
  const twice = traces.find((t, i) => traces.indexOf(t) !== i);
  if (twice) throw new OperationOutcomeError(badRequest(`The 835 carries payment ${twice} twice, nothing was recorded`));
  return remittances;
}

export async function postRemittanceFile(repo: Repository, interchanges: readonly Interchange[], text: string, now: Date): Promise<ProcessResult> {
  const remittances = readRemittances(interchanges);
  const at = now.toISOString();
  return repo.transaction(async (tx) => {
    const hash = sha256Of(text);
    await lockUntilCommit(tx, lockKey(`x12-file:${hash}`));
    const earlier = await tx.search({ resourceType: 'DocumentReference', params: { identifier: [`${FILE_IDS.sha256}|${hash}`] }, count: 1, offset: 0, total: 'none' });
    if (earlier.rows.length > 0) return { duplicate: true, issues: [info(`This file was processed before (DocumentReference/${earlier.rows[0]!.id}): nothing changed.`)] };
    const posted = await postedBefore(tx, remittances);
    if (posted.length === remittances.length) return { duplicate: true, issues: posted.map((p) => info(`Payment ${p.trace} was posted before (${p.reconciliation}): nothing changed.`)) };
    if (posted.length) throw new OperationOutcomeError(badRequest(`Part of this 835 was posted before (${posted.map((p) => `payment ${p.trace}: ${p.reconciliation}`).join('; ')}), nothing was recorded: post the payments that are new in a file of their own`));
    const state = await loadState(tx, remittances);
    for (const r of remittances) await postPayment(tx, r, state, await payerOf(tx, r, state), 'x12-835', at);
    const changed = await restage(tx, state);
    const control = interchanges[0]!;
    const stored = await storeFile(tx, {
      kind: 'x12-835',
      text,
      at,
      description: `835 from ${remittances.map((r) => r.payer.name || r.originator).join(', ')}: ${remittances.length} payment(s), ${state.posted.length} claim payment(s) posted, ${state.unmatched} not matched`,
      related: [...new Set(state.posted.map((p) => p.claim))],
      controlNumbers: { interchange: control.control, group: control.groups[0]?.control, transactions: remittances.map((r) => r.control) },
      operation: 'process-x12',
      sources: [...state.written, ...changed],
    });
    for (const p of state.provenance) await tx.create(sourceProvenance(p.target, stored.documentReference, p, at));
    state.issues.push(info(`Stored as ${stored.documentReference} (${stored.binary}).`));
    return { duplicate: false, issues: state.issues, documentReference: stored.documentReference };
  });
}

async function postedBefore(tx: Repository, remittances: readonly Remittance[]): Promise<Array<{ trace: string; reconciliation: string }>> {
  const out: Array<{ trace: string; reconciliation: string }> = [];
  for (const r of remittances) {
    await lockUntilCommit(tx, lockKey(`x12-835-trace:${traceKey(r)}`));
    const found = await tx.search({ resourceType: 'PaymentReconciliation', params: { identifier: [`${TRACE_SYSTEM}|${escapeSearchValue(traceKey(r))}`] }, count: 1, offset: 0, total: 'none' });
    if (found.rows[0]) out.push({ trace: traceKey(r), reconciliation: `PaymentReconciliation/${found.rows[0].id}` });
  }
  return out;
}

/** The claims the file names (by CLP01, the patient control number Stride sent), locked, with their ClaimResponses. */
async function loadState(tx: Repository, remittances: readonly Remittance[]): Promise<PostingState> {
  const numbers = [...new Set(remittances.flatMap((r) => r.claims.map((c) => c.controlNumber)))];
  const byNumber = new Map<string, Claim>();
  for (let i = 0; i < numbers.length; i += CHUNK) {
    const values = numbers.slice(i, i + CHUNK).map((n) => `${SYSTEMS.patientControlNumber}|${escapeSearchValue(n)}`).join(',');
    const found = await tx.search({ resourceType: 'Claim', params: { identifier: [values] }, count: CHUNK * 2, offset: 0, total: 'none' });
    for (const row of found.rows) {
      const claim = parseJsonKeepingDecimals(row.content) as Claim;
      const number = claim.identifier?.find((x) => x.system === SYSTEMS.patientControlNumber)?.value;
      if (number && !byNumber.has(number)) byNumber.set(number, claim);
    }
  }
  // Each claim's secondary (src/billing/secondary.ts): a secondary payer may answer with the primary's CLP01 (a
  // crossover) or with the secondary's own; either way both are at hand.
  const keys = [...byNumber.values()].filter((c) => !isSecondaryClaim(c)).map(secondaryKeyOf);
  for (let i = 0; i < keys.length; i += CHUNK) {
    const values = keys.slice(i, i + CHUNK).map((k) => `${SECONDARY_KEY}|${escapeSearchValue(k)}`).join(',');
    const found = await tx.search({ resourceType: 'Claim', params: { identifier: [values] }, count: CHUNK * 2, offset: 0, total: 'none' });
    for (const row of found.rows) {
      const claim = parseJsonKeepingDecimals(row.content) as Claim;
      const number = claim.identifier?.find((x) => x.system === SYSTEMS.patientControlNumber)?.value;
      if (number && !byNumber.has(number)) byNumber.set(number, claim);
    }
  }
  const ids = [...new Set([...byNumber.values()].map((c) => c.id!))];
  await lockInOrder(tx, ids.map((id) => ({ type: 'Claim', id })));
  // Read again under the lock: the versions this transaction updates.
  const current = await tx.readCurrentMany(ids.map((id) => `Claim/${id}`));
  for (const [number, claim] of byNumber) {
    const row = current.get(`Claim/${claim.id}`);
    if (row && !row.deleted) byNumber.set(number, parseJsonKeepingDecimals(row.json) as Claim);
    else byNumber.delete(number);
  }
  const responses = new Map<string, ClaimResponse[]>(ids.map((id) => [id, []]));
  for (let i = 0; i < ids.length; i += CHUNK) {
    const values = ids.slice(i, i + CHUNK).map((id) => `Claim/${id}`).join(',');
    for (let offset = 0; ; offset += 1000) {
      const page = await tx.search({ resourceType: 'ClaimResponse', params: { request: [values] }, count: 1000, offset, total: 'none' });
      for (const row of page.rows) {
        const r = parseJsonKeepingDecimals(row.content) as ClaimResponse;
        responses.get(r.request?.reference?.slice(6) ?? '')?.push(r);
      }
      if (page.rows.length < 1000) break;
    }
  }
  const secondaries = new Map<string, string>();
  for (const [number, claim] of byNumber) {
    const primary = isSecondaryClaim(claim) ? primaryOf(claim)?.slice(6) : undefined;
    if (primary) secondaries.set(primary, number);
  }
  return { claims: byNumber, secondaries, responses, touched: new Set(), posted: [], written: [], provenance: [], issues: [], unmatched: 0 };
}

/** The payer Organization: by its payer id (N1*PR04, REF*2U, TRN03), else the insurer of the first claim paid. */
async function payerOf(tx: Repository, r: Remittance, state: PostingState): Promise<Reference<Organization>> {
  const ids = [...new Set([r.payer.id, r.originator].filter(Boolean))];
  if (ids.length) {
    const found = await tx.search({ resourceType: 'Organization', params: { identifier: [ids.map((id) => `${SYSTEMS.payerId}|${escapeSearchValue(id)}`).join(',')] }, count: 1, offset: 0, total: 'none' });
    if (found.rows[0]) return { reference: `Organization/${found.rows[0].id}`, ...(r.payer.name ? { display: r.payer.name } : {}) };
  }
  const insurer = r.claims.map((c) => state.claims.get(c.controlNumber)?.insurer).find((i) => i?.reference);
  return insurer ? { reference: insurer.reference, ...(r.payer.name ? { display: r.payer.name } : {}) } : { display: r.payer.name || r.originator || 'the payer' };
}

export function info(text: string): OperationOutcomeIssue {
  return { severity: 'information', code: 'informational', details: { text } };
}

export function warning(text: string): OperationOutcomeIssue {
  return { severity: 'warning', code: 'business-rule', details: { text } };
}
