/**
 * Posting one payment of an 835 (or a keyed-in EOB in the same shape) inside the caller's transaction (issue 21 §1):
 * - a claim Stride does not know is reported and gets a Task; its money stays a detail of the payment;
 * - a reversal (CLP02 22) cancels the remittance it reverses (the active one with its payer claim number, else the
 *   latest), and posts no ClaimResponse of its own: the money taken back is a detail of the payment;
 * - any other claim payment cancels the claim's earlier active remittance (a correction supersedes it) and posts a
 *   ClaimResponse (remit-response.ts) with its lines matched to the Claim's items (remit-match.ts); unmatched, denied
 *   and underpaid lines open Tasks with the CARC/RARC texts;
 * - the payment is a PaymentReconciliation with a detail per claim and per provider adjustment.
 * restage() then writes the stage of every claim touched (src/billing/stage.ts).
 */
import type { Claim, ClaimResponse, OperationOutcomeIssue, Organization, PaymentReconciliationDetail, Reference } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { deriveStage, withStage, PAYER_CLAIM_NUMBER } from '../billing/stage.js';
import { matchLines } from '../billing/remit-match.js';
import { adjustmentText, lineVerdict, toClaimResponse } from '../billing/remit-response.js';
import { remittanceSource, type RemittanceSource } from '../billing/remit-stage.js';
import { money as text } from '../billing/x12/remittance-balance.js';
import type { RemitClaim, Remittance } from '../billing/x12/remittance.js';
import { claimDetail, openTask, paymentReconciliation, type TaskInput } from './remit-records.js';

export interface PostingState {
  /** Claims by patient control number (read under lock), secondary claims included. */
  claims: Map<string, Claim>;
  /** A primary Claim's id -> the patient control number of its secondary Claim. */
  secondaries: Map<string, string>;
  /** Each claim's ClaimResponses (by Claim id), kept current as this posting writes. */
  responses: Map<string, ClaimResponse[]>;
  touched: Set<string>;
  posted: Array<{ claim: string; response: string }>;
  /** Versions written (the file's Provenance names them). */
  written: string[];
  /** What each posted resource came from: its segment lines. */
  provenance: Array<{ target: string; first: number; last: number; what: string }>;
  issues: OperationOutcomeIssue[];
  unmatched: number;
}

export async function postPayment(tx: Repository, r: Remittance, state: PostingState, payer: Reference<Organization>, source: RemittanceSource, at: string): Promise<string> {
  const details: PaymentReconciliationDetail[] = [];
  const tasks: TaskInput[] = [];
  if (r.dateNote) state.issues.push(warning(`Payment ${r.trace}: ${r.dateNote}.`));
  for (const c of r.claims) {
    const claim = routed(state.claims.get(c.controlNumber), c, payer, state);
    if (!claim) {
      state.unmatched++;
      tasks.push({ code: 'remit-unknown-claim', description: `Payment ${r.trace} from ${r.payer.name || 'the payer'} pays claim ${c.controlNumber} (patient ${c.patient.family} ${c.patient.given}, payer claim ${c.payerClaimNumber}), which no claim Stride knows carries: ${text(c.paid)} paid of ${text(c.charge)}. Find the claim, or return the money.` });
      state.issues.push(warning(`Claim ${c.controlNumber} (line ${c.firstLine}) is not a claim Stride knows: ${text(c.paid)} left unposted, a work-queue Task was opened.`));
      details.push(claimDetail(c.controlNumber, c.paid, r.date));
      continue;
    }
    state.touched.add(claim.id!);
    if (c.status === '22') details.push(await reverse(tx, claim, c, r, state, at));
    else details.push(await post(tx, claim, c, r, state, payer, source, at, tasks));
  }
  const reconciliation = await tx.create(paymentReconciliation(r, payer, details, at, source));
  const ref = `PaymentReconciliation/${reconciliation.stored.id}`;
  state.written.push(`${ref}/_history/1`);
  state.provenance.push({ target: `${ref}/_history/1`, first: r.firstLine, last: r.lastLine, what: `BPR/TRN payment ${r.trace}` });
  for (const t of tasks) state.written.push(await openTask(tx, t, at));
  state.issues.push(info(`Payment ${r.trace} of ${text(r.amount)} from ${r.payer.name || 'the payer'}: ${ref}, ${r.claims.length} claim(s).`));
  return ref;
}

/** CLP02 of a payer answering as secondary: processed as secondary (2), and forwarded on to a third payer (20). */
const AS_SECONDARY = new Set(['2', '20']);

/**
 * The claim a CLP pays: the one its CLP01 names, or that claim's secondary when the payment is the secondary payer's
 * (CLP02 says it processed the claim as secondary, or the paying payer is the secondary's, not the primary's): a
 * crossover payer answers with the primary's claim number.
 */
function routed(claim: Claim | undefined, c: RemitClaim, payer: Reference<Organization>, state: PostingState): Claim | undefined {
  const number = claim?.id ? state.secondaries.get(claim.id) : undefined;
  const secondary = number ? state.claims.get(number) : undefined;
  if (!claim || !secondary) return claim;
  const payersSecondary = !!payer.reference && payer.reference !== claim.insurer?.reference && payer.reference === secondary.insurer?.reference;
  return AS_SECONDARY.has(c.status) || payersSecondary ? secondary : claim;
}

const activeRemittances = (state: PostingState, claim: Claim) => (state.responses.get(claim.id!) ?? []).filter((x) => x.status === 'active' && remittanceSource(x));

async function cancel(tx: Repository, response: ClaimResponse, state: PostingState, why: string): Promise<void> {
  const { meta, ...rest } = response;
  const written = await tx.update({ ...rest, meta: { tag: meta?.tag }, status: 'cancelled', disposition: `${response.disposition ?? ''} — ${why}`.slice(0, 1000) } as ClaimResponse);
  state.written.push(`ClaimResponse/${response.id}/_history/${written.stored.versionId}`);
  const list = state.responses.get(response.request!.reference!.slice(6)) ?? [];
  const index = list.findIndex((x) => x.id === response.id);
  if (index >= 0) list[index] = written.resource as ClaimResponse;
}

async function reverse(tx: Repository, claim: Claim, c: RemitClaim, r: Remittance, state: PostingState, at: string): Promise<PaymentReconciliationDetail> {
  const active = activeRemittances(state, claim).sort((a, b) => (a.created < b.created ? 1 : -1));
  const target = active.find((x) => x.identifier?.some((i) => i.system === PAYER_CLAIM_NUMBER && i.value === c.payerClaimNumber)) ?? active[0];
  if (!target) {
    state.issues.push(warning(`Claim/${claim.id} (${c.controlNumber}, line ${c.firstLine}): a reversal of ${text(-c.paid)}, but no payment of it is posted: the money is a detail of payment ${r.trace} only.`));
    return claimDetail(c.controlNumber, c.paid, r.date, claim);
  }
  await cancel(tx, target, state, `reversed by payment ${r.trace}`);
  state.issues.push(info(`Claim/${claim.id} (${c.controlNumber}): ClaimResponse/${target.id} reversed (${text(c.paid)}).`));
  return claimDetail(c.controlNumber, c.paid, r.date, claim, `ClaimResponse/${target.id}`);
}

async function post(tx: Repository, claim: Claim, c: RemitClaim, r: Remittance, state: PostingState, payer: Reference<Organization>, source: RemittanceSource, at: string, tasks: TaskInput[]): Promise<PaymentReconciliationDetail> {
  for (const earlier of activeRemittances(state, claim)) {
    await cancel(tx, earlier, state, `superseded by payment ${r.trace}`);
    state.issues.push(info(`Claim/${claim.id} (${c.controlNumber}): the earlier posting ClaimResponse/${earlier.id} is superseded.`));
  }
  const matches = matchLines(claim, c);
  const insurer = (claim.insurer?.reference ? claim.insurer : payer) as Reference<Organization>;
  const response = toClaimResponse({ claim, remit: c, matches, insurer, paymentDate: r.date, source, created: at });
  const written = await tx.create(response);
  const ref = `ClaimResponse/${written.stored.id}`;
  state.responses.get(claim.id!)?.push(written.resource as ClaimResponse);
  state.written.push(`${ref}/_history/1`);
  state.posted.push({ claim: `Claim/${claim.id}`, response: ref });
  state.provenance.push({ target: `${ref}/_history/1`, first: c.firstLine, last: c.lastLine, what: `CLP ${c.controlNumber}` });
  const about = `Claim/${claim.id} (${c.controlNumber}, payer claim ${c.payerClaimNumber}), payment ${r.trace}`;
  for (const m of matches) {
    const line = m.line;
    const where = `${line.code}${line.modifiers.length ? `-${line.modifiers.join('-')}` : ''} on ${line.start ?? c.start ?? '?'} (line ${line.firstLine})`;
    if (m.kind === 'unmatched') {
      state.unmatched++;
      state.issues.push(warning(`${about}: service line ${where} matches no line of the claim; posted as an added line.`));
      tasks.push({ code: 'remit-line-unmatched', claim, response: ref, description: `${about}: service line ${where}, ${text(line.paid)} paid of ${text(line.charge)}, matches no line of the claim. ${adjustmentText(line.adjustments, line.remarks)}` });
      continue;
    }
    if (m.kind !== 'exact' && m.kind !== 'control-number') state.issues.push(info(`${about}: service line ${where} matched item(s) ${m.items.join(', ')} (${m.kind}).`));
    const verdict = lineVerdict(line);
    if (verdict !== 'paid') {
      tasks.push({ code: verdict === 'denied' ? 'remit-line-denied' : 'remit-line-underpaid', claim, response: ref, description: `${about}: service line ${where} ${verdict}: ${text(line.paid)} paid of ${text(line.charge)}. ${adjustmentText(line.adjustments, line.remarks)}` });
    }
  }
  const patient = c.adjustments.filter((a) => a.group === 'PR').reduce((s, a) => s + a.amount, 0);
  if (c.lines.length === 0 && (c.status === '4' || (c.paid <= 0 && patient <= 0))) {
    tasks.push({ code: 'remit-claim-denied', claim, response: ref, description: `${about}: claim denied, ${text(c.paid)} paid of ${text(c.charge)}. ${adjustmentText(c.adjustments, c.remarks)}` });
  } else if (c.status === '4' && !tasks.some((t) => t.claim === claim)) {
    tasks.push({ code: 'remit-claim-denied', claim, response: ref, description: `${about}: claim denied (CLP02 4). ${adjustmentText(c.adjustments, c.remarks)}` });
  }
  return claimDetail(c.controlNumber, c.paid, r.date, claim, ref);
}

/** Writes the stage of every claim this posting touched; the versions written. */
export async function restage(tx: Repository, state: PostingState): Promise<string[]> {
  const changed: string[] = [];
  for (const claim of state.claims.values()) {
    if (!state.touched.has(claim.id!)) continue;
    state.touched.delete(claim.id!);
    const staged = withStage(claim, deriveStage(claim, state.responses.get(claim.id!) ?? []));
    if (JSON.stringify(staged.extension) === JSON.stringify(claim.extension)) continue;
    const { meta: _meta, ...resource } = staged;
    const written = await tx.update(resource);
    changed.push(`Claim/${claim.id}/_history/${written.stored.versionId}`);
  }
  return changed;
}

function info(message: string): OperationOutcomeIssue {
  return { severity: 'information', code: 'informational', details: { text: message } };
}

function warning(message: string): OperationOutcomeIssue {
  return { severity: 'warning', code: 'business-rule', details: { text: message } };
}
