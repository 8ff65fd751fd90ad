/**
 * Claims -> ASC X12 837 Professional, version 005010X222A1 (DOMAIN-97116 §D; issue 20): one interchange to one
 * receiver, one functional group, one transaction set per billing provider (split at 5,000 claims, the implementation
 * guide's recommended limit), the HL hierarchy 2000A billing provider -> 2000B subscriber -> 2000C patient (when the
 * patient is not the subscriber) -> 2300 claims -> 2400 lines. Loops: header (BHT), 1000A submitter, 1000B receiver,
 * 2010AA billing provider, 2010BA subscriber, 2010BB payer, 2010CA patient, 2300 claim (CLM, REF*F8, HI), 2310B
 * rendering provider, 2400 lines (LX, SV1, DTP*472). Pure: other resources come through `resolve`. Written by hand:
 * node-x12 models segments, not the 837P's loops, so the loops are this mapping; node-x12 parses every file written
 * (strict mode) before it is stored ($submit) and in the tests.
 */
import type { Address, Claim, Coverage, Organization, Patient, Practitioner, RelatedPerson } from '@medplum/fhirtypes';
import { SYSTEMS, codingIn } from '../codes.js';
import { resolveAs, type ResourceLookup } from '../session.js';
import type { Frequency } from '../stage.js';
import { x12ClaimLoop } from './claim-loop.js';
import { control, d8, digits, hhmm, pad, person, render, text, type Segment } from './format.js';

export interface X12Parties {
  /** Submitter id: ISA06, GS02, 1000A NM109 (assigned by the clearinghouse). */
  readonly senderId: string;
  /** Receiver id: ISA08, GS03, 1000B NM109. */
  readonly receiverId: string;
  readonly receiverName: string;
  readonly submitter: { readonly name: string; readonly contactName: string; readonly phone: string };
  /** When the file is made, as a local date-time `YYYY-MM-DDTHH:MM` (ISA09/10, GS04/05, BHT04/05). */
  readonly createdAt: string;
  /** ISA15: T test, P production. */
  readonly usage?: 'T' | 'P';
}

export interface X12Envelope extends X12Parties {
  /** ISA13 and GS06; ST02 uses it too (one transaction per interchange). */
  readonly controlNumber: number;
}

export interface BatchControlNumbers {
  /** ISA13 (9 digits). */
  readonly interchange: number;
  /** GS06. */
  readonly group: number;
  /** ST02 of each transaction set, in order; as many as batchTransactions() says. */
  readonly transactions: readonly number[];
}

/** A claim to send, and how (CLM05-3; REF*F8 with the payer's claim number for a replacement or void). */
export interface BatchClaim {
  readonly claim: Claim;
  readonly frequency: Frequency;
  readonly payerClaimNumber?: string;
}

export class X12Error extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`cannot write an 837P: ${missing.join('; ')}`);
  }
}

const VERSION = '005010X222A1';
/** 005010X222A1 §1.4.3: trading partners should keep a transaction set (ST-SE) to 5,000 CLM segments at most. */
export const CLAIMS_PER_TRANSACTION = 5000;

/** Source of Payment Typology -> claim filing indicator (SBR09): Medicare Part B, Medicaid, commercial, BCBS. */
const FILING_INDICATOR: Readonly<Record<string, string>> = { '1': 'MB', '2': 'MC', '5': 'CI', '6': 'BL' };

/** Coverage.relationship -> PAT01 individual relationship code (spouse 01, child 19, other G8). */
const RELATIONSHIP: Readonly<Record<string, string>> = { spouse: '01', child: '19' };

/** One claim as an 837P interchange of its own (control numbers all `envelope.controlNumber`). */
export function claimToX12837P(claim: Claim, resolve: ResourceLookup, envelope: X12Envelope): string {
  const n = envelope.controlNumber;
  return batchToX12837P([{ claim, frequency: '1' }], resolve, envelope, { interchange: n, group: n, transactions: [n] }, claim.id ?? String(n));
}

/** The claims of one batch per transaction set: by billing provider, at most CLAIMS_PER_TRANSACTION each. */
export function batchTransactions(claims: readonly BatchClaim[]): BatchClaim[][] {
  const byProvider = new Map<string, BatchClaim[]>();
  for (const c of claims) {
    const key = c.claim.provider?.reference ?? '';
    byProvider.set(key, [...(byProvider.get(key) ?? []), c]);
  }
  const out: BatchClaim[][] = [];
  for (const list of byProvider.values()) for (let i = 0; i < list.length; i += CLAIMS_PER_TRANSACTION) out.push(list.slice(i, i + CLAIMS_PER_TRANSACTION));
  return out;
}

/**
 * The claims (all to this receiver) as one interchange. Every gap in the data is collected and the file refused
 * (X12Error naming each), never written with a hole. `reference` is BHT03 (the batch's id).
 */
export function batchToX12837P(claims: readonly BatchClaim[], resolve: ResourceLookup, parties: X12Parties, numbers: BatchControlNumbers, reference: string): string {
  const transactions = batchTransactions(claims);
  if (transactions.length !== numbers.transactions.length) throw new RangeError(`${transactions.length} transaction sets need as many ST02 control numbers, got ${numbers.transactions.length}`);
  const missing: string[] = [];
  const sets = transactions.map((list, i) => transactionSet(list, resolve, parties, numbers.transactions[i]!, reference, missing));
  if (missing.length > 0) throw new X12Error([...new Set(missing)]);
  return envelopeAround(sets, parties, numbers);
}

/** One ST-SE set: the header loops, then one 2000A billing provider and its subscribers, patients and claims. */
function transactionSet(claims: readonly BatchClaim[], resolve: ResourceLookup, parties: X12Parties, st: number, reference: string, missing: string[]): Segment[] {
  // ST02: 4 to 9 characters; unique for ever, from the database counter ($submit).
  if (!Number.isInteger(st) || st < 1 || st > 999_999_999) throw new RangeError(`ST02 control number ${st} does not fit 9 digits`);
  const stControl = String(st).padStart(4, '0');
  const provider = resolveAs<Organization | Practitioner>(resolve, claims[0]?.claim.provider?.reference, 'Organization', 'Practitioner');
  if (!provider) missing.push('the billing provider');
  const body: Segment[] = [
    ['BHT', '0019', '00', text(reference, 50), d8(parties.createdAt), hhmm(parties.createdAt), 'CH'],
    ['NM1', '41', '2', text(parties.submitter.name), '', '', '', '', '46', text(parties.senderId, 80)],
    ['PER', 'IC', text(parties.submitter.contactName), 'TE', digits(parties.submitter.phone)],
    ['NM1', '40', '2', text(parties.receiverName), '', '', '', '', '46', text(parties.receiverId, 80)],
    ['HL', '1', '', '20', '1'],
    ...(provider ? billingProvider(provider, missing) : []),
  ];
  let hl = 1;
  // 2000B per subscriber (the Coverage), 2000C per patient under it when the patient is not the subscriber.
  // One 2000B per coverage and responsibility: a coverage billed as primary on one date and secondary on another is two.
  for (const [, list] of groupBy(claims, (c) => `${focalCoverage(c.claim) ?? ''}|${responsibility(c.claim)}`)) {
    const subscriberHl = ++hl;
    const first = list[0]!.claim;
    const parties2 = subscriberParties(first, resolve, missing);
    if (!parties2) continue;
    const { coverage, patient, payer, self, subscriber } = parties2;
    body.push(
      ['HL', String(subscriberHl), '1', '22', self ? '0' : '1'],
      ['SBR', responsibility(first), self ? '18' : '', text(coverage.class?.find((c) => c.type?.coding?.some((t) => t.code === 'group'))?.value, 50), '', '', '', '', '', filingIndicator(coverage)],
      [...person('IL', subscriber), 'MI', text(need(coverage.subscriberId ?? coverage.identifier?.[0]?.value, 'the member id (Coverage.subscriberId)', missing), 80)],
      ...(self ? [...addressSegments(patient.address?.[0], missing, 'the patient address'), demographics(patient, missing)] : []),
      ['NM1', 'PR', '2', text(payer.name), '', '', '', '', 'PI', text(need(payer.identifier?.find((i) => i.system === SYSTEMS.payerId)?.value ?? payer.identifier?.[0]?.value, 'the payer id', missing), 80)],
    );
    if (self) {
      for (const c of list) body.push(...x12ClaimLoop(c.claim, { resolve, missing, frequency: c.frequency, payerClaimNumber: c.payerClaimNumber }));
      continue;
    }
    for (const [, ofPatient] of groupBy(list, (c) => c.claim.patient?.reference ?? '')) {
      const who = resolveAs<Patient>(resolve, ofPatient[0]!.claim.patient?.reference, 'Patient');
      if (!who) {
        missing.push('the patient');
        continue;
      }
      body.push(...patientLoop(++hl, subscriberHl, coverage, who, missing));
      for (const c of ofPatient) body.push(...x12ClaimLoop(c.claim, { resolve, missing, frequency: c.frequency, payerClaimNumber: c.payerClaimNumber }));
    }
  }
  const transaction: Segment[] = [['ST', '837', stControl, VERSION], ...body];
  transaction.push(['SE', String(transaction.length + 1), stControl]);
  return transaction;
}

interface SubscriberParties {
  coverage: Coverage;
  patient: Patient;
  payer: Organization;
  self: boolean;
  subscriber: Patient | RelatedPerson;
}

function subscriberParties(claim: Claim, resolve: ResourceLookup, missing: string[]): SubscriberParties | null {
  const coverage = resolveAs<Coverage>(resolve, focalCoverage(claim), 'Coverage');
  const patient = resolveAs<Patient>(resolve, claim.patient?.reference, 'Patient');
  const payer = resolveAs<Organization>(resolve, coverage?.payor?.[0]?.reference, 'Organization');
  const self = !coverage?.relationship?.coding?.some((c) => c.code && c.code !== 'self');
  const subscriber = self ? patient : resolveAs<Patient | RelatedPerson>(resolve, coverage?.subscriber?.reference, 'Patient', 'RelatedPerson');
  const gaps = [[coverage, 'the focal Coverage'], [patient, 'the patient'], [payer, 'the payer Organization'], [subscriber, 'the subscriber (Coverage.subscriber)']] as const;
  for (const [value, what] of gaps) if (!value) missing.push(what);
  return coverage && patient && payer && subscriber ? { coverage, patient, payer, self, subscriber } : null;
}

/**
 * SBR01, the payer responsibility sequence of the payer the claim goes to: P primary, S secondary, T tertiary, by the
 * focal insurance's place in Claim.insurance (by sequence). A secondary claim (src/billing/secondary.ts) is S.
 */
function responsibility(claim: Claim): string {
  const sorted = [...(claim.insurance ?? [])].sort((a, b) => a.sequence - b.sequence);
  const index = Math.max(0, sorted.findIndex((i) => i.focal));
  return ['P', 'S', 'T'][index] ?? 'T';
}

function focalCoverage(claim: Claim): string | undefined {
  return (claim.insurance?.find((i) => i.focal) ?? claim.insurance?.[0])?.coverage?.reference;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function need<T>(value: T | null | undefined, what: string, missing: string[]): T {
  if (value === null || value === undefined || value === '') missing.push(what);
  return value as T;
}

function envelopeAround(sets: readonly Segment[][], env: X12Parties, numbers: BatchControlNumbers): string {
  const isaControl = control(numbers.interchange, 9);
  const group = String(numbers.group);
  const date = d8(env.createdAt);
  const time = hhmm(env.createdAt);
  const segments: Segment[] = [
    ['ISA', '00', pad('', 10), '00', pad('', 10), 'ZZ', pad(env.senderId, 15), 'ZZ', pad(env.receiverId, 15), date.slice(2), time, '^', '00501', isaControl, '0', env.usage ?? 'T', ':'],
    ['GS', 'HC', text(env.senderId, 15), text(env.receiverId, 15), date, time, group, 'X', VERSION],
    ...sets.flat(),
    ['GE', String(sets.length), group],
    ['IEA', '1', isaControl],
  ];
  // The ISA is fixed width: render it without dropping its (space-padded) elements.
  return segments.map((s) => (s[0] === 'ISA' ? `${s.join('*')}~` : render(s))).join('\n') + '\n';
}

/** 2010AA: NM1*85 (entity 2 for an organisation, 1 for a solo practitioner) with XX + NPI; N3; N4; REF*EI. */
function billingProvider(provider: Organization | Practitioner, missing: string[]): Segment[] {
  const npi = provider.identifier?.find((i) => i.system === SYSTEMS.npi)?.value;
  const ein = provider.identifier?.find((i) => i.system === SYSTEMS.ein)?.value;
  if (!npi) missing.push('the billing provider NPI');
  if (!ein) missing.push('the billing provider tax id (EIN)');
  const name: Segment = provider.resourceType === 'Organization' ? ['NM1', '85', '2', text(provider.name), '', '', '', ''] : person('85', provider).slice(0, 8);
  return [[...name, 'XX', digits(npi)], ...addressSegments(provider.address?.[0], missing, 'the billing provider address'), ['REF', 'EI', digits(ein)]];
}

function addressSegments(address: Address | undefined, missing: string[], what: string): Segment[] {
  if (!address?.line?.[0] || !address.city || !address.state || !address.postalCode) {
    missing.push(what);
    return [];
  }
  return [
    ['N3', text(address.line[0], 55), text(address.line[1], 55)],
    ['N4', text(address.city, 30), text(address.state, 2), digits(address.postalCode)],
  ];
}

/** DMG*D8*birth date*gender (M, F, U). */
function demographics(patient: Patient, missing: string[]): Segment {
  if (!patient.birthDate) missing.push('the patient birth date');
  const gender = patient.gender === 'male' ? 'M' : patient.gender === 'female' ? 'F' : 'U';
  return ['DMG', 'D8', patient.birthDate ? d8(patient.birthDate) : '', gender];
}

/** 2000C/2010CA: the patient when someone else is the subscriber. */
function patientLoop(hl: number, parent: number, coverage: Coverage, patient: Patient, missing: string[]): Segment[] {
  const relationship = coverage.relationship?.coding?.[0]?.code ?? '';
  return [
    ['HL', String(hl), String(parent), '23', '0'],
    ['PAT', RELATIONSHIP[relationship] ?? 'G8'],
    person('QC', patient).slice(0, 6),
    ...addressSegments(patient.address?.[0], missing, 'the patient address'),
    demographics(patient, missing),
  ];
}

function filingIndicator(coverage: Coverage): string {
  const sopt = codingIn(coverage.type, SYSTEMS.sopt)?.code ?? '';
  return FILING_INDICATOR[sopt.charAt(0)] ?? 'ZZ';
}
