/**
 * A Claim's stage in the revenue cycle (issue 20 §5; DESIGN §9), derived from resources that exist anyway: the Claim's
 * status and content, the sendings recorded on it (one `claim-submission` extension per 837P batch that carried it:
 * the batch, the claim frequency code sent, when, and a fingerprint of what was sent), and the ClaimResponses that
 * answer it (acknowledgments from $process-x12; remittances). The stage is kept on the Claim (extension `claim-stage`)
 * only so that it can be searched (`Claim?stage=`); whoever writes one of those resources writes it again from this
 * one function. Pure.
 */
import { createHash } from 'node:crypto';
import type { Claim, ClaimResponse, Extension } from '@medplum/fhirtypes';
import { STRIDE_EXTENSION } from './codes.js';
import { adjudicatedStage, remittanceSource } from './remit-stage.js';
import { forwardedBy } from './secondary.js';

export const STAGE_EXTENSION = `${STRIDE_EXTENSION}claim-stage`;
export const SUBMISSION_EXTENSION = `${STRIDE_EXTENSION}claim-submission`;
export const STAGE_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/claim-stage';
/** The payer's own number for a claim (277CA REF*1K, 835 CLP07), on ClaimResponse.identifier: an 837P REF*F8. */
export const PAYER_CLAIM_NUMBER = 'http://stride-fhir.org/fhir/sid/payer-claim-number';

export const STAGES = ['draft', 'ready', 'submitted', 'rejected', 'accepted', 'paid', 'partially-paid', 'denied', 'closed'] as const;
export type ClaimStage = (typeof STAGES)[number];

/** CLM05-3 claim frequency type code (NUBC): 1 original, 7 replacement of a prior claim, 8 void of a prior claim. */
export type Frequency = '1' | '7' | '8';

export interface Submission {
  /** `DocumentReference/id` of the 837P batch. */
  readonly batch: string;
  /** ST02 of the transaction set that carried it (a 999 accepts or rejects transaction sets). */
  readonly transaction?: string;
  readonly frequency: Frequency;
  /** When it was sent (instant). */
  readonly sent: string;
  /** fingerprintOf(the Claim as sent). */
  readonly fingerprint: string;
}

/** The Stride extensions that record a Claim's cycle (not its content): kept when the content is billed again. */
export function isCycleExtension(e: Extension): boolean {
  return e.url === STAGE_EXTENSION || e.url === SUBMISSION_EXTENSION;
}

export function submissionsOf(claim: Claim): Submission[] {
  return (claim.extension ?? [])
    .filter((e) => e.url === SUBMISSION_EXTENSION)
    .map((e) => {
      const part = (url: string) => e.extension?.find((x) => x.url === url);
      return {
        batch: part('batch')?.valueReference?.reference ?? '',
        transaction: part('transaction')?.valueString,
        frequency: (part('frequency')?.valueCode ?? '1') as Frequency,
        sent: part('sent')?.valueDateTime ?? '',
        fingerprint: part('fingerprint')?.valueString ?? '',
      };
    });
}

export function submissionExtension(s: Submission): Extension {
  return {
    url: SUBMISSION_EXTENSION,
    extension: [
      { url: 'batch', valueReference: { reference: s.batch } },
      ...(s.transaction ? [{ url: 'transaction', valueString: s.transaction }] : []),
      { url: 'frequency', valueCode: s.frequency },
      { url: 'sent', valueDateTime: s.sent },
      { url: 'fingerprint', valueString: s.fingerprint },
    ],
  };
}

export function stageOf(claim: Claim): ClaimStage | undefined {
  return claim.extension?.find((e) => e.url === STAGE_EXTENSION)?.valueCode as ClaimStage | undefined;
}

/** The Claim with its stage extension set (after the other extensions, replacing an earlier one). */
export function withStage(claim: Claim, stage: ClaimStage): Claim {
  const others = (claim.extension ?? []).filter((e) => e.url !== STAGE_EXTENSION);
  return { ...claim, extension: [...others, { url: STAGE_EXTENSION, valueCode: stage }] };
}

/**
 * What a sending carries, reduced to a digest: the Claim without its id, version, status and cycle extensions, keys
 * sorted. Two versions with the same fingerprint send the same 837P claim; a Claim whose fingerprint differs from its
 * last sending's was changed after it was sent (a replacement is due).
 */
export function fingerprintOf(claim: Claim): string {
  const { id: _id, meta: _meta, status: _status, text: _text, extension, ...content } = claim;
  const own = (extension ?? []).filter((e) => !isCycleExtension(e));
  const value = own.length ? { ...content, extension: own } : content;
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/**
 * JSON with object keys sorted, so that equal content gives equal text. Written directly, one string grown by
 * appends: it runs for every claim sent (10,000 in a large $submit), where building arrays of parts and joining them
 * was a tenth of the run.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v = value[i];
      out += v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : canonicalJson(v);
    }
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out += (first ? '' : ',') + quotedKey(k) + ':' + canonicalJson(v);
    first = false;
  }
  return out + '}';
}

/** A member name as JSON; FHIR's few hundred names recur in every claim, so each is quoted once. */
const QUOTED = new Map<string, string>();
function quotedKey(k: string): string {
  let q = QUOTED.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (QUOTED.size < 10_000) QUOTED.set(k, q);
  }
  return q;
}

/** The answers to one sending: the ClaimResponses created after it was sent and before the next sending. */
function answersTo(index: number, submissions: readonly Submission[], responses: readonly ClaimResponse[]): ClaimResponse[] {
  const from = submissions[index]!.sent;
  const until = submissions[index + 1]?.sent;
  return responses.filter((r) => r.created >= from && (until === undefined || r.created < until)).sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
}

/** A sending the payer never took: its last answer is a rejection (999 or 277CA). */
function rejected(index: number, submissions: readonly Submission[], responses: readonly ClaimResponse[]): boolean {
  return answersTo(index, submissions, responses).at(-1)?.outcome === 'error';
}

/**
 * The frequency code the next sending of this Claim carries: a void (8) for a cancelled Claim, a replacement (7) when
 * the payer took an earlier sending (one not rejected), else an original (1). A claim rejected before adjudication
 * was never received, so it goes again as an original; one the payer took is never sent twice as an original.
 */
export function nextFrequency(claim: Claim, responses: readonly ClaimResponse[]): Frequency {
  const submissions = submissionsOf(claim);
  const taken = submissions.some((s, i) => s.frequency !== '8' && !rejected(i, submissions, responses));
  if (claim.status === 'cancelled' || claim.status === 'entered-in-error') return '8';
  return taken ? '7' : '1';
}

/** The payer's claim number, from the latest answer that gives one (REF*F8 of a replacement or void). */
export function payerClaimNumber(responses: readonly ClaimResponse[]): string | undefined {
  const sorted = [...responses].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  for (const r of sorted) {
    const id = r.identifier?.find((i) => i.system === PAYER_CLAIM_NUMBER)?.value;
    if (id) return id;
  }
  return undefined;
}

/**
 * The stage, from the Claim and the ClaimResponses that answer it (request = the Claim). Draft Claims are `draft`;
 * an active Claim never sent, or changed since its last sending, is `ready`; a sent one is `submitted` until
 * answered: a rejection makes it `rejected`, an acceptance `accepted`, an adjudication `paid`, `partially-paid` or
 * `denied` (ClaimResponse outcome complete or partial, by the payment against the claim total). A cancelled Claim is
 * `ready` while a void is due (the payer took it), else `closed`. An adjudicated claim whose `balances` (src/money/,
 * when the caller knows them) are both 0 is `closed`: nothing is left to collect.
 */
export function deriveStage(claim: Claim, allResponses: readonly ClaimResponse[], balances?: { payerBalance: number; patientBalance: number }): ClaimStage {
  // A remittance reversed or corrected is cancelled (src/claims/remit.ts): it answers nothing any more.
  const responses = allResponses.filter((r) => r.status !== 'cancelled' && r.status !== 'entered-in-error');
  const submissions = submissionsOf(claim);
  const last = submissions.length - 1;
  if (claim.status === 'cancelled' || claim.status === 'entered-in-error') {
    if (last < 0) return 'closed';
    if (submissions[last]!.frequency === '8') return rejected(last, submissions, responses) ? 'rejected' : 'closed';
    const taken = submissions.some((s, i) => !rejected(i, submissions, responses));
    return taken ? 'ready' : 'closed';
  }
  if (claim.status === 'draft') return 'draft';
  if (last < 0) {
    // Paid without a sending Stride recorded (sent by another system, or keyed in from a paper EOB): adjudicated.
    const remittance = responses.filter((r) => remittanceSource(r)).sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0)).at(-1);
    if (remittance) return adjudicatedStage(remittance);
    // A secondary claim the primary payer forwarded itself (835 CLP02 19-21) is with the payer already: awaited.
    return forwardedBy(claim) ? 'submitted' : 'ready';
  }
  if (submissions[last]!.fingerprint !== fingerprintOf(claim)) return 'ready';
  const answer = answersTo(last, submissions, responses).at(-1);
  if (!answer) return 'submitted';
  if (answer.outcome === 'error') return 'rejected';
  if (answer.outcome === 'queued') return 'accepted';
  const verdict = remittanceSource(answer) ? adjudicatedStage(answer) : adjudicated(claim, answer);
  // Settled (both balances 0) closes a paid claim; a denial stays `denied`, in the work queue, for an appeal or a
  // corrected claim, even though nothing is left to collect on it.
  if (verdict !== 'denied' && balances && balances.payerBalance === 0 && balances.patientBalance === 0) return 'closed';
  return verdict;
}

/** A 277 finalized answer (not a remittance): denied when nothing was paid, paid when the payment covers the total. */
function adjudicated(claim: Claim, response: ClaimResponse): ClaimStage {
  const paid = Math.round((response.payment?.amount?.value ?? 0) * 100);
  const billed = Math.round((claim.total?.value ?? 0) * 100);
  if (paid <= 0) return 'denied';
  return paid >= billed ? 'paid' : 'partially-paid';
}
