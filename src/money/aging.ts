/**
 * The aging table (issue 21 §4): what is still owed on each claim (payer balance + patient balance, from the ledger),
 * by how long since its date of service (basis `service`) or its first sending (`submission`), in the classic buckets
 * 0-30, 31-60, 61-90, 91-120 and over 120 days, per group (payer, patient, provider or stage) and in total. One
 * aggregate query over the ledger's claim rows that owe something (a covering index per grouping): the database adds, no
 * claim is loaded (see schema.ts for its indexes). Balances are the current ones (every posting to date); `as-of` sets the day ages are counted to,
 * and claims whose date is after it are not counted.
 */
import type { Queryer } from '../storage/store.js';
import { raw, sql } from '../sql/sql.js';

export const BUCKETS = ['0-30', '31-60', '61-90', '91-120', 'over-120'] as const;
export const GROUPINGS = ['payer', 'patient', 'provider', 'stage'] as const;
export const BASES = ['service', 'submission'] as const;
export type Grouping = (typeof GROUPINGS)[number];
export type Basis = (typeof BASES)[number];

export interface AgingOptions {
  /** Days since 1970-01-01 (UTC). */
  asOfDay: number;
  by: Grouping;
  basis: Basis;
}

/** Cents per bucket, and the split of their sum between payers and patients. */
export interface AgingAmounts {
  buckets: number[];
  total: number;
  payerBalance: number;
  patientBalance: number;
  claims: number;
}

export interface AgingGroup extends AgingAmounts {
  key: string;
}

export interface AgingTable {
  groups: AgingGroup[];
  total: AgingAmounts;
}

const GROUP_COLUMN: Record<Grouping, string> = { payer: 'payer', patient: 'patient', provider: 'provider', stage: 'stage' };
const DAY_COLUMN: Record<Basis, string> = { service: 'service_day', submission: 'submission_day' };

export function emptyAmounts(): AgingAmounts {
  return { buckets: BUCKETS.map(() => 0), total: 0, payerBalance: 0, patientBalance: 0, claims: 0 };
}

/** The bucket of an age in days: 0-30, 31-60, 61-90, 91-120, over 120 -> 0..4. */
export function bucketOf(ageDays: number): number {
  return ageDays <= 30 ? 0 : ageDays <= 60 ? 1 : ageDays <= 90 ? 2 : ageDays <= 120 ? 3 : 4;
}

export async function computeAging(db: Queryer, options: AgingOptions): Promise<AgingTable> {
  const group = raw(GROUP_COLUMN[options.by]);
  const day = raw(DAY_COLUMN[options.basis]);
  // Grouped by day, not bucket: the rows come out of the group's covering index in order (no sort), a few per group
  // and day; the buckets are added up here.
  const rows = await db.all<{ grp: string; day: number | string; claims: number | string; payer: number | string; patient: number | string }>(sql`
    SELECT ${group} AS grp, ${day} AS day, COUNT(*) AS claims, SUM(payer_balance) AS payer, SUM(patient_balance) AS patient
    FROM money_claim WHERE open = 1 AND ${day} <= ${options.asOfDay}
    GROUP BY ${group}, ${day}`);
  const groups = new Map<string, AgingGroup>();
  const total = emptyAmounts();
  for (const r of rows) {
    let g = groups.get(r.grp);
    if (!g) groups.set(r.grp, (g = { key: r.grp, ...emptyAmounts() }));
    const payer = Number(r.payer);
    const patient = Number(r.patient);
    const bucket = bucketOf(options.asOfDay - Number(r.day));
    for (const into of [g, total]) {
      into.buckets[bucket] += payer + patient;
      into.total += payer + patient;
      into.payerBalance += payer;
      into.patientBalance += patient;
      into.claims += Number(r.claims);
    }
  }
  return { groups: [...groups.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)), total };
}
