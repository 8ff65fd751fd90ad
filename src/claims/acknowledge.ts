/**
 * Acknowledgments in (issue 20 §4): a 999, 277CA or 277 posted to $process-x12 moves the claims it names. Whole or
 * nothing, in one transaction: the file is read strictly first (a file that is not valid X12 changes nothing), the
 * same file twice changes nothing (its SHA-256 is the stored file's identifier, checked under a lock), and then:
 * - a rejected transaction set (999 IK5 R/M/W/X, or AK9 rejecting the group) rejects every claim it carried;
 * - a 277/277CA claim status names the claim by TRN02 (the CLM01 patient control number Stride sent): a rejection
 *   (A3/A4/A6/A7/A8) rejects it, an acceptance or pending status accepts it, a finalized denial (F2) denies it;
 * - each answer is a ClaimResponse (outcome error for a rejection, queued for an acceptance, complete for a denial,
 *   with the codes and text, and the payer's claim number REF*1K as an identifier), and the Claim's stage follows
 *   (src/billing/stage.ts); a rejection opens a Task in the billing work queue; a batch or claim Stride did not send
 *   opens a Task too;
 * - the file is stored (files.ts) with a Provenance naming what it changed.
 * An 835 remittance goes to remittance posting (remit.ts), with the same guarantees.
 */
import { escapeSearchValue } from '../search/values.js';
import { OperationOutcomeError } from '@medplum/core';
import type { Claim, ClaimResponse, OperationOutcomeIssue, Resource, Task } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { lockInOrder, lockKey, lockUntilCommit } from '../repo/locks.js';
import { badRequest } from '../fhir/outcomes.js';
import { SYSTEMS } from '../billing/codes.js';
import { PAYER_CLAIM_NUMBER, deriveStage, submissionsOf, withStage } from '../billing/stage.js';
import { ackCodeText, groupAccepted, read277, read999, type ClaimStatus, type GroupAck } from '../billing/x12/acknowledgments.js';
import { X12ReadError, readX12, type Interchange, type Transaction } from '../billing/x12/read.js';
import { FILE_IDS, sha256Of, storeFile, type FileKind } from './files.js';
import { postRemittanceFile } from './remit.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export const TASK_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/billing-task';
const STATUS_CODES = 'https://x12.org/codes/claim-status-codes';
const CATEGORY_CODES = 'https://x12.org/codes/claim-status-category-codes';
const ACK_CODES = 'http://stride-fhir.org/fhir/CodeSystem/x12-999-ack-code';

export interface ProcessResult {
  /** What the file did, an issue per batch or claim. */
  issues: OperationOutcomeIssue[];
  /** The stored file (absent when it had been processed before). */
  documentReference?: string;
  duplicate: boolean;
}

interface Answer {
  claim: Claim;
  verdict: 'accepted' | 'rejected' | 'denied';
  text: string;
  codes: Array<{ system: string; code: string }>;
  payerClaimNumber?: string;
}

export async function processX12(repo: Repository, text: string, now: Date): Promise<ProcessResult> {
  let interchanges: Interchange[];
  try {
    interchanges = readX12(text);
  } catch (err) {
    if (err instanceof X12ReadError) throw new OperationOutcomeError(badRequest(`The file is not valid X12, nothing was recorded: ${err.message}`));
    throw err;
  }
  const transactions = interchanges.flatMap((i) => i.groups.flatMap((g) => g.transactions.map((t) => ({ interchange: i, transaction: t }))));
  const kind = kindOf(transactions.map((t) => t.transaction));
  if (kind === 'x12-835') return postRemittanceFile(repo, interchanges, text, now);
  const hash = sha256Of(text);
  return repo.transaction(async (tx) => {
    await lockUntilCommit(tx, lockKey(`x12-file:${hash}`));
    const earlier = await tx.search({ resourceType: 'DocumentReference', params: { identifier: [`${FILE_IDS.sha256}|${hash}`] }, count: 1, offset: 0, total: 'none' });
    if (earlier.rows.length > 0) {
      return { duplicate: true, issues: [info(`This file was processed before (DocumentReference/${earlier.rows[0]!.id}): nothing changed.`)] };
    }
    const issues: OperationOutcomeIssue[] = [];
    const answers: Answer[] = [];
    const unmatched: string[] = [];
    for (const { interchange, transaction } of transactions) {
      if (transaction.id === '999') await answer999(tx, read999(transaction), answers, issues, unmatched);
      else await answer277(tx, read277(transaction, interchange.componentSeparator), answers, issues, unmatched);
    }
    const changed = await record(tx, answers, now);
    for (const what of unmatched) await openTask(tx, 'ack-unmatched', what, undefined, now);
    const control = interchanges[0]!;
    const stored = await storeFile(tx, {
      kind,
      text,
      at: now.toISOString(),
      description: `${kind} from ${control.sender}: ${answers.length} claim(s) answered, ${unmatched.length} not matched`,
      related: [...new Set(answers.map((a) => `Claim/${a.claim.id}`))],
      controlNumbers: { interchange: control.control, group: control.groups[0]?.control, transactions: transactions.map((t) => t.transaction.control) },
      operation: 'process-x12',
      sources: changed,
    });
    issues.push(info(`Stored as ${stored.documentReference} (${stored.binary}).`));
    return { duplicate: false, issues, documentReference: stored.documentReference };
  });
}

/** The file's kind, from its transaction sets: one kind a file (an 835 goes to remittance posting, remit.ts). */
function kindOf(transactions: readonly Transaction[]): FileKind {
  const kinds = new Set(transactions.map((t) => (t.id === '999' ? 'x12-999' : t.id === '277' ? (t.version.includes('X214') ? 'x12-277ca' : 'x12-277') : t.id === '835' ? 'x12-835' : `unsupported ${t.id} (${t.version})`)));
  if (kinds.size !== 1) throw new OperationOutcomeError(badRequest(`The file mixes transaction sets (${[...kinds].join(', ')}): post one kind of file at a time`));
  const [kind] = [...kinds] as [string];
  if (kind.startsWith('unsupported')) {
    throw new OperationOutcomeError(badRequest(`$process-x12 reads 999 acknowledgments, 277CA claim acknowledgments, 277 claim status responses and 835 remittances; this file is a ${kind.slice(12)}, nothing was recorded`));
  }
  return kind as FileKind;
}

/** 999: the claims of each rejected transaction set of a batch Stride sent (found by GS06 and ST02). */
async function answer999(tx: Repository, ack: GroupAck, answers: Answer[], issues: OperationOutcomeIssue[], unmatched: string[]): Promise<void> {
  const batches = await tx.search({ resourceType: 'DocumentReference', params: { identifier: [`${FILE_IDS.group}|${escapeSearchValue(ack.group)}`], type: ['http://stride-fhir.org/fhir/CodeSystem/document-type|x12-837p-batch'] }, count: 10, offset: 0, total: 'none' });
  const batch = batches.rows[0];
  if (!batch) {
    unmatched.push(`The 999 acknowledges group ${ack.group} (${ack.version}), which Stride did not send: ${ackCodeText(ack.code)}.`);
    issues.push(warning(`Group ${ack.group} is not a batch Stride sent: a work-queue Task was opened.`));
    return;
  }
  if (ack.version && !ack.version.includes('X222')) issues.push(warning(`The 999 says group ${ack.group} was ${ack.version}; Stride sent it as 005010X222A1 (837P): it is matched by its control number.`));
  const claims = await claimsOfBatch(tx, `DocumentReference/${batch.id}`);
  // AK9 rejecting the whole group with no AK2: every transaction set of the batch is rejected.
  const sets = ack.transactions.length ? ack.transactions : [{ transactionSet: '837', control: '*', code: ack.code, accepted: groupAccepted(ack), errors: [], line: 0 }];
  for (const set of sets) {
    const of = claims.filter((c) => set.control === '*' || submissionsOf(c).some((s) => s.batch === `DocumentReference/${batch.id}` && Number(s.transaction) === Number(set.control)));
    if (of.length === 0) {
      unmatched.push(`The 999 answers transaction set ${set.control} of batch DocumentReference/${batch.id}, which carried no claim Stride knows.`);
      continue;
    }
    const what = `${ackCodeText(set.code)} (999 IK5 ${set.code}${set.errors.length ? `: ${set.errors.join('; ')}` : ''})`;
    issues.push(set.accepted ? info(`Transaction set ${set.control} of DocumentReference/${batch.id} (${of.length} claim(s)): ${what}.`) : warning(`Transaction set ${set.control} of DocumentReference/${batch.id} rejected (${of.length} claim(s)): ${what}.`));
    if (!set.accepted) for (const claim of of) answers.push({ claim, verdict: 'rejected', text: `Batch transaction set rejected by the 999: ${what}`, codes: [{ system: ACK_CODES, code: set.code }] });
  }
}

async function claimsOfBatch(tx: Repository, batch: string): Promise<Claim[]> {
  const found = await tx.search({ resourceType: 'Claim', params: { batch: [batch] }, count: 10_000, offset: 0, total: 'none' });
  return found.rows.map((r) => parseJsonKeepingDecimals(r.content) as Claim);
}

/** 277/277CA: each claim status, matched to the Claim by the patient control number Stride sent. */
async function answer277(tx: Repository, statuses: readonly ClaimStatus[], answers: Answer[], issues: OperationOutcomeIssue[], unmatched: string[]): Promise<void> {
  for (const status of statuses) {
    const found = await tx.search({ resourceType: 'Claim', params: { identifier: [`${SYSTEMS.patientControlNumber}|${escapeSearchValue(status.controlNumber)}`] }, count: 2, offset: 0, total: 'none' });
    const claim = found.rows[0] ? (JSON.parse(found.rows[0].content) as Claim) : undefined;
    if (!claim || submissionsOf(claim).length === 0) {
      unmatched.push(`Line ${status.line}: a claim status for patient control number ${status.controlNumber}, which no claim Stride sent carries: ${status.text}.`);
      issues.push(warning(`Claim ${status.controlNumber} (line ${status.line}) is not a claim Stride sent: a work-queue Task was opened.`));
      continue;
    }
    const codes = status.statuses.flatMap((s) => [{ system: CATEGORY_CODES, code: s.category }, ...(s.code ? [{ system: STATUS_CODES, code: s.code }] : [])]);
    if (status.verdict === 'information' || status.verdict === 'pending') {
      issues.push(info(`Claim/${claim.id} (${status.controlNumber}): ${status.text}.`));
      if (status.verdict === 'information') continue;
    }
    const verdict = status.verdict === 'pending' ? 'accepted' : status.verdict;
    answers.push({ claim, verdict, text: status.text, codes, payerClaimNumber: status.payerClaimNumber });
    if (status.verdict !== 'pending') issues.push((verdict === 'accepted' ? info : warning)(`Claim/${claim.id} (${status.controlNumber}) ${verdict}: ${status.text}.`));
  }
}

/**
 * Writes each answer as a ClaimResponse, then each answered Claim's stage (rows locked first, read again), and a Task
 * for each rejection. Returns the versions it changed (the file's Provenance names them).
 */
async function record(tx: Repository, answers: readonly Answer[], now: Date): Promise<string[]> {
  const ids = [...new Set(answers.map((a) => a.claim.id as string))].sort();
  await lockInOrder(tx, ids.map((id) => ({ type: 'Claim', id })));
  const changed: string[] = [];
  for (const a of answers) {
    const response = await tx.create(claimResponse(a, now));
    changed.push(`ClaimResponse/${response.stored.id}`);
    if (a.verdict === 'rejected') changed.push(await openTask(tx, 'claim-rejected', `Claim rejected before adjudication: ${a.text}. Correct the claim (or its session) and it is sent again by the next $submit.`, a.claim, now));
  }
  for (const id of ids) {
    const current = JSON.parse((await tx.read('Claim', id)).json) as Claim;
    const responses = (await tx.search({ resourceType: 'ClaimResponse', params: { request: [`Claim/${id}`] }, count: 1000, offset: 0, total: 'none' })).rows.map((r) => parseJsonKeepingDecimals(r.content) as ClaimResponse);
    const staged = withStage(current, deriveStage(current, responses));
    if (JSON.stringify(staged.extension) === JSON.stringify(current.extension)) continue;
    const { meta: _meta, ...resource } = staged;
    const written = await tx.update(resource);
    changed.push(`Claim/${id}/_history/${written.stored.versionId}`);
  }
  return changed;
}

function claimResponse(a: Answer, now: Date): ClaimResponse {
  return {
    resourceType: 'ClaimResponse',
    ...(a.payerClaimNumber ? { identifier: [{ system: PAYER_CLAIM_NUMBER, value: a.payerClaimNumber }] } : {}),
    status: 'active',
    type: a.claim.type,
    use: 'claim',
    patient: a.claim.patient,
    created: now.toISOString(),
    insurer: a.claim.insurer ?? { display: 'the payer' },
    request: { reference: `Claim/${a.claim.id}` },
    outcome: a.verdict === 'rejected' ? 'error' : a.verdict === 'denied' ? 'complete' : 'queued',
    disposition: a.text.slice(0, 1000),
    ...(a.verdict === 'denied' ? { payment: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] }, amount: { value: 0, currency: a.claim.total?.currency ?? 'USD' } } } : {}),
    ...(a.verdict === 'rejected' ? { error: a.codes.map((c) => ({ code: { coding: [c] } })) } : {}),
  };
}

/** A Task of the billing office's work queue (Task?code=...billing-task|claim-rejected&status=requested). */
async function openTask(tx: Repository, code: 'claim-rejected' | 'ack-unmatched', description: string, claim: Claim | undefined, now: Date): Promise<string> {
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: TASK_SYSTEM, code, display: code === 'claim-rejected' ? 'Claim rejected' : 'Acknowledgment of an unknown claim' }] },
    description: description.slice(0, 2000),
    ...(claim ? { focus: { reference: `Claim/${claim.id}` }, for: claim.patient } : {}),
    authoredOn: now.toISOString(),
  };
  const written = await tx.create(task as Resource);
  return `Task/${written.stored.id}`;
}

function info(text: string): OperationOutcomeIssue {
  return { severity: 'information', code: 'informational', details: { text } };
}

function warning(text: string): OperationOutcomeIssue {
  return { severity: 'warning', code: 'business-rule', details: { text } };
}
