/**
 * What an 835 health care claim payment/advice (005010X221A1) says, read from the segments node-x12 parsed strictly
 * (read.ts): per transaction set one payment (BPR, TRN, payer N1*PR, payee N1*PE), its claims (2100 CLP with the
 * claim-level CAS, MOA/MIA remarks, DTM*232/233), their service lines (2110 SVC with DTM*472/150/151, CAS, REF*6R,
 * AMT*B6, LQ*HE) and the provider-level adjustments (PLB). Amounts are integer cents; every item keeps the line of
 * its segment(s) in the file. Pure: src/claims/remit.ts posts it. Segment and element meanings: 005010X221A1 (the
 * ASC X12 835 implementation guide) as summarised by the CMS "835 Health Care Claim Payment/Advice" companion guide.
 */
import { element, type Segment, type Transaction } from './read.js';

/** CAS01 claim adjustment group codes: contractual, patient responsibility, other, payer initiated, correction. */
export const ADJUSTMENT_GROUPS = ['CO', 'PR', 'OA', 'PI', 'CR'] as const;
export type AdjustmentGroup = (typeof ADJUSTMENT_GROUPS)[number];

export interface Adjustment {
  readonly group: AdjustmentGroup;
  /** CARC (claim adjustment reason code). */
  readonly reason: string;
  /** Cents; negative gives money back. */
  readonly amount: number;
  readonly quantity?: number;
  readonly line: number;
}

export interface RemitLine {
  /** SVC01: the code the payer adjudicated (qualifier HC, code, modifiers). */
  readonly qualifier: string;
  readonly code: string;
  readonly modifiers: readonly string[];
  /** SVC06: the code billed, when the payer adjudicated another one (bundled, changed). */
  readonly billed?: { readonly code: string; readonly modifiers: readonly string[] };
  /** SVC02, SVC03 in cents. */
  readonly charge: number;
  readonly paid: number;
  /** SVC05 units paid (1 when absent); SVC07 the units billed when they differ. */
  readonly units: number;
  readonly billedUnits?: number;
  /** DTM*472 (or 150) and 151: the service date(s), YYYY-MM-DD. */
  readonly start?: string;
  readonly end?: string;
  /** REF*6R: the line item control number the provider sent. */
  readonly controlNumber?: string;
  /** AMT*B6: the allowed amount, in cents. */
  readonly allowed?: number;
  readonly adjustments: readonly Adjustment[];
  /** LQ*HE remittance advice remark codes (RARC). */
  readonly remarks: readonly string[];
  readonly firstLine: number;
  readonly lastLine: number;
}

/** CLP02 claim status codes (005010X221A1): 1 processed as primary ... 4 denied, 22 reversal of previous payment. */
export const CLAIM_STATUS: Readonly<Record<string, string>> = {
  '1': 'Processed as primary',
  '2': 'Processed as secondary',
  '3': 'Processed as tertiary',
  '4': 'Denied',
  '19': 'Processed as primary, forwarded to additional payer(s)',
  '20': 'Processed as secondary, forwarded to additional payer(s)',
  '21': 'Processed as tertiary, forwarded to additional payer(s)',
  '22': 'Reversal of previous payment',
  '23': 'Not our claim, forwarded to additional payer(s)',
  '25': 'Predetermination pricing only, no payment',
};

export interface RemitClaim {
  /** CLP01: the patient control number the provider sent (CLM01). */
  readonly controlNumber: string;
  /** CLP02 (CLAIM_STATUS). */
  readonly status: string;
  /** CLP03, CLP04, CLP05 in cents. */
  readonly charge: number;
  readonly paid: number;
  readonly patientResponsibility?: number;
  /** CLP07: the payer's claim control number. */
  readonly payerClaimNumber: string;
  readonly patient: { readonly family: string; readonly given: string; readonly id: string };
  /** DTM*232/233: the claim's statement period, YYYY-MM-DD. */
  readonly start?: string;
  readonly end?: string;
  /** Claim-level CAS (before any SVC). */
  readonly adjustments: readonly Adjustment[];
  /** MOA/MIA remark codes (RARC). */
  readonly remarks: readonly string[];
  readonly lines: readonly RemitLine[];
  readonly firstLine: number;
  readonly lastLine: number;
}

export interface ProviderAdjustment {
  /** PLB01 provider id, PLB03-1 reason (WO, L6, CV ...), PLB03-2 reference. */
  readonly provider: string;
  readonly reason: string;
  readonly reference: string;
  /** Cents: positive reduces the payment, negative adds to it. */
  readonly amount: number;
  readonly line: number;
}

export interface Remittance {
  /** ST02. */
  readonly control: string;
  /** BPR01 transaction handling code: C payment with remittance, I remittance only, H notification, P prenotification ... */
  readonly handling: string;
  /** BPR02 with BPR03 (C credit, D debit: negative) in cents. */
  readonly amount: number;
  /** BPR04 payment method: ACH, BOP, CHK, FWT, NON. */
  readonly method: string;
  /**
   * BPR16: the payment (or check issue) date, YYYY-MM-DD; when BPR16 is missing or not a date (two of the shared
   * samples: one puts it in BPR15, one writes 20002316), the production date DTM*405, with `dateNote` saying so.
   */
  readonly date: string;
  readonly dateNote?: string;
  /** TRN02: check or EFT trace number; TRN03: the payer's originating company identifier. */
  readonly trace: string;
  readonly originator: string;
  readonly payer: { readonly name: string; readonly id: string };
  readonly payee: { readonly name: string; readonly id: string; readonly qualifier: string };
  readonly claims: readonly RemitClaim[];
  readonly adjustments: readonly ProviderAdjustment[];
  readonly firstLine: number;
  readonly lastLine: number;
}

/** A remittance that cannot be read (an amount that is not a number, a missing BPR or TRN): nothing of it is posted. */
export class RemittanceError extends Error {}

/** An X12 decimal as integer cents; more than two decimals or not a number is refused. */
export function toCents(value: string, where: string): number {
  const m = /^(-)?(\d*)(?:\.(\d{0,2})0*)?$/.exec(value.trim());
  if (!m || (m[2] === '' && !m[3])) throw new RemittanceError(`${where}: "${value}" is not an amount of money`);
  const cents = Number(m[2] || '0') * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -cents : cents;
}

/** `20261110` -> `2026-11-10`. */
function isoDate(value: string, where: string): string {
  const date = validDate(value);
  if (!date) throw new RemittanceError(`${where}: "${value}" is not a date (CCYYMMDD)`);
  return date;
}

/** `20261110` -> `2026-11-10`; undefined when it is not a calendar date. */
export function validDate(value: string): string | undefined {
  if (!/^\d{8}$/.test(value)) return undefined;
  const iso = `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(iso) ? iso : undefined;
}

/**
 * The parts of a composite element. A file whose composites use another separator than its ISA16 (the
 * LinuxForHealth 835 samples write `HC>55669` with ISA16 `:`) is read by the character after the two-letter
 * product/service qualifier.
 */
export function splitComposite(value: string, separator: string): string[] {
  if (value.includes(separator)) return value.split(separator);
  const m = /^([A-Z0-9]{2})([^A-Za-z0-9 ])/.exec(value);
  return m ? value.split(m[2]!) : [value];
}

/** CAS: up to six reason/amount/quantity triples after the group (CAS02-04 ... CAS17-19). */
function readCas(s: Segment): Adjustment[] {
  const group = element(s, 1);
  if (!(ADJUSTMENT_GROUPS as readonly string[]).includes(group)) throw new RemittanceError(`line ${s.line}: CAS01 "${group}" is not an adjustment group (CO, PR, OA, PI, CR)`);
  const out: Adjustment[] = [];
  for (let n = 2; n <= 17; n += 3) {
    const reason = element(s, n);
    if (!reason) continue;
    const quantity = element(s, n + 2);
    out.push({ group: group as AdjustmentGroup, reason, amount: toCents(element(s, n + 1), `line ${s.line}: CAS${String(n + 1).padStart(2, '0')}`), ...(quantity ? { quantity: Number(quantity) } : {}), line: s.line });
  }
  return out;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface LineDraft extends Omit<Mutable<RemitLine>, 'adjustments' | 'remarks' | 'lastLine'> {
  adjustments: Adjustment[];
  remarks: string[];
  lastLine: number;
}

interface ClaimDraft extends Omit<Mutable<RemitClaim>, 'adjustments' | 'remarks' | 'lines' | 'lastLine' | 'start' | 'end'> {
  start?: string;
  end?: string;
  adjustments: Adjustment[];
  remarks: string[];
  lines: LineDraft[];
  lastLine: number;
}

function readSvc(s: Segment, separator: string): LineDraft {
  const [qualifier = '', code = '', ...modifiers] = splitComposite(element(s, 1), separator);
  const billed = element(s, 6) ? splitComposite(element(s, 6), separator) : undefined;
  const units = element(s, 5);
  const billedUnits = element(s, 7);
  return {
    qualifier,
    code,
    modifiers: modifiers.filter(Boolean),
    ...(billed ? { billed: { code: billed[1] ?? '', modifiers: billed.slice(2).filter(Boolean) } } : {}),
    charge: toCents(element(s, 2), `line ${s.line}: SVC02`),
    paid: toCents(element(s, 3), `line ${s.line}: SVC03`),
    units: units ? Number(units) : 1,
    ...(billedUnits ? { billedUnits: Number(billedUnits) } : {}),
    adjustments: [],
    remarks: [],
    firstLine: s.line,
    lastLine: s.line,
  };
}

function readClp(s: Segment): ClaimDraft {
  const responsibility = element(s, 5);
  return {
    controlNumber: element(s, 1),
    status: element(s, 2),
    charge: toCents(element(s, 3), `line ${s.line}: CLP03`),
    paid: toCents(element(s, 4), `line ${s.line}: CLP04`),
    ...(responsibility ? { patientResponsibility: toCents(responsibility, `line ${s.line}: CLP05`) } : {}),
    payerClaimNumber: element(s, 7),
    patient: { family: '', given: '', id: '' },
    adjustments: [],
    remarks: [],
    lines: [],
    firstLine: s.line,
    lastLine: s.line,
  };
}

/** One 835 transaction set: one payment. */
export function read835(tx: Transaction, componentSeparator: string): Remittance {
  const bpr = tx.segments.find((s) => s.tag === 'BPR');
  const trn = tx.segments.find((s) => s.tag === 'TRN');
  if (!bpr) throw new RemittanceError(`835 transaction set ${tx.control} has no BPR (financial information) segment`);
  if (!trn || !element(trn, 2)) throw new RemittanceError(`835 transaction set ${tx.control} has no TRN (reassociation trace number) segment`);
  const claims: ClaimDraft[] = [];
  const adjustments: ProviderAdjustment[] = [];
  const payer = { name: '', id: '' };
  const payee = { name: '', id: '', qualifier: '' };
  let party: 'PR' | 'PE' | '' = '';
  let claim: ClaimDraft | undefined;
  let line: LineDraft | undefined;
  for (const s of tx.segments) {
    if (claim) claim.lastLine = Math.max(claim.lastLine, s.line);
    if (line) line.lastLine = Math.max(line.lastLine, s.line);
    switch (s.tag) {
      case 'N1':
        party = element(s, 1) === 'PR' ? 'PR' : element(s, 1) === 'PE' ? 'PE' : '';
        if (party === 'PR') Object.assign(payer, { name: element(s, 2), id: element(s, 4) });
        if (party === 'PE') Object.assign(payee, { name: element(s, 2), qualifier: element(s, 3), id: element(s, 4) });
        break;
      case 'REF':
        if (!claim && party === 'PR' && element(s, 1) === '2U' && !payer.id) payer.id = element(s, 2);
        if (line && element(s, 1) === '6R') line.controlNumber = element(s, 2);
        break;
      case 'LX':
        claim = undefined;
        line = undefined;
        break;
      case 'CLP':
        claim = readClp(s);
        claims.push(claim);
        line = undefined;
        break;
      case 'NM1':
        if (claim && element(s, 1) === 'QC') claim.patient = { family: element(s, 3), given: element(s, 4), id: element(s, 9) };
        break;
      case 'MOA':
        if (claim) claim.remarks.push(...[3, 4, 5, 6, 7].map((n) => element(s, n)).filter(Boolean));
        break;
      case 'MIA':
        if (claim) claim.remarks.push(...[5, 20, 21, 22, 23].map((n) => element(s, n)).filter(Boolean));
        break;
      case 'DTM':
        readDtm(s, claim, line);
        break;
      case 'SVC':
        if (!claim) throw new RemittanceError(`line ${s.line}: an SVC segment outside a claim (CLP)`);
        line = readSvc(s, componentSeparator);
        claim.lines.push(line);
        break;
      case 'CAS':
        if (!claim) throw new RemittanceError(`line ${s.line}: a CAS segment outside a claim (CLP)`);
        (line ?? claim).adjustments.push(...readCas(s));
        break;
      case 'AMT':
        if (line && element(s, 1) === 'B6') line.allowed = toCents(element(s, 2), `line ${s.line}: AMT02`);
        break;
      case 'LQ':
        if (line && element(s, 1) === 'HE') line.remarks.push(element(s, 2));
        break;
      case 'PLB':
        claim = undefined;
        line = undefined;
        adjustments.push(...readPlb(s, componentSeparator));
        break;
    }
  }
  const method = element(bpr, 4);
  const bpr16 = validDate(element(bpr, 16));
  const production = tx.segments.find((s) => s.tag === 'DTM' && element(s, 1) === '405');
  const date = bpr16 ?? validDate(element(production, 2)) ?? '';
  const dateNote = bpr16 ? undefined : `BPR16 "${element(bpr, 16)}" (line ${bpr.line}) is not a date: the payment date is taken from ${date ? `the production date DTM*405 (${date})` : 'nowhere (none given)'}`;
  const amount = toCents(element(bpr, 2), `line ${bpr.line}: BPR02`);
  return {
    control: tx.control,
    handling: element(bpr, 1),
    amount: element(bpr, 3) === 'D' ? -amount : amount,
    method,
    date,
    ...(dateNote ? { dateNote } : {}),
    trace: element(trn, 2),
    originator: element(trn, 3),
    payer,
    payee,
    claims,
    adjustments,
    firstLine: tx.segments[0]?.line ?? 0,
    lastLine: tx.segments.at(-1)?.line ?? 0,
  };
}

function readDtm(s: Segment, claim: ClaimDraft | undefined, line: LineDraft | undefined): void {
  const qualifier = element(s, 1);
  const value = element(s, 2);
  if (!value) return;
  if (line) {
    if (qualifier === '472' || qualifier === '150') line.start = isoDate(value, `line ${s.line}: DTM02`);
    if (qualifier === '472' || qualifier === '151') line.end = isoDate(value, `line ${s.line}: DTM02`);
  } else if (claim) {
    if (qualifier === '232') claim.start = isoDate(value, `line ${s.line}: DTM02`);
    if (qualifier === '233') claim.end = isoDate(value, `line ${s.line}: DTM02`);
  }
}

/** PLB: up to six adjustment reason (composite reason:reference) and amount pairs after PLB01/PLB02. */
function readPlb(s: Segment, separator: string): ProviderAdjustment[] {
  const out: ProviderAdjustment[] = [];
  for (let n = 3; n <= 13; n += 2) {
    const composite = element(s, n);
    if (!composite) continue;
    const [reason = '', reference = ''] = splitComposite(composite, separator);
    out.push({ provider: element(s, 1), reason, reference, amount: toCents(element(s, n + 1), `line ${s.line}: PLB${String(n + 1).padStart(2, '0')}`), line: s.line });
  }
  return out;
}
