/**
 * A patient's Invoice for a statement period (issue 21 §3): what her payers put on her (PR) and her self-pay claims,
 * one line per service (claim item) with the payer's adjudication shown as price components: base = billed,
 * deduction = insurance paid (benefit), discount = each payer adjustment (CO, OA, PI, with its CARC), informational =
 * each amount put on the patient (PR: deductible, coinsurance, copay ... with its CARC). totalGross is what was billed,
 * totalNet what the patient owes on those claims when it is issued (patient balance, from the ledger). A claim is on
 * one issued Invoice at most: a second run for the same period finds nothing new to bill.
 */
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, CodeableConcept, Invoice, InvoiceLineItem, InvoiceLineItemPriceComponent, Money } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { STRIDE_EXTENSION } from '../billing/codes.js';
import { readPatientRows, type ClaimRow } from './ledger.js';
import { INVOICE_CLAIM_EXTENSION, invoiceClaims } from './allocate.js';
import { adjustmentsOf, fromCents, groupOf, isRemittance, toCents } from './postings.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export const SERVICE_DATE_EXTENSION = `${STRIDE_EXTENSION}service-date`;
export const STATEMENT_PERIOD_EXTENSION = `${STRIDE_EXTENSION}statement-period`;
const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';
const MOST = 1000;

export interface InvoiceRequest {
  patientId: string;
  /** Dates of service in [start, end] (YYYY-MM-DD); start open when absent. */
  start?: string;
  end: string;
  /** When it is issued (instant). */
  date: string;
}

const usd = (cents: number): Money => ({ value: fromCents(cents), currency: 'USD' });
const category = (code: string, display: string): CodeableConcept => ({ coding: [{ system: ADJUDICATION, code, display }], text: display });

async function search<T>(repo: Repository, resourceType: string, params: Record<string, string[]>): Promise<T[]> {
  const found = await repo.search({ resourceType, params, count: MOST, offset: 0, total: 'none' });
  return found.rows.map((r) => parseJsonKeepingDecimals(r.content) as T);
}

/** The claims on the patient's issued or balanced Invoices. */
async function invoicedClaims(repo: Repository, patient: string): Promise<Set<string>> {
  const invoices = await search<Invoice>(repo, 'Invoice', { subject: [patient], status: ['issued,balanced'] });
  return new Set(invoices.flatMap(invoiceClaims));
}

/** The Invoice to issue, or undefined when the period has nothing the patient owes that is not invoiced yet. */
export async function buildInvoice(repo: Repository, request: InvoiceRequest): Promise<Invoice | undefined> {
  const patient = `Patient/${request.patientId}`;
  const done = await invoicedClaims(repo, patient);
  const rows = (await readPatientRows(repo.db, patient)).filter((r) => r.patientBalance > 0 && !done.has(r.claimId) && inPeriod(r, request));
  if (rows.length === 0) return undefined;
  const lineItem: InvoiceLineItem[] = [];
  let issuer: string | undefined;
  // What was billed for the services: each claim's charge (a secondary claim's ledger bills only what the primary
  // left, but its services were billed in full).
  let gross = 0;
  for (const row of rows) {
    const stored = await repo.read('Claim', row.claimId);
    const claim = parseJsonKeepingDecimals(stored.json) as Claim;
    issuer ??= claim.provider?.reference;
    gross += toCents(claim.total?.value);
    const responses = (await search<ClaimResponse>(repo, 'ClaimResponse', { request: [`Claim/${row.claimId}`] })).filter(isRemittance);
    lineItem.push(...claimLines(claim, row, responses, lineItem.length));
  }
  return {
    resourceType: 'Invoice',
    extension: [{ url: STATEMENT_PERIOD_EXTENSION, valuePeriod: { ...(request.start ? { start: request.start } : {}), end: request.end } }],
    status: 'issued',
    type: { text: 'Patient statement' },
    subject: { reference: patient },
    recipient: { reference: patient },
    date: request.date,
    ...(issuer ? { issuer: { reference: issuer } } : {}),
    lineItem,
    totalGross: usd(gross),
    totalNet: usd(rows.reduce((t, r) => t + r.patientBalance, 0)),
  };
}

function inPeriod(row: ClaimRow, request: InvoiceRequest): boolean {
  const day = new Date(row.serviceDay * 86_400_000).toISOString().slice(0, 10);
  return day <= request.end && (request.start === undefined || day >= request.start);
}

/** One line per claim item; claim-level adjustments and what the patient paid before go on the claim's last line. */
function claimLines(claim: Claim, row: ClaimRow, responses: readonly ClaimResponse[], before: number): InvoiceLineItem[] {
  const items = claim.item ?? [];
  return items.map((item, k) => {
    const last = k === items.length - 1;
    // The 835 lines that matched no single item (bundled, split or added by the payer: addItem) go on the last line.
    const added = last ? responses.flatMap((r) => (r.addItem ?? []).flatMap((i) => i.adjudication ?? [])) : [];
    const adjudications = [...responses.flatMap((r) => (r.item ?? []).filter((i) => i.itemSequence === item.sequence).flatMap((i) => i.adjudication ?? [])), ...added];
    const components: InvoiceLineItemPriceComponent[] = [{ type: 'base', code: category('submitted', 'Billed'), amount: item.net ?? usd(0) }];
    const benefit = adjudications.filter((a) => a.category?.coding?.some((c) => c.system === ADJUDICATION && c.code === 'benefit')).reduce((t, a) => t + toCents(a.amount?.value), 0);
    if (responses.length > 0) components.push({ type: 'deduction', code: category('benefit', 'Insurance paid'), amount: usd(benefit) });
    const cas = adjudications.filter((a) => groupOf(a) !== undefined);
    if (last) cas.push(...responses.flatMap((r) => (r.adjudication ?? []).filter((a) => groupOf(a) !== undefined)));
    components.push(...cas.map(casComponent));
    if (last && row.patientPaid > 0) components.push({ type: 'deduction', code: { text: 'Paid by you before this statement' }, amount: usd(row.patientPaid) });
    return {
      extension: [
        { url: INVOICE_CLAIM_EXTENSION, valueReference: { reference: `Claim/${claim.id}` } },
        ...(item.servicedDate ?? claim.billablePeriod?.start ? [{ url: SERVICE_DATE_EXTENSION, valueDate: (item.servicedDate ?? claim.billablePeriod?.start)!.slice(0, 10) }] : []),
      ],
      sequence: before + k + 1,
      chargeItemCodeableConcept: item.productOrService,
      priceComponent: components,
    };
  });
}

const GROUP_TEXT: Record<string, string> = { CO: 'Contractual obligation', OA: 'Other adjustment', PI: 'Payer initiated reduction', PR: 'Patient responsibility' };
/** CARCs a statement names in words (X12 Claim Adjustment Reason Codes, x12.org/codes/claim-adjustment-reason-codes). */
const CARC_TEXT: Record<string, string> = { '23': 'Paid or adjusted by your primary insurance', '1': 'Deductible', '2': 'Coinsurance', '3': 'Copay', '45': 'Charge exceeds the fee schedule', '50': 'Not medically necessary (payer)', '96': 'Non-covered charge', '97': 'Included in another service' };

function casComponent(a: ClaimResponseItemAdjudication): InvoiceLineItemPriceComponent {
  const group = groupOf(a)!;
  const reason = a.reason?.coding?.[0]?.code;
  const text = `${group}${reason ? `-${reason}` : ''} ${reason && CARC_TEXT[reason] ? CARC_TEXT[reason] : GROUP_TEXT[group] ?? group}`;
  return {
    type: group === 'PR' ? 'informational' : 'discount',
    code: { coding: [...(a.category?.coding ?? []), ...(a.reason?.coding ?? [])], text },
    amount: a.amount,
  };
}

/** Cents of a line's components of a type. */
export function componentCents(line: InvoiceLineItem, type: InvoiceLineItemPriceComponent['type']): number {
  return (line.priceComponent ?? []).filter((c) => c.type === type).reduce((t, c) => t + toCents(c.amount?.value), 0);
}
