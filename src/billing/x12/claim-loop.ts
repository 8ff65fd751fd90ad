/**
 * 837P loop 2300 (CLM, HI), 2310B (rendering provider), 2320-2330B (a secondary claim's prior payer: other-payer.ts)
 * and 2400 (LX, SV1, DTP*472; 2430 the prior payer's line adjudication) of one Claim, 005010X222A1.
 */
import type { Claim, ClaimItem, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { SYSTEMS, codingIn } from '../codes.js';
import { resolveAs, type ResourceLookup } from '../session.js';
import { amount, composite, d8, digits, patientControlNumber, person, text, type Segment } from './format.js';
import type { Frequency } from '../stage.js';
import { lineAdjudication, otherPayerLoops } from './other-payer.js';

export interface ClaimLoopParties {
  readonly resolve: ResourceLookup;
  /** Problems are collected here; the caller refuses to write a file with any. */
  readonly missing: string[];
  /** CLM05-3: 1 original (the default), 7 replacement, 8 void. */
  readonly frequency?: Frequency;
  /** REF*F8: the payer's claim control number of the claim a replacement or void refers to. */
  readonly payerClaimNumber?: string;
}

export function x12ClaimLoop(claim: Claim, { resolve, missing, frequency = '1', payerClaimNumber }: ClaimLoopParties): Segment[] {
  const items = claim.item ?? [];
  if (items.length === 0) missing.push('at least one claim line');
  const claimPos = itemPos(items[0]);
  if (!claimPos) missing.push('the place of service');
  if (claim.total?.value === undefined) missing.push('the claim total');
  return [
    // CLM05: place of service : B (professional, NUBC facility code qualifier) : frequency (1 original, 7, 8).
    // CLM06 provider signature on file Y, CLM07 assignment A, CLM08 benefits assigned Y, CLM09 release of information Y.
    ['CLM', patientControlNumber(claim), amount(claim.total?.value ?? 0), '', '', composite(claimPos ?? '', 'B', frequency), 'Y', 'A', 'Y', 'Y'],
    // REF*F8 (payer claim control number): required for a replacement or void when the payer gave one (277CA, 835).
    ...(frequency !== '1' && payerClaimNumber ? [['REF', 'F8', text(payerClaimNumber, 50)]] : []),
    diagnoses(claim, missing),
    ...renderingProvider(claim, resolve, missing),
    // A secondary claim: the prior payer's adjudication, claim (2320-2330B) and lines (2430).
    ...otherPayerLoops(claim, resolve, missing),
    ...items.flatMap((item, i) => [...serviceLine(item, i, claimPos, missing), ...lineAdjudication(claim, item, resolve)]),
  ];
}

function itemPos(item: ClaimItem | undefined): string | undefined {
  return codingIn(item?.locationCodeableConcept, SYSTEMS.pos)?.code;
}

/** HI: ABK the principal diagnosis, ABF the others; ICD-10-CM codes are sent without the dot. */
function diagnoses(claim: Claim, missing: string[]): Segment {
  const sorted = [...(claim.diagnosis ?? [])].sort((a, b) => a.sequence - b.sequence);
  const codes = sorted.map((d) => codingIn(d.diagnosisCodeableConcept, SYSTEMS.icd10cm)?.code?.replace('.', ''));
  if (codes.length === 0 || codes.some((c) => !c)) missing.push('ICD-10-CM codes for every diagnosis');
  return ['HI', ...codes.slice(0, 12).map((code, i) => composite(i === 0 ? 'ABK' : 'ABF', code ?? ''))];
}

/** 2310B: NM1*82 (person) with XX + NPI, PRV*PE*PXC*taxonomy, from the careTeam entry with role primary. */
function renderingProvider(claim: Claim, resolve: ResourceLookup, missing: string[]): Segment[] {
  const member = claim.careTeam?.find((c) => c.role?.coding?.some((r) => r.code === 'primary'));
  const found = resolveAs<Practitioner | PractitionerRole>(resolve, member?.provider?.reference, 'Practitioner', 'PractitionerRole');
  const practitioner = found?.resourceType === 'PractitionerRole' ? resolveAs<Practitioner>(resolve, found.practitioner?.reference, 'Practitioner') : (found as Practitioner | null);
  const npi = practitioner?.identifier?.find((i) => i.system === SYSTEMS.npi)?.value;
  if (!practitioner || !npi) {
    missing.push('the rendering provider (careTeam role primary) with an NPI');
    return [];
  }
  const taxonomy = codingIn(member?.qualification, SYSTEMS.nucc)?.code;
  return [[...person('82', practitioner), 'XX', digits(npi)], ...(taxonomy ? [['PRV', 'PE', 'PXC', taxonomy]] : [])];
}

/**
 * 2400: LX*n; SV1*HC:code:modifiers*charge*UN*units*place (only when it differs from CLM05)**pointers;
 * DTP*472*D8*date of service.
 */
function serviceLine(item: ClaimItem, index: number, claimPos: string | undefined, missing: string[]): Segment[] {
  const code = codingIn(item.productOrService, SYSTEMS.cpt, SYSTEMS.hcpcs)?.code;
  const date = item.servicedDate ?? item.servicedPeriod?.start;
  const line = `line ${index + 1}`;
  if (!code) missing.push(`${line}: a CPT/HCPCS code`);
  if (!date) missing.push(`${line}: a service date`);
  if (item.net?.value === undefined || item.quantity?.value === undefined) missing.push(`${line}: charge and units`);
  const modifiers = (item.modifier ?? []).map((m) => m.coding?.[0]?.code ?? '').slice(0, 4);
  const pos = itemPos(item);
  return [
    ['LX', String(index + 1)],
    [
      'SV1',
      composite('HC', code ?? '', ...modifiers),
      amount(item.net?.value ?? 0),
      'UN',
      String(item.quantity?.value ?? 0),
      pos && pos !== claimPos ? pos : '',
      '',
      composite(...(item.diagnosisSequence ?? []).slice(0, 4).map(String)),
    ],
    ['DTP', '472', 'D8', date ? d8(date) : ''],
  ];
}
