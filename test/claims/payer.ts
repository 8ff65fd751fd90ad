/**
 * A simulated payer for the revenue-cycle tests (issue 21 "Show"): seeded and deterministic, it adjudicates Stride's
 * own 837P batches (read back by read-837p.ts) by a fee schedule into 835s (005010X221A1) that balance, with claims
 * paid (CO-45 down to the allowed amount, PR-2 coinsurance or PR-3 copay), paid into the deductible (PR-1), partly paid
 * (one line denied CO-97 or CO-151), denied (CO-50, CLP02 4), and later reversed (CLP02 22) and corrected. It also
 * returns lines as payers do: without their modifiers, split in units, or with a line of its own added.
 * The answer carries what it decided, per claim and line, in cents: the tests compare what Stride posted with it.
 * Reusable: adjudicate() decides, write835() writes, reverseAndCorrect() writes the correction file.
 */
import { loadFeeSchedule } from '../../src/billing/fee-schedule.js';
import { amount as x12Amount, pad, render, type Segment } from '../../src/billing/x12/format.js';
import { prng } from '../support/random.js';
import type { SentClaim, SentFile } from './read-837p.js';

export type Outcome = 'paid' | 'deductible' | 'partly-paid' | 'denied';
export type LineShape = 'as-billed' | 'no-modifiers' | 'split';

export interface Cas {
  group: 'CO' | 'PR' | 'OA' | 'PI';
  reason: string;
  amount: number;
}

export interface PaidLine {
  code: string;
  modifiers: string[];
  date: string;
  units: number;
  charge: number;
  paid: number;
  allowed: number;
  adjustments: Cas[];
  remarks: string[];
  /** The Claim item (1-based, the 837P line order) it pays; 0 for a line the payer added. */
  item: number;
}

export interface PaidClaim {
  controlNumber: string;
  /** CLP02: 1 processed as primary, 4 denied, 22 reversal. */
  status: string;
  outcome: Outcome;
  charge: number;
  paid: number;
  payerClaimNumber: string;
  memberId: string;
  lines: PaidLine[];
}

export interface PayerOptions {
  seed: number;
  payerName?: string;
  /** TRN03 (and the payer id of N1*PR04). */
  payerId?: string;
  trace?: string;
  /** ISA13 / GS06. */
  control?: number;
  /** YYYY-MM-DD: BPR16 and DTM*405. */
  date?: string;
  /** Share of each outcome (the rest is paid); per-claim overrides by control number. */
  denied?: number;
  partly?: number;
  deductible?: number;
  outcomes?: Record<string, Outcome>;
  shapes?: Record<string, LineShape>;
  /** Control numbers of claims whose remittance gets a line the payer added. */
  addedLine?: string[];
  /** Coinsurance share of the allowed amount (PR-2), or a copay in cents (PR-3) instead. */
  coinsurance?: number;
  copay?: number;
}

const cents = (v: number) => Math.round(v * 100);
const ALLOWED = new Map(loadFeeSchedule().fees.map((f) => [f.code, cents(f.expectedAllowed)]));

/** The payer's decisions for the claims of one or more 837P files. */
export function adjudicate(files: readonly SentFile[], options: PayerOptions): PaidClaim[] {
  const random = prng(options.seed);
  const out: PaidClaim[] = [];
  let n = 0;
  for (const file of files) {
    for (const claim of file.claims) {
      const roll = random();
      const outcome: Outcome =
        options.outcomes?.[claim.controlNumber] ??
        (roll < (options.denied ?? 0.1) ? 'denied' : roll < (options.denied ?? 0.1) + (options.partly ?? 0.15) ? 'partly-paid' : roll < (options.denied ?? 0.1) + (options.partly ?? 0.15) + (options.deductible ?? 0.1) ? 'deductible' : 'paid');
      out.push(adjudicateClaim(claim, outcome, options, random, `${options.seed}${String(++n).padStart(6, '0')}`));
    }
  }
  return out;
}

function adjudicateClaim(claim: SentClaim, outcome: Outcome, options: PayerOptions, random: () => number, payerClaimNumber: string): PaidClaim {
  const deniedLine = outcome === 'partly-paid' ? Math.floor(random() * claim.lines.length) : -1;
  const denyReason = random() < 0.5 ? '97' : '151';
  let deductibleLeft = outcome === 'deductible' ? cents(20 + Math.floor(random() * 80)) : 0;
  const shape = options.shapes?.[claim.controlNumber] ?? 'as-billed';
  const lines: PaidLine[] = [];
  claim.lines.forEach((l, i) => {
    const charge = cents(l.charge);
    const base = { code: l.code, modifiers: shape === 'no-modifiers' ? [] : [...l.modifiers], date: l.date, units: l.units, charge, remarks: [] as string[], item: i + 1 };
    if (outcome === 'denied' || i === deniedLine) {
      const reason = outcome === 'denied' ? '50' : denyReason;
      lines.push({ ...base, paid: 0, allowed: 0, adjustments: [{ group: 'CO', reason, amount: charge }], remarks: reason === '151' ? ['M86'] : reason === '50' ? ['N130'] : [] });
      return;
    }
    const perUnit = ALLOWED.get(l.code) ?? Math.round(charge / l.units / 2);
    const allowed = Math.min(charge, perUnit * l.units);
    const adjustments: Cas[] = [];
    if (charge > allowed) adjustments.push({ group: 'CO', reason: '45', amount: charge - allowed });
    let patient = 0;
    if (deductibleLeft > 0) {
      const d = Math.min(deductibleLeft, allowed);
      deductibleLeft -= d;
      patient += d;
      adjustments.push({ group: 'PR', reason: '1', amount: d });
    }
    const rest = allowed - patient;
    const share = options.copay !== undefined ? Math.min(options.copay, rest) : Math.round(rest * (options.coinsurance ?? 0.2));
    if (share > 0) adjustments.push({ group: 'PR', reason: options.copay !== undefined ? '3' : '2', amount: share });
    lines.push({ ...base, paid: rest - share, allowed, adjustments });
  });
  const split = shape === 'split' ? lines.flatMap((l) => splitLine(l)) : lines;
  if (options.addedLine?.includes(claim.controlNumber)) split.push({ code: '99070', modifiers: [], date: claim.lines[0]!.date, units: 1, charge: 0, paid: 0, allowed: 0, adjustments: [], remarks: [], item: 0 });
  const paid = split.reduce((s, l) => s + l.paid, 0);
  return { controlNumber: claim.controlNumber, status: outcome === 'denied' ? '4' : '1', outcome, charge: cents(claim.total), paid, payerClaimNumber, memberId: claim.memberId, lines: split };
}

/** A line of several units returned as one line a unit (amounts shared, the last takes the remainder). */
function splitLine(l: PaidLine): PaidLine[] {
  if (l.units < 2) return [l];
  const share = (total: number, k: number) => (k < l.units - 1 ? Math.floor(total / l.units) : total - Math.floor(total / l.units) * (l.units - 1));
  return Array.from({ length: l.units }, (_, k) => ({
    ...l,
    units: 1,
    charge: share(l.charge, k),
    paid: share(l.paid, k),
    allowed: share(l.allowed, k),
    adjustments: l.adjustments.map((a) => ({ ...a, amount: share(a.amount, k) })),
  })).map((x) => ({ ...x, paid: x.charge - x.adjustments.reduce((s, a) => s + a.amount, 0) }));
}

/** A reversal (CLP02 22, every amount negated) of each claim given, and its corrected payment: `change` cents more paid. */
export function reverseAndCorrect(claims: readonly PaidClaim[], change: number): PaidClaim[] {
  const out: PaidClaim[] = [];
  for (const c of claims) {
    const negate = (l: PaidLine): PaidLine => ({ ...l, charge: -l.charge, paid: -l.paid, allowed: -l.allowed, adjustments: l.adjustments.map((a) => ({ ...a, amount: -a.amount })) });
    out.push({ ...c, status: '22', charge: -c.charge, paid: -c.paid, lines: c.lines.map(negate) });
    // The correction pays `change` more on the first line paid, out of its contractual adjustment.
    let moved = false;
    const lines = c.lines.map((l) => {
      const co = l.adjustments.find((a) => a.group === 'CO' && a.reason === '45');
      if (moved || !co || co.amount < change) return l;
      moved = true;
      return { ...l, paid: l.paid + change, allowed: l.allowed + change, adjustments: l.adjustments.map((a) => (a === co ? { ...a, amount: a.amount - change } : a)) };
    });
    out.push({ ...c, status: '1', outcome: c.outcome === 'denied' ? 'denied' : c.outcome, paid: lines.reduce((s, l) => s + l.paid, 0), lines });
  }
  return out;
}

const money = (c: number) => x12Amount(c / 100);
const d8 = (date: string) => date.replaceAll('-', '');

/** The 835 of these claim payments: one payment (BPR/TRN), envelopes whose counts and control numbers agree. */
export function write835(claims: readonly PaidClaim[], options: PayerOptions): string {
  const date = options.date ?? '2026-12-01';
  const control = options.control ?? 7001;
  const total = claims.reduce((s, c) => s + c.paid, 0);
  const payerId = options.payerId ?? 'SIMPAYER01';
  const body: Segment[] = [
    ['BPR', total === 0 ? 'H' : 'I', money(Math.abs(total)), total < 0 ? 'D' : 'C', total === 0 ? 'NON' : 'CHK', '', '', '', '', '', '', '', '', '', '', '', d8(date)],
    ['TRN', '1', options.trace ?? `SIM${options.seed}`, payerId],
    ['DTM', '405', d8(date)],
    ['N1', 'PR', options.payerName ?? 'SIMULATED PAYER', 'XV', payerId],
    ['N3', '1 PAYER WAY'],
    ['N4', 'SPRINGFIELD', 'IL', '62701'],
    ['N1', 'PE', 'STRIDE CLINIC', 'XX', '1234567893'],
    ['LX', '1'],
  ];
  for (const c of claims) {
    const patient = c.lines.flatMap((l) => l.adjustments).filter((a) => a.group === 'PR').reduce((s, a) => s + a.amount, 0);
    body.push(['CLP', c.controlNumber, c.status, money(c.charge), money(c.paid), patient ? money(patient) : '', '12', c.payerClaimNumber]);
    body.push(['NM1', 'QC', '1', 'PATIENT', 'SIM', '', '', '', 'MI', c.memberId || 'M0']);
    body.push(['DTM', '232', d8(c.lines[0]?.date ?? date)]);
    for (const l of c.lines) {
      body.push(['SVC', ['HC', l.code, ...l.modifiers].join(':'), money(l.charge), money(l.paid), '', String(l.units)]);
      body.push(['DTM', '472', d8(l.date)]);
      for (const group of ['CO', 'PR', 'OA', 'PI'] as const) {
        const of = l.adjustments.filter((a) => a.group === group);
        if (of.length) body.push(['CAS', group, ...of.flatMap((a) => [a.reason, money(a.amount), ''])]);
      }
      if (l.charge !== 0) body.push(['AMT', 'B6', money(l.allowed)]);
      for (const r of l.remarks) body.push(['LQ', 'HE', r]);
    }
  }
  return envelope(body, control);
}

function envelope(body: Segment[], control: number): string {
  const isa = ['ISA', '00', pad('', 10), '00', pad('', 10), 'ZZ', pad('SIMPAYER', 15), 'ZZ', pad('STRIDE', 15), '261201', '0900', '^', '00501', String(control).padStart(9, '0'), '0', 'T', ':'];
  const set: Segment[] = [['ST', '835', '0001'], ...body];
  set.push(['SE', String(set.length + 1), '0001']);
  const all: Segment[] = [['GS', 'HP', 'SIMPAYER', 'STRIDE', '20261201', '0900', String(control), 'X', '005010X221A1'], ...set, ['GE', '1', String(control)], ['IEA', '1', String(control).padStart(9, '0')]];
  return `${isa.join('*')}~\n${all.map((s) => render(s.map((e) => e))).join('\n')}\n`;
}

/** Adjudicates the files and writes the 835: the generator the round-trip and reconciliation tests use. */
export function simulatePayer(files: readonly SentFile[], options: PayerOptions): { x12: string; claims: PaidClaim[] } {
  const claims = adjudicate(files, options);
  return { x12: write835(claims, options), claims };
}
