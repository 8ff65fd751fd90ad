/**
 * What an acknowledgment says, read from its segments (read.ts): a 999 (005010X231A1) accepts or rejects each
 * transaction set of a group (AK1/AK2/IK3/IK4/IK5/AK9); a 277CA (005010X214) or 277 (005010X212) gives each claim's
 * status (TRN*2 = the CLM01 patient control number sent, STC category and status codes, REF*1K the payer's claim
 * number). Pure; src/claims/acknowledge.ts turns the answers into ClaimResponses, Tasks and stages.
 * Codes: X12 external code lists 507 (claim status category) and 508 (claim status); 999 IK5/AK9 codes and IK3/IK4
 * syntax error codes (005010X231A1).
 */
import { element, type Segment, type Transaction } from './read.js';

export type Verdict = 'accepted' | 'rejected' | 'denied' | 'pending' | 'information';

export interface TransactionAck {
  /** AK201/AK202: the transaction set acknowledged (837 and its ST02). */
  readonly transactionSet: string;
  readonly control: string;
  /** IK501: A accepted, E accepted with errors noted, M/R/W/X rejected. */
  readonly code: string;
  readonly accepted: boolean;
  /** The errors the 999 lists (IK3 segment, IK4 element, IK5 codes), as text. */
  readonly errors: readonly string[];
  readonly line: number;
}

export interface GroupAck {
  /** AK102: GS06 of the group acknowledged; AK103 its version. */
  readonly group: string;
  readonly version: string;
  /** AK901: A, E, P (partially accepted), M/R/W/X rejected. */
  readonly code: string;
  readonly transactions: readonly TransactionAck[];
}

/** 999 IK5/AK9 acknowledgment codes (005010X231A1). */
const ACK_CODES: Readonly<Record<string, string>> = {
  A: 'Accepted',
  E: 'Accepted but errors were noted',
  M: 'Rejected, message authentication code (MAC) failed',
  P: 'Partially accepted, at least one transaction set was rejected',
  R: 'Rejected',
  W: 'Rejected, assurance failed validity tests',
  X: 'Rejected, content after decryption could not be analyzed',
};

const ACCEPTED = new Set(['A', 'E']);

export function ackCodeText(code: string): string {
  return ACK_CODES[code] ?? `code ${code}`;
}

/** One 999 transaction set: one group acknowledgment. */
export function read999(tx: Transaction): GroupAck {
  const segments = tx.segments;
  const ak1 = segments.find((s) => s.tag === 'AK1');
  const ak9 = segments.find((s) => s.tag === 'AK9');
  const transactions: TransactionAck[] = [];
  let current: { ak2: Segment; errors: string[] } | undefined;
  for (const s of segments) {
    if (s.tag === 'AK2') current = { ak2: s, errors: [] };
    else if (s.tag === 'IK3' && current) current.errors.push(`segment ${element(s, 1)} at position ${element(s, 2)}${element(s, 3) ? ` in loop ${element(s, 3)}` : ''}: syntax error ${element(s, 4)}`);
    else if (s.tag === 'IK4' && current) current.errors.push(`element ${element(s, 1)}: error ${element(s, 3)}${element(s, 4) ? ` (value "${element(s, 4)}")` : ''}`);
    else if (s.tag === 'IK5' && current) {
      const code = element(s, 1);
      const more = [2, 3, 4, 5, 6].map((n) => element(s, n)).filter(Boolean);
      transactions.push({
        transactionSet: element(current.ak2, 1),
        control: String(Number(element(current.ak2, 2)) || element(current.ak2, 2)),
        code,
        accepted: ACCEPTED.has(code),
        errors: [...current.errors, ...(more.length ? [`implementation note codes ${more.join(', ')}`] : [])],
        line: s.line,
      });
      current = undefined;
    }
  }
  return { group: String(Number(element(ak1, 2)) || element(ak1, 2)), version: element(ak1, 3), code: element(ak9, 1), transactions };
}

export function groupAccepted(ack: GroupAck): boolean {
  return ACCEPTED.has(ack.code) || ack.code === 'P';
}

/** X12 code list 507 (health care claim status category codes): what each family means for the claim. */
const CATEGORIES: Readonly<Record<string, { text: string; verdict: Verdict }>> = {
  A0: { text: 'Acknowledgement/Forwarded', verdict: 'accepted' },
  A1: { text: 'Acknowledgement/Receipt', verdict: 'accepted' },
  A2: { text: 'Acknowledgement/Acceptance into adjudication system', verdict: 'accepted' },
  A3: { text: 'Acknowledgement/Returned as unprocessable claim', verdict: 'rejected' },
  A4: { text: 'Acknowledgement/Not Found', verdict: 'rejected' },
  A5: { text: 'Acknowledgement/Split Claim', verdict: 'accepted' },
  A6: { text: 'Acknowledgement/Rejected for Missing Information', verdict: 'rejected' },
  A7: { text: 'Acknowledgement/Rejected for Invalid Information', verdict: 'rejected' },
  A8: { text: 'Acknowledgement/Rejected for relational field in error', verdict: 'rejected' },
  F0: { text: 'Finalized', verdict: 'accepted' },
  F1: { text: 'Finalized/Payment', verdict: 'accepted' },
  F2: { text: 'Finalized/Denial', verdict: 'denied' },
  F3: { text: 'Finalized/Revised', verdict: 'accepted' },
  F4: { text: 'Finalized/Adjudication Complete - No payment forthcoming', verdict: 'accepted' },
};

/** A category's meaning: the table's, else its family's (P pending, R request for information, E error). */
export function categoryOf(code: string): { text: string; verdict: Verdict } {
  const known = CATEGORIES[code];
  if (known) return known;
  if (code.startsWith('P')) return { text: `Pending (${code})`, verdict: 'pending' };
  if (code.startsWith('F')) return { text: `Finalized (${code})`, verdict: 'accepted' };
  if (code.startsWith('R')) return { text: `Request for additional information (${code})`, verdict: 'information' };
  if (code.startsWith('E')) return { text: `Response not possible (${code})`, verdict: 'information' };
  return { text: `Category ${code}`, verdict: 'information' };
}

export interface StatusCode {
  readonly category: string;
  readonly code: string;
  readonly entity: string;
}

export interface ClaimStatus {
  /** TRN02: the claim's patient control number as sent in CLM01. */
  readonly controlNumber: string;
  /** REF*1K: the payer's claim control number. */
  readonly payerClaimNumber?: string;
  readonly statuses: readonly StatusCode[];
  /** The verdict of the first (claim-level) STC. */
  readonly verdict: Verdict;
  readonly text: string;
  readonly line: number;
}

/** HL03 levels whose TRN*2 names a claim: subscriber 22 and dependent 23 (277, X212), patient PT (277CA, X214). */
const CLAIM_LEVELS = new Set(['22', '23', 'PT']);

/**
 * The claim-level statuses of a 277 or 277CA: each TRN*2 (claim status tracking number) in a subscriber, dependent
 * or patient level (HL03 22, 23, PT), with the STC segments and REF*1K that follow it until the next HL; service-line
 * STCs (after SVC) are reported with the claim's. A TRN*2 at the information receiver's level traces a 276 request,
 * not a claim, and is not one.
 */
export function read277(tx: Transaction, componentSeparator: string): ClaimStatus[] {
  const out: ClaimStatus[] = [];
  let current: { trn: Segment; stcs: Segment[]; payer?: string } | undefined;
  const close = () => {
    if (!current) return;
    const statuses = current.stcs.map((s) => {
      const [category = '', code = '', entity = ''] = element(s, 1).split(componentSeparator);
      return { category, code, entity };
    });
    const first = statuses[0];
    const meaning = first ? categoryOf(first.category) : { text: 'no status given', verdict: 'information' as Verdict };
    const text = statuses.map((st) => `${categoryOf(st.category).text}${st.code ? `, status ${st.code}` : ''}${st.entity ? ` (entity ${st.entity})` : ''}`).join('; ');
    out.push({ controlNumber: element(current.trn, 2), payerClaimNumber: current.payer, statuses, verdict: meaning.verdict, text: text || meaning.text, line: current.trn.line });
    current = undefined;
  };
  let level = '';
  for (const s of tx.segments) {
    if (s.tag === 'HL') {
      close();
      level = element(s, 3);
    } else if (s.tag === 'TRN' && element(s, 1) === '2' && CLAIM_LEVELS.has(level)) {
      close();
      current = { trn: s, stcs: [] };
    } else if (s.tag === 'STC' && current) current.stcs.push(s);
    else if (s.tag === 'REF' && element(s, 1) === '1K' && current) current.payer = element(s, 2);
  }
  close();
  return out;
}
