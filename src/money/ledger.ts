/**
 * The ledger's SQL (migration 10, schema.ts): a resource's postings replaced, a claim's row written, and its sums
 * recomputed from its postings. Every balance is a sum of postings:
 *   payer balance   = billed - insurance paid - payer adjustments (CO, OA, PI) - patient responsibility (PR)
 *   patient balance = patient responsibility (PR, or the whole charge when self-pay) - patient payments
 * Before adjudication the payer balance is the charge; a remittance that balances (paid + adjustments = charge)
 * takes it to 0, what it puts on the patient moving to the patient balance. Amounts are cents (BIGINT).
 */
import type { Queryer } from '../storage/store.js';
import { fragments, sql } from '../sql/sql.js';
import type { Posting, PostingKind } from './postings.js';

export interface ClaimAttributes {
  claimId: string;
  /** References: Patient/x, Organization/x (or 'self-pay'), Organization/x. */
  patient: string;
  payer: string;
  provider: string;
  stage: string;
  /** Days since 1970-01-01 (UTC) of the first date of service and of the first sending (null: never sent). */
  serviceDay: number;
  submissionDay: number | null;
}

export interface Balances {
  billed: number;
  insurancePaid: number;
  payerAdjustments: number;
  patientResponsibility: number;
  patientPaid: number;
  payerBalance: number;
  patientBalance: number;
}

export interface ClaimRow extends ClaimAttributes, Balances {}

export const ZERO: Balances = { billed: 0, insurancePaid: 0, payerAdjustments: 0, patientResponsibility: 0, patientPaid: 0, payerBalance: 0, patientBalance: 0 };

export function dayOf(date: string | undefined): number | null {
  if (!date) return null;
  const ms = Date.parse(date.length === 10 ? `${date}T00:00:00Z` : date);
  return Number.isNaN(ms) ? null : Math.floor(ms / 86_400_000);
}

export function dateOfDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

export async function replacePostings(db: Queryer, sourceType: string, sourceId: string, postings: readonly Posting[]): Promise<void> {
  await db.run(sql`DELETE FROM money_posting WHERE source_id = ${sourceId} AND source_type = ${sourceType}`);
  const rows = postings.filter((p) => p.amount !== 0 || p.kind === 'billed');
  if (rows.length === 0) return;
  const strings: string[] = ['INSERT INTO money_posting (source_type, source_id, claim_id, kind, amount) VALUES ('];
  const values: unknown[] = [];
  rows.forEach((p, i) => {
    if (i > 0) strings[strings.length - 1] += '), (';
    values.push(sourceType, sourceId, p.claimId, p.kind, p.amount);
    strings.push(', ', ', ', ', ', ', ', '');
  });
  strings[strings.length - 1] += ')';
  await db.run(fragments(strings, values));
}

/** The claims a source posted to before this write (their balances change when it is replaced). */
export async function claimsPostedBy(db: Queryer, sourceType: string, sourceId: string): Promise<string[]> {
  const rows = await db.all<{ claim_id: string }>(sql`SELECT DISTINCT claim_id FROM money_posting WHERE source_id = ${sourceId} AND source_type = ${sourceType}`);
  return rows.map((r) => r.claim_id);
}

/** The row of a claim, with zero sums (recomputeClaim fills them); an existing row is replaced. */
export async function writeClaimRow(db: Queryer, a: ClaimAttributes): Promise<void> {
  await deleteClaimRow(db, a.claimId);
  await db.run(sql`INSERT INTO money_claim (claim_id, patient, payer, provider, stage, service_day, submission_day, billed, insurance_paid, payer_adjustments, patient_responsibility, patient_paid, payer_balance, patient_balance, open)
    VALUES (${a.claimId}, ${a.patient}, ${a.payer}, ${a.provider}, ${a.stage}, ${a.serviceDay}, ${a.submissionDay}, 0, 0, 0, 0, 0, 0, 0, 0)`);
}

export async function deleteClaimRow(db: Queryer, claimId: string): Promise<void> {
  await db.run(sql`DELETE FROM money_claim WHERE claim_id = ${claimId}`);
}

export async function setStage(db: Queryer, claimId: string, stage: string): Promise<void> {
  await db.run(sql`UPDATE money_claim SET stage = ${stage} WHERE claim_id = ${claimId}`);
}

/** The sums of a claim's postings, by kind, and the balances from them. */
export async function sumPostings(db: Queryer, claimId: string): Promise<Balances> {
  const rows = await db.all<{ kind: PostingKind; amount: number | string }>(sql`SELECT kind, SUM(amount) AS amount FROM money_posting WHERE claim_id = ${claimId} GROUP BY kind`);
  const by = new Map(rows.map((r) => [r.kind, Number(r.amount)]));
  return balancesOf({
    billed: by.get('billed') ?? 0,
    insurancePaid: by.get('insurance-paid') ?? 0,
    payerAdjustments: by.get('payer-adjustment') ?? 0,
    patientResponsibility: by.get('patient-responsibility') ?? 0,
    patientPaid: by.get('patient-payment') ?? 0,
  });
}

export function balancesOf(s: Omit<Balances, 'payerBalance' | 'patientBalance'>): Balances {
  return { ...s, payerBalance: s.billed - s.insurancePaid - s.payerAdjustments - s.patientResponsibility, patientBalance: s.patientResponsibility - s.patientPaid };
}

/** Recomputes a claim's sums from its postings; undefined when the claim has no row (not active, or unknown). */
export async function recomputeClaim(db: Queryer, claimId: string): Promise<Balances | undefined> {
  const b = await sumPostings(db, claimId);
  const open = b.payerBalance !== 0 || b.patientBalance !== 0 ? 1 : 0;
  const { changes } = await db.run(sql`UPDATE money_claim SET billed = ${b.billed}, insurance_paid = ${b.insurancePaid}, payer_adjustments = ${b.payerAdjustments},
    patient_responsibility = ${b.patientResponsibility}, patient_paid = ${b.patientPaid}, payer_balance = ${b.payerBalance}, patient_balance = ${b.patientBalance}, open = ${open}
    WHERE claim_id = ${claimId}`);
  return changes > 0 ? b : undefined;
}

interface RawRow {
  claim_id: string;
  patient: string;
  payer: string;
  provider: string;
  stage: string;
  service_day: number | string;
  submission_day: number | string | null;
  billed: number | string;
  insurance_paid: number | string;
  payer_adjustments: number | string;
  patient_responsibility: number | string;
  patient_paid: number | string;
  payer_balance: number | string;
  patient_balance: number | string;
}

function toRow(r: RawRow): ClaimRow {
  return {
    claimId: r.claim_id,
    patient: r.patient,
    payer: r.payer,
    provider: r.provider,
    stage: r.stage,
    serviceDay: Number(r.service_day),
    submissionDay: r.submission_day === null ? null : Number(r.submission_day),
    billed: Number(r.billed),
    insurancePaid: Number(r.insurance_paid),
    payerAdjustments: Number(r.payer_adjustments),
    patientResponsibility: Number(r.patient_responsibility),
    patientPaid: Number(r.patient_paid),
    payerBalance: Number(r.payer_balance),
    patientBalance: Number(r.patient_balance),
  };
}

export async function readClaimRow(db: Queryer, claimId: string): Promise<ClaimRow | undefined> {
  const r = await db.get<RawRow>(sql`SELECT * FROM money_claim WHERE claim_id = ${claimId}`);
  return r ? toRow(r) : undefined;
}

/** A patient's claims, oldest service first. */
export async function readPatientRows(db: Queryer, patient: string): Promise<ClaimRow[]> {
  const rows = await db.all<RawRow>(sql`SELECT * FROM money_claim WHERE patient = ${patient} ORDER BY service_day, claim_id`);
  return rows.map(toRow);
}

export function total(rows: readonly Balances[]): Balances {
  const out = { ...ZERO };
  for (const r of rows) for (const k of Object.keys(out) as Array<keyof Balances>) out[k] += r[k];
  return out;
}
