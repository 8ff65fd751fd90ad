/**
 * A patient statement's content (issue 21 §3), from an Invoice and the ledger: the clinic (the Invoice's issuer
 * Organization: name, address, phone) and patient, each service (date, code, billed, insurance paid, adjustments,
 * what the patient owes), the totals, what was paid since the Invoice was issued, what is due now and its aging
 * (what the patient still owes on each claim, by days since its date of service), and how to pay (the clinic's
 * payment-instructions extension, else its phone and address). HTML and PDF render this one shape.
 */
import type { Address, Invoice, Organization, Patient } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { STRIDE_EXTENSION } from '../billing/codes.js';
import { invoiceClaims } from './allocate.js';
import { componentCents, SERVICE_DATE_EXTENSION } from './invoice.js';
import { readClaimRow } from './ledger.js';
import { humanName } from './displays.js';
import { BUCKETS, bucketOf } from './aging.js';
import { toCents } from './postings.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export const PAYMENT_INSTRUCTIONS_EXTENSION = `${STRIDE_EXTENSION}payment-instructions`;

export interface StatementLine {
  date: string;
  code: string;
  description: string;
  billed: number;
  insurancePaid: number;
  adjustments: number;
  patientOwes: number;
}

export interface Statement {
  invoiceId: string;
  issued: string;
  status: string;
  period: string;
  clinic: { name: string; address: string; phone?: string };
  patient: { name: string; address: string };
  lines: StatementLine[];
  totals: Omit<StatementLine, 'date' | 'code' | 'description'>;
  /** totalNet when issued. */
  invoiced: number;
  /** Paid by the patient on the Invoice's claims since (invoiced - due). */
  paidSince: number;
  due: number;
  /** Due now, by BUCKETS of days since the date of service. */
  aging: number[];
  asOf: string;
  howToPay: string;
}

function addressText(a: Address | undefined): string {
  if (!a) return '';
  return [...(a.line ?? []), [a.city, a.state].filter(Boolean).join(', ') + (a.postalCode ? ` ${a.postalCode}` : '')].filter((s) => s.trim()).join(', ');
}

export async function buildStatement(repo: Repository, id: string, asOf: string): Promise<Statement> {
  const invoice = JSON.parse((await repo.read('Invoice', id)).json) as Invoice;
  const readRef = async <T>(ref: string | undefined): Promise<T | undefined> => {
    const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref ?? '');
    const stored = m ? await repo.readCurrent(m[1]!, m[2]!) : undefined;
    return stored && !stored.deleted ? (parseJsonKeepingDecimals(stored.json) as T) : undefined;
  };
  const org = await readRef<Organization>(invoice.issuer?.reference);
  const patient = await readRef<Patient>(invoice.subject?.reference);
  const phone = org?.telecom?.find((t) => t.system === 'phone')?.value;
  const clinic = { name: org?.name ?? 'the clinic', address: addressText(org?.address?.[0]), ...(phone ? { phone } : {}) };
  const lines: StatementLine[] = (invoice.lineItem ?? []).map((l) => {
    const coding = l.chargeItemCodeableConcept?.coding?.[0];
    const billed = componentCents(l, 'base');
    const insurancePaid = (l.priceComponent ?? []).filter((c) => c.type === 'deduction' && c.code?.coding?.some((x) => x.code === 'benefit')).reduce((t, c) => t + toCents(c.amount?.value), 0);
    const adjustments = componentCents(l, 'discount');
    return {
      date: l.extension?.find((e) => e.url === SERVICE_DATE_EXTENSION)?.valueDate ?? '',
      code: coding?.code ?? '',
      description: coding?.display ?? l.chargeItemCodeableConcept?.text ?? '',
      billed,
      insurancePaid,
      adjustments,
      patientOwes: billed - insurancePaid - adjustments,
    };
  });
  const totals = { billed: 0, insurancePaid: 0, adjustments: 0, patientOwes: 0 };
  for (const l of lines) for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += l[k];
  const aging = BUCKETS.map(() => 0);
  let due = 0;
  const today = Math.floor(Date.parse(`${asOf}T00:00:00Z`) / 86_400_000);
  for (const claimId of invoiceClaims(invoice)) {
    const row = await readClaimRow(repo.db, claimId);
    if (!row || row.patientBalance <= 0) continue;
    due += row.patientBalance;
    const age = today - row.serviceDay;
    aging[bucketOf(age)]! += row.patientBalance;
  }
  const invoiced = toCents(invoice.totalNet?.value);
  const period = invoice.extension?.find((e) => e.url.endsWith('/statement-period'))?.valuePeriod;
  const instructions = org?.extension?.find((e) => e.url === PAYMENT_INSTRUCTIONS_EXTENSION)?.valueString;
  return {
    invoiceId: id,
    issued: (invoice.date ?? '').slice(0, 10),
    status: invoice.status,
    period: period ? `${period.start ?? '...'} to ${period.end ?? '...'}` : '',
    clinic,
    patient: { name: humanName(patient?.name?.[0]) ?? invoice.subject?.reference ?? '', address: addressText(patient?.address?.[0]) },
    lines,
    totals,
    invoiced,
    paidSince: Math.max(0, invoiced - due),
    due,
    aging,
    asOf,
    howToPay:
      instructions ??
      `Pay by phone at ${clinic.phone ?? 'the clinic'}, or mail a check payable to ${clinic.name}${clinic.address ? ` at ${clinic.address}` : ''}. Please write the statement number ${id} on your check.`,
  };
}

export function usd(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}$${Math.floor(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
}
