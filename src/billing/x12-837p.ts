/**
 * Claim -> ASC X12 837 Professional, version 005010X222A1 (DOMAIN-97116 §D): one interchange, one functional group,
 * one transaction with one claim. Loops: header (BHT), 1000A submitter, 1000B receiver, 2000A/2010AA billing
 * provider, 2000B/2010BA subscriber, 2010BB payer, 2000C patient (when not the subscriber), 2300 claim (CLM, HI),
 * 2310B rendering provider, 2400 lines (LX, SV1, DTP*472). Pure: other resources come through `resolve`.
 */
import type { Address, Claim, Coverage, Organization, Patient, Practitioner, RelatedPerson } from '@medplum/fhirtypes';
import { SYSTEMS, codingIn } from './codes.js';
import { resolveAs, type ResourceLookup } from './session.js';
import { x12ClaimLoop } from './x12-claim-loop.js';
import { control, d8, digits, hhmm, pad, person, render, text, type Segment } from './x12-format.js';

export interface X12Envelope {
  /** Submitter id: ISA06, GS02, 1000A NM109 (assigned by the clearinghouse). */
  readonly senderId: string;
  /** Receiver id: ISA08, GS03, 1000B NM109. */
  readonly receiverId: string;
  readonly receiverName: string;
  readonly submitter: { readonly name: string; readonly contactName: string; readonly phone: string };
  /** ISA13 and GS06; ST02 uses it too (one transaction per interchange). */
  readonly controlNumber: number;
  /** When the file is made, as a local date-time `YYYY-MM-DDTHH:MM` (ISA09/10, GS04/05, BHT04/05). */
  readonly createdAt: string;
  /** ISA15: T test, P production. */
  readonly usage?: 'T' | 'P';
}

export class X12Error extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`cannot write an 837P: ${missing.join('; ')}`);
  }
}

const VERSION = '005010X222A1';

/** Source of Payment Typology -> claim filing indicator (SBR09): Medicare Part B, Medicaid, commercial, BCBS. */
const FILING_INDICATOR: Readonly<Record<string, string>> = { '1': 'MB', '2': 'MC', '5': 'CI', '6': 'BL' };

/** Coverage.relationship -> PAT01 individual relationship code (spouse 01, child 19, other G8). */
const RELATIONSHIP: Readonly<Record<string, string>> = { spouse: '01', child: '19' };

export function claimToX12837P(claim: Claim, resolve: ResourceLookup, envelope: X12Envelope): string {
  const missing: string[] = [];
  const need = <T>(value: T | null | undefined, what: string): T => {
    if (value === null || value === undefined || value === '') missing.push(what);
    return value as T;
  };
  const coverage = need(resolveAs<Coverage>(resolve, (claim.insurance?.find((i) => i.focal) ?? claim.insurance?.[0])?.coverage?.reference, 'Coverage'), 'the focal Coverage');
  const provider = need(resolveAs<Organization | Practitioner>(resolve, claim.provider?.reference, 'Organization', 'Practitioner'), 'the billing provider');
  const patient = need(resolveAs<Patient>(resolve, claim.patient?.reference, 'Patient'), 'the patient');
  const payer = need(resolveAs<Organization>(resolve, coverage?.payor?.[0]?.reference, 'Organization'), 'the payer Organization');
  const self = !coverage?.relationship?.coding?.some((c) => c.code && c.code !== 'self');
  const subscriber = self ? patient : resolveAs<Patient | RelatedPerson>(resolve, coverage?.subscriber?.reference, 'Patient', 'RelatedPerson');
  need(subscriber, 'the subscriber (Coverage.subscriber)');
  // Without these resources no loop can be written; past this point every gap is collected before refusing.
  if (missing.length > 0) throw new X12Error(missing);
  const billing = billingProvider(provider, missing);
  const claimLoop = x12ClaimLoop(claim, { resolve, missing });

  const body: Segment[] = [
    ['BHT', '0019', '00', text(claim.id ?? String(envelope.controlNumber), 50), d8(envelope.createdAt), hhmm(envelope.createdAt), 'CH'],
    ['NM1', '41', '2', text(envelope.submitter.name), '', '', '', '', '46', text(envelope.senderId, 80)],
    ['PER', 'IC', text(envelope.submitter.contactName), 'TE', digits(envelope.submitter.phone)],
    ['NM1', '40', '2', text(envelope.receiverName), '', '', '', '', '46', text(envelope.receiverId, 80)],
    ['HL', '1', '', '20', '1'],
    ...billing,
    ['HL', '2', '1', '22', self ? '0' : '1'],
    ['SBR', 'P', self ? '18' : '', text(coverage.class?.find((c) => c.type?.coding?.some((t) => t.code === 'group'))?.value, 50), '', '', '', '', '', filingIndicator(coverage)],
    [...person('IL', subscriber!), 'MI', text(need(coverage.subscriberId ?? coverage.identifier?.[0]?.value, 'the member id (Coverage.subscriberId)'), 80)],
    ...(self ? [...addressSegments(patient.address?.[0], missing, 'the patient address'), demographics(patient, missing)] : []),
    ['NM1', 'PR', '2', text(payer.name), '', '', '', '', 'PI', text(need(payer.identifier?.find((i) => i.system === SYSTEMS.payerId)?.value ?? payer.identifier?.[0]?.value, 'the payer id'), 80)],
    ...(self ? [] : patientLoop(coverage, patient, missing)),
    ...claimLoop,
  ];
  if (missing.length > 0) throw new X12Error(missing);
  return envelopeAround(body, envelope);
}

function envelopeAround(body: readonly Segment[], env: X12Envelope): string {
  const isaControl = control(env.controlNumber, 9);
  const stControl = control(env.controlNumber % 10_000 || 1, 4);
  const date = d8(env.createdAt);
  const time = hhmm(env.createdAt);
  const transaction: Segment[] = [['ST', '837', stControl, VERSION], ...body];
  transaction.push(['SE', String(transaction.length + 1), stControl]);
  const segments: Segment[] = [
    ['ISA', '00', pad('', 10), '00', pad('', 10), 'ZZ', pad(env.senderId, 15), 'ZZ', pad(env.receiverId, 15), date.slice(2), time, '^', '00501', isaControl, '0', env.usage ?? 'T', ':'],
    ['GS', 'HC', text(env.senderId, 15), text(env.receiverId, 15), date, time, String(env.controlNumber), 'X', VERSION],
    ...transaction,
    ['GE', '1', String(env.controlNumber)],
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
function patientLoop(coverage: Coverage, patient: Patient, missing: string[]): Segment[] {
  const relationship = coverage.relationship?.coding?.[0]?.code ?? '';
  return [
    ['HL', '3', '2', '23', '0'],
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
