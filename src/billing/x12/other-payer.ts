/**
 * The prior payer's adjudication on a secondary claim's 837P (005010X222A1; issue 21 §2): loop 2320 (other subscriber
 * information: SBR with the other payer's responsibility P, the claim-level CAS, AMT*D what it paid, AMT*EAF what it
 * left the patient, OI), 2330A (the other subscriber, NM1*IL), 2330B (the other payer, NM1*PR; DTP*573 when no line
 * says when it adjudicated) and, per service line, loop 2430 (SVD what it paid on the line, CAS its line adjustments,
 * DTP*573 its adjudication date). Read from the FHIR Claim: the non-focal insurance entry names the prior Coverage and
 * its remittance (insurance.claimResponse). The 837P balances a line as SV102 = SVD02 + its 2430 CAS amounts, which a
 * balanced remittance matched line for line gives (src/billing/secondary.ts holds back a claim that is not).
 */
import type { Claim, ClaimItem, ClaimResponse, ClaimResponseItemAdjudication, Coverage, Organization, Patient, RelatedPerson } from '@medplum/fhirtypes';
import { SYSTEMS, codingIn } from '../codes.js';
import { resolveAs, type ResourceLookup } from '../session.js';
import { ADJUDICATION_SYSTEM, ADJUSTMENT_GROUP_SYSTEM } from '../remit-stage.js';
import { amount, composite, d8, person, text, type Segment } from './format.js';

/** CAS: at most 6 reason/amount/quantity triplets a segment (005010X222A1 2320 and 2430 CAS). */
const TRIPLETS = 6;
/** Coverage.relationship -> SBR02 individual relationship code of the other subscriber (18 self, 01 spouse, 19 child, G8 other). */
const RELATIONSHIP: Readonly<Record<string, string>> = { self: '18', spouse: '01', child: '19' };
/** Source of Payment Typology -> claim filing indicator (SBR09), as the 2000B SBR. */
const FILING_INDICATOR: Readonly<Record<string, string>> = { '1': 'MB', '2': 'MC', '5': 'CI', '6': 'BL' };

const cents = (a: { amount?: { value?: number } }) => Math.round((a.amount?.value ?? 0) * 100);

interface OtherPayer {
  coverage: Coverage;
  payer: Organization;
  payerId: string;
  response: ClaimResponse;
  subscriber: Patient | RelatedPerson;
}

/** The prior payer of a secondary claim, or null when the claim has none (a primary claim). */
function otherPayer(claim: Claim, resolve: ResourceLookup, missing: string[]): OtherPayer | null {
  const prior = claim.insurance?.find((i) => !i.focal && i.claimResponse?.reference);
  if (!prior) return null;
  const coverage = resolveAs<Coverage>(resolve, prior.coverage?.reference, 'Coverage');
  const response = resolveAs<ClaimResponse>(resolve, prior.claimResponse?.reference, 'ClaimResponse');
  const payer = resolveAs<Organization>(resolve, coverage?.payor?.[0]?.reference, 'Organization');
  const self = !coverage?.relationship?.coding?.some((c) => c.code && c.code !== 'self');
  const subscriber = self ? resolveAs<Patient>(resolve, claim.patient?.reference, 'Patient') : resolveAs<Patient | RelatedPerson>(resolve, coverage?.subscriber?.reference, 'Patient', 'RelatedPerson');
  const payerId = payer?.identifier?.find((i) => i.system === SYSTEMS.payerId)?.value ?? payer?.identifier?.[0]?.value;
  const gaps = [[coverage, 'the prior payer\'s Coverage'], [response, 'the prior payer\'s remittance (insurance.claimResponse)'], [payer, 'the prior payer Organization'], [payerId, 'the prior payer\'s payer id'], [subscriber, 'the prior coverage\'s subscriber']] as const;
  for (const [value, what] of gaps) if (!value) missing.push(what);
  return coverage && response && payer && payerId && subscriber ? { coverage, payer, payerId, response, subscriber } : null;
}

/** CAS segments of a list of adjudications: one per group code (CO, OA, PI, PR), at most 6 triplets each. */
function casSegments(adjudication: readonly ClaimResponseItemAdjudication[]): Segment[] {
  const byGroup = new Map<string, Array<[string, number]>>();
  for (const a of adjudication) {
    const group = a.category?.coding?.find((c) => c.system === ADJUSTMENT_GROUP_SYSTEM)?.code;
    const reason = a.reason?.coding?.[0]?.code;
    if (!group || !reason || cents(a) === 0) continue;
    byGroup.set(group, [...(byGroup.get(group) ?? []), [reason, cents(a)]]);
  }
  const out: Segment[] = [];
  for (const [group, list] of byGroup) {
    for (let i = 0; i < list.length; i += TRIPLETS) {
      const triplets = list.slice(i, i + TRIPLETS).flatMap(([reason, c], k, all) => (k === all.length - 1 ? [reason, amount(c / 100)] : [reason, amount(c / 100), '']));
      out.push(['CAS', group, ...triplets]);
    }
  }
  return out;
}

function benefitCents(adjudication: readonly ClaimResponseItemAdjudication[]): number {
  return adjudication.filter((a) => a.category?.coding?.some((c) => c.system === ADJUDICATION_SYSTEM && c.code === 'benefit')).reduce((s, a) => s + cents(a), 0);
}

/** 2320, 2330A, 2330B: after the claim's 2310 loops. Nothing for a primary claim. */
export function otherPayerLoops(claim: Claim, resolve: ResourceLookup, missing: string[]): Segment[] {
  const other = otherPayer(claim, resolve, missing);
  if (!other) return [];
  const { coverage, payer, payerId, response, subscriber } = other;
  const relationship = coverage.relationship?.coding?.[0]?.code ?? 'self';
  const group = coverage.class?.find((c) => c.type?.coding?.some((t) => t.code === 'group'))?.value;
  const sopt = codingIn(coverage.type, SYSTEMS.sopt)?.code ?? '';
  const patientOwes = [...(response.item ?? []), ...(response.addItem ?? [])].flatMap((i) => i.adjudication ?? []).concat(response.adjudication ?? []).filter((a) => a.category?.coding?.some((c) => c.system === ADJUSTMENT_GROUP_SYSTEM && c.code === 'PR')).reduce((s, a) => s + cents(a), 0);
  const lined = (response.item ?? []).length > 0;
  const memberId = coverage.subscriberId ?? coverage.identifier?.[0]?.value;
  if (!memberId) missing.push('the prior coverage\'s member id');
  return [
    ['SBR', 'P', RELATIONSHIP[relationship] ?? 'G8', text(group, 50), '', '', '', '', '', FILING_INDICATOR[sopt.charAt(0)] ?? 'ZZ'],
    ...casSegments(response.adjudication ?? []),
    ['AMT', 'D', amount((response.payment?.amount?.value ?? 0))],
    ['AMT', 'EAF', amount(patientOwes / 100)],
    // OI03 benefits assignment certification Y; OI06 release of information Y (signed statement on file).
    ['OI', '', '', 'Y', '', '', 'Y'],
    [...person('IL', subscriber), 'MI', text(memberId, 80)],
    ['NM1', 'PR', '2', text(payer.name), '', '', '', '', 'PI', text(payerId, 80)],
    // When no line carries the adjudication date (2430 DTP*573), the claim's does.
    ...(!lined && (response.payment?.date ?? response.created) ? [['DTP', '573', 'D8', d8((response.payment?.date ?? response.created).slice(0, 10))]] : []),
  ];
}

/** 2430 for one service line: what the prior payer paid on it, its adjustments and when. Nothing for a primary claim. */
export function lineAdjudication(claim: Claim, item: ClaimItem, resolve: ResourceLookup): Segment[] {
  const other = otherPayer(claim, resolve, []);
  const line = other?.response.item?.find((i) => i.itemSequence === item.sequence);
  if (!other || !line) return [];
  const code = codingIn(item.productOrService, SYSTEMS.cpt, SYSTEMS.hcpcs)?.code ?? '';
  const modifiers = (item.modifier ?? []).map((m) => m.coding?.[0]?.code ?? '').slice(0, 4);
  const date = other.response.payment?.date ?? other.response.created;
  return [
    ['SVD', text(other.payerId, 80), amount(benefitCents(line.adjudication ?? []) / 100), composite('HC', code, ...modifiers), '', String(item.quantity?.value ?? 0)],
    ...casSegments(line.adjudication ?? []),
    ...(date ? [['DTP', '573', 'D8', d8(date.slice(0, 10))]] : []),
  ];
}
