/**
 * Generated claims and remittances for the money tests and the $aging bench (seeded, deterministic): patients with a
 * payer's Coverage or a self-pay one, active Claims of 1-3 therapy lines on dates over ~8 months, and for most insured
 * claims a remittance ClaimResponse as the contract of issue 21 says (paid, partly paid with PR deductible, copay or
 * coinsurance, denied CO-50 / CO-97, a reversal (cancelled) followed by a correction); some claims stay unanswered.
 * Beside the resources, what each claim should post, computed here independently of src/money/.
 */
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, Coverage, Organization, Patient, PaymentReconciliation, Resource } from '@medplum/fhirtypes';
import { prng } from '../support/random.js';

export const ADJUSTMENT_GROUP = 'http://stride-fhir.org/fhir/CodeSystem/adjustment-group';
const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';
const CARC = 'https://x12.org/codes/claim-adjustment-reason-codes';
const CPT = 'http://www.ama-assn.org/go/cpt';
const CODES = [['97116', 3400], ['97110', 3100], ['97140', 2900], ['97530', 3800]] as const;

export interface Expected {
  claimId: string;
  patient: string;
  payer: string;
  provider: string;
  serviceDate: string;
  billed: number;
  paid: number;
  payerAdjustments: number;
  patientResponsibility: number;
}

export interface Generated {
  shared: Resource[];
  claims: Claim[];
  responses: ClaimResponse[];
  expected: Map<string, Expected>;
  patients: string[];
}

export interface GenerateOptions {
  claims: number;
  patients: number;
  seed?: number;
  /** Prefix of every id, so that several sets can live in one database. */
  prefix?: string;
  /** Dates of service are spread over this many days before 2026-12-01. */
  days?: number;
  /** Prefix of the payers' and clinics' ids (default: prefix), so that several sets share them. */
  sharedPrefix?: string;
  /** Each Claim records a sending (claim-submission extension) two days after its date of service. */
  submitted?: boolean;
}

const money = (cents: number) => ({ value: cents / 100, currency: 'USD' as const });
const adj = (code: string, cents: number): ClaimResponseItemAdjudication => ({ category: { coding: [{ system: ADJUDICATION, code }] }, amount: money(cents) });
const cas = (group: string, reason: string, cents: number): ClaimResponseItemAdjudication => ({
  category: { coding: [{ system: ADJUSTMENT_GROUP, code: group }] },
  reason: { coding: [{ system: CARC, code: reason }] },
  amount: money(cents),
});

export function generate(options: GenerateOptions): Generated {
  const rand = prng(options.seed ?? 2121);
  const p = options.prefix ?? 'g';
  const sp = options.sharedPrefix ?? p;
  const int = (n: number) => Math.floor(rand() * n);
  const shared: Resource[] = [];
  const payers = ['Lakeside Health Plan', 'Prairie Medicaid', 'Medicare Part B'].map((name, i): Organization => ({ resourceType: 'Organization', id: `${sp}payer${i}`, name, type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay' }] }] }));
  const clinics = ['Northside Rehabilitation', 'Eastside Rehabilitation'].map((name, i): Organization => ({ resourceType: 'Organization', id: `${sp}clinic${i}`, name, type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] }] }));
  shared.push(...payers, ...clinics);
  const coverageOf: Array<{ coverage: string; payer?: string; clinic: string }> = [];
  for (let i = 0; i < options.patients; i++) {
    const patient: Patient = { resourceType: 'Patient', id: `${p}pat${i}`, name: [{ family: `Family${i}`, given: ['Pat'] }] };
    const selfPay = i % 7 === 3;
    const payer = payers[i % payers.length]!;
    const coverage: Coverage = {
      resourceType: 'Coverage',
      id: `${p}cov${i}`,
      status: 'active',
      beneficiary: { reference: `Patient/${patient.id}` },
      payor: [{ reference: selfPay ? `Patient/${patient.id}` : `Organization/${payer.id}` }],
      ...(selfPay ? { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-selfpay', code: 'pay' }] } } : {}),
    };
    shared.push(patient, coverage);
    coverageOf.push({ coverage: coverage.id!, payer: selfPay ? undefined : payer.id, clinic: clinics[i % clinics.length]!.id! });
  }
  const claims: Claim[] = [];
  const responses: ClaimResponse[] = [];
  const expected = new Map<string, Expected>();
  const end = Date.parse('2026-12-01T00:00:00Z');
  for (let c = 0; c < options.claims; c++) {
    const pi = int(options.patients);
    const cov = coverageOf[pi]!;
    const date = new Date(end - int(options.days ?? 240) * 86_400_000).toISOString().slice(0, 10);
    const lines = Array.from({ length: 1 + int(3) }, (_, k) => {
      const [code, price] = CODES[(c + k) % CODES.length]!;
      const units = 1 + int(3);
      return { code, units, net: price * units };
    });
    const billed = lines.reduce((s, l) => s + l.net, 0);
    const id = `${p}c${c}`;
    const claim: Claim = {
      resourceType: 'Claim',
      id,
      identifier: [{ system: 'http://stride-fhir.org/fhir/sid/billing-key', value: id }],
      status: 'active',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
      use: 'claim',
      patient: { reference: `Patient/${p}pat${pi}` },
      billablePeriod: { start: date, end: date },
      created: date,
      ...(cov.payer ? { insurer: { reference: `Organization/${cov.payer}` } } : {}),
      provider: { reference: `Organization/${cov.clinic}` },
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
      insurance: [{ sequence: 1, focal: true, coverage: { reference: `Coverage/${cov.coverage}` } }],
      item: lines.map((l, k) => ({ sequence: k + 1, productOrService: { coding: [{ system: CPT, code: l.code }] }, servicedDate: date, quantity: { value: l.units }, net: money(l.net) })),
      total: money(billed),
      ...(options.submitted ? { extension: [submission(date)] } : {}),
    };
    claims.push(claim);
    const e: Expected = { claimId: id, patient: `Patient/${p}pat${pi}`, payer: cov.payer ? `Organization/${cov.payer}` : 'self-pay', provider: `Organization/${cov.clinic}`, serviceDate: date, billed, paid: 0, payerAdjustments: 0, patientResponsibility: cov.payer ? 0 : billed };
    expected.set(id, e);
    if (!cov.payer || rand() < 0.15) continue;
    const kind = rand();
    const remit = (suffix: string, status: 'active' | 'cancelled', factor: number): ClaimResponse => {
      let paid = 0;
      let payerAdj = 0;
      let pr = 0;
      const items = lines.map((l, k) => {
        const out: ClaimResponseItemAdjudication[] = [adj('submitted', l.net)];
        if (kind < 0.12) {
          out.push(cas('CO', k % 2 ? '97' : '50', l.net));
          payerAdj += l.net;
          return { itemSequence: k + 1, adjudication: [...out, adj('benefit', 0)] };
        }
        const allowed = Math.round(l.net * factor);
        const deductible = kind < 0.4 ? Math.min(allowed, 500 + int(2000)) : 0;
        const coins = Math.round((allowed - deductible) * 0.2);
        const benefit = allowed - deductible - coins;
        out.push(adj('eligible', allowed), cas('CO', '45', l.net - allowed));
        if (deductible) out.push(adj('deductible', deductible), cas('PR', '1', deductible));
        if (coins) out.push(cas('PR', kind < 0.7 ? '2' : '3', coins));
        if (kind >= 0.7 && coins) out.push(adj('copay', coins));
        out.push(adj('benefit', benefit));
        paid += benefit;
        payerAdj += l.net - allowed;
        pr += deductible + coins;
        return { itemSequence: k + 1, adjudication: out };
      });
      if (status === 'active') {
        e.paid += paid;
        e.payerAdjustments += payerAdj;
        e.patientResponsibility += pr;
      }
      return {
        resourceType: 'ClaimResponse',
        id: `${id}${suffix}`,
        meta: { tag: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/remittance-source', code: 'manual' }] },
        identifier: [{ system: 'http://stride-fhir.org/fhir/sid/payer-claim-number', value: `PCN${c}${suffix}` }],
        status,
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
        use: 'claim',
        patient: claim.patient,
        created: `${new Date(Date.parse(date) + (20 + int(20)) * 86_400_000).toISOString().slice(0, 10)}T12:00:00Z`,
        insurer: { reference: `Organization/${cov.payer}` },
        request: { reference: `Claim/${id}` },
        outcome: 'complete',
        item: items,
        total: [{ category: { coding: [{ system: ADJUDICATION, code: 'submitted' }] }, amount: money(billed) }, { category: { coding: [{ system: ADJUDICATION, code: 'benefit' }] }, amount: money(paid) }],
        payment: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] }, amount: money(paid), date: date },
      };
    };
    // A reversed remittance (cancelled: it counts for nothing) then its correction, for one claim in ten.
    if (rand() < 0.1) responses.push(remit('r', 'cancelled', 0.9));
    responses.push(remit('', 'active', 0.6 + rand() * 0.35));
  }
  return { shared, claims, responses, expected, patients: Array.from({ length: options.patients }, (_, i) => `Patient/${p}pat${i}`) };
}

function submission(serviceDate: string) {
  const sent = new Date(Date.parse(`${serviceDate}T00:00:00Z`) + 2 * 86_400_000).toISOString();
  return {
    url: 'http://stride-fhir.org/fhir/StructureDefinition/claim-submission',
    extension: [
      { url: 'batch', valueReference: { reference: 'DocumentReference/bench-batch' } },
      { url: 'frequency', valueCode: '1' },
      { url: 'sent', valueDateTime: sent },
      { url: 'fingerprint', valueString: 'bench' },
    ],
  };
}

/** Transaction bundles of PUTs (client ids), `per` entries each. */
export function bundlesOf(resources: readonly Resource[], per = 100): object[] {
  const out: object[] = [];
  for (let i = 0; i < resources.length; i += per) {
    out.push({ resourceType: 'Bundle', type: 'transaction', entry: resources.slice(i, i + per).map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })) });
  }
  return out;
}

/** The bucket of an age in days (0-30, 31-60, 61-90, 91-120, over 120): 0..4. */
export function bucketOf(ageDays: number): number {
  return ageDays <= 30 ? 0 : ageDays <= 60 ? 1 : ageDays <= 90 ? 2 : ageDays <= 120 ? 3 : 4;
}

/** A patient's payment as a client posts it: the patient-payer extension, one detail paying a Claim or an Invoice. */
export function patientPayment(patient: string, target: string, amountCents: number, id?: string): PaymentReconciliation {
  return {
    resourceType: 'PaymentReconciliation',
    ...(id ? { id } : {}),
    extension: [{ url: 'http://stride-fhir.org/fhir/StructureDefinition/patient-payer', valueReference: { reference: patient } }],
    status: 'active',
    created: '2026-12-05T10:00:00Z',
    paymentDate: '2026-12-05',
    paymentAmount: { value: amountCents / 100, currency: 'USD' },
    detail: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/payment-type', code: 'payment' }] }, request: { reference: target }, amount: { value: amountCents / 100, currency: 'USD' } }],
  };
}
