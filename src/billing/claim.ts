/**
 * A date of service's billing (issues 7 and 26; DOMAIN-97116 §A, §B, §D): one ChargeItem per billable line and one
 * professional Claim per patient, date of service, coverage and billing provider, scrubbed; `active` only when the
 * scrubber finds nothing, else `draft` with findings. Pure: the billing bot gathers the date's sessions, combines
 * them (day.ts), calls buildBilling, and writes the results (matched by their deterministic identifiers, so a re-run
 * updates instead of duplicating).
 */
import type { Annotation, ChargeItem, Claim, ClaimDiagnosis, ClaimItem, Encounter, Money, Reference } from '@medplum/fhirtypes';
import { buildCareTeam, toClaimCareTeam, type CareTeamMember } from './care-team.js';
import { SYSTEMS, THERAPY_CLAIM_PROFILE, modifierConcept, placeOfServiceConcept, taxonomyCoding } from './codes.js';
import { dayKey, sessionOf, sessionDate, type BillingFacts } from './day.js';
import { fromCents, type FeeSchedule } from './fee-schedule.js';
import { hasErrorFindings, type BillingFinding, type OpenFinding } from './findings.js';
import { computeLines, finding, type BillingLine, type PriorAllowedLine } from './lines.js';
import type { BillingPolicy } from './policy.js';
import { ICD10CM_PATTERN, scrubClaim } from './scrubber.js';
import { readCondition, type DiagnosisFact } from './session.js';
import type { PtpPair } from './types.js';
import { controlNumberOf } from './x12/format.js';

export type { PriorAllowedLine } from './lines.js';

export interface BuildOptions {
  /** Open documentation findings of the sessions (DetectedIssues): an error-level one keeps the Claim in draft. */
  readonly openFindings?: readonly OpenFinding[];
  /** NCCI PTP edits in force (defaults to the sample file). */
  readonly ptpPairs?: readonly PtpPair[];
  /** Claim.created; defaults to the last date of service, so that re-running on the same sessions changes nothing. */
  readonly created?: string;
  /** Earlier Claims this one replaces (per-encounter Claims billed before issue 26): listed in Claim.related as prior. */
  readonly supersedes?: readonly string[];
}

export interface BillingResult {
  /** null when no Claim can be built (no coverage, patient or billing provider); the findings say why. */
  readonly claim: Claim | null;
  readonly chargeItems: ChargeItem[];
  readonly findings: BillingFinding[];
}

/** The billing key of the date's Claim (Claim.identifier), or null when a part of it is missing (no Claim then). */
export function claimKeyOf(facts: BillingFacts): string | null {
  const date = facts.services[0]?.date ?? (facts.sessions[0] ? sessionDate(facts.sessions[0]) : null);
  if (!facts.patientRef || !date || !facts.coverage || !facts.billingProviderRef) return null;
  return dayKey(facts.patientRef, date, facts.coverage.ref, facts.billingProviderRef);
}

export function buildBilling(facts: BillingFacts, policy: BillingPolicy, fees: FeeSchedule, priorClaims: readonly PriorAllowedLine[], options: BuildOptions = {}): BillingResult {
  const computed = computeLines(facts, policy, fees, priorClaims, { ptpPairs: options.ptpPairs });
  const findings: BillingFinding[] = [...facts.findings, ...computed.findings];
  const encounterRefs = facts.sessions.map((s) => s.encounterRef);
  // A session billed before and reopened stays on the date's Claim, which is held until it is finished again.
  for (const session of facts.sessions.filter((s) => s.status !== 'finished')) {
    findings.push(finding('billing-session-not-finished', 'error', `The session's Encounter is ${session.status}, not finished: it was billed when it was finished, and the date's claim is held until it is finished again (or entered in error).`, 'Encounter.status', [session.encounterRef], 'issue 7 §1'));
  }
  const lines = computed.lines;
  const noClaim = (): BillingResult => ({ claim: null, chargeItems: [], findings });
  const key = claimKeyOf(facts);
  if (!key || !facts.coverage || !facts.patientRef || !facts.billingProviderRef) {
    if (!facts.patientRef) findings.push(finding('billing-no-patient', 'error', 'Encounter.subject names no patient: no claim can be built.', 'Encounter.subject', encounterRefs, 'Stride guide §2'));
    return noClaim();
  }
  // A Claim needs a line and a rendering provider (TherapyClaim: item 1..*, careTeam with role primary); without
  // them none is built (an earlier one is cancelled) and a finding says why, instead of a Claim the profile refuses.
  if (lines.length === 0) {
    if (!hasErrorFindings(findings)) {
      findings.push(finding('billing-nothing-to-bill', 'warning', 'The date of service has no completed service with a therapy code and minutes that earn units: there is nothing to bill.', 'Procedure', encounterRefs, 'issue 7 §1'));
    }
    return noClaim();
  }
  const careTeam = buildCareTeam(facts, lines);
  if (!careTeam.some((m) => m.role === 'primary')) {
    findings.push(finding('billing-no-rendering-provider', 'error', 'No therapist performed or supervised the session (Procedure.performer, Encounter.participant): the claim has no rendering provider. Record who performed the services.', 'Procedure.performer', encounterRefs, 'Stride guide decision 7; 837P loop 2310B'));
    return noClaim();
  }
  const { diagnoses, uncoded } = claimDiagnoses(facts, lines);
  for (const d of uncoded) {
    const what = d.coding?.code ? `is coded ${d.coding.code} (${d.coding.system ?? 'no system'}), not a well-formed ICD-10-CM code` : 'has no code';
    findings.push(finding('billing-diagnosis-not-icd10', 'warning', `${d.conditionRef} ${what}: it is left off the claim (837P HI takes ICD-10-CM only). Add its ICD-10-CM code to put it on the claim.`, 'Condition.code', [d.conditionRef, ...encounterRefs], 'DOMAIN-97116 §D; 837P HI segment'));
  }
  if (diagnoses.length === 0) {
    findings.push(finding('billing-no-diagnosis', 'error', 'No diagnosis of the session is coded in ICD-10-CM: no claim can be built. Code the Encounter\'s diagnoses (or the procedures\' reasonReference Conditions) in ICD-10-CM.', 'Encounter.diagnosis', encounterRefs, 'DOMAIN-97116 §C.2, §D'));
    return noClaim();
  }
  const items = lines.map((line, i) => claimItem(line, i, careTeam, diagnoses, placeOf(facts, line, policy), fees.currency));
  const dates = lines.map((l) => l.date).sort();
  const serviceDate = dates[0]!;
  const claim: Claim = {
    resourceType: 'Claim',
    meta: { profile: [THERAPY_CLAIM_PROFILE] },
    identifier: [{ system: SYSTEMS.billingKey, value: key }, { system: SYSTEMS.patientControlNumber, value: controlNumberOf(key) }],
    status: 'draft',
    type: { coding: [{ system: SYSTEMS.claimType, code: 'professional', display: 'Professional' }] },
    use: 'claim',
    patient: { reference: facts.patientRef },
    billablePeriod: { start: serviceDate, end: dates.at(-1) ?? serviceDate },
    created: options.created ?? dates.at(-1) ?? serviceDate,
    ...(facts.coverage.payerRef ? { insurer: { reference: facts.coverage.payerRef, ...(facts.coverage.payer?.name ? { display: facts.coverage.payer.name } : {}) } } : {}),
    provider: { reference: facts.billingProviderRef, ...providerDisplay(facts) },
    priority: { coding: [{ system: SYSTEMS.processPriority, code: 'normal', display: 'Normal' }] },
    ...(options.supersedes?.length ? { related: options.supersedes.map((ref) => ({ claim: { reference: ref }, relationship: { coding: [{ system: RELATED_CLAIM, code: 'prior', display: 'Prior Claim' }] } })) } : {}),
    careTeam: toClaimCareTeam(careTeam),
    diagnosis: diagnoses.map(toClaimDiagnosis),
    insurance: [{ sequence: 1, focal: true, coverage: { reference: facts.coverage.ref } }],
    item: items,
    total: money(lines.reduce((sum, l) => sum + (l.netCents ?? 0), 0), fees.currency),
  };
  findings.push(...scrubClaim(claim, { resolve: facts.resolve, fees, sessionUnits: computed.units, openFindings: options.openFindings ?? [], ptpPairs: options.ptpPairs }));
  claim.status = hasErrorFindings(findings) ? 'draft' : 'active';
  return { claim, chargeItems: chargeItems(facts, key, lines, diagnoses, careTeam, fees, claim.status), findings };
}

/** http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship (R4 example code system of Claim.related). */
const RELATED_CLAIM = 'http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship';

/** A line's place of service: its first visit's (Encounter.location), else the policy's default (11, office). */
function placeOf(facts: BillingFacts, line: BillingLine, policy: BillingPolicy): string {
  const first = line.services[0];
  return (first ? sessionOf(facts, first)?.placeOfService : null) ?? policy.defaultPlaceOfService;
}

/** The sessions a line's minutes came from, in the order they were done. */
function lineEncounters(line: BillingLine): Reference<Encounter>[] {
  return [...new Set(line.services.map((s) => s.encounterRef))].map((reference) => ({ reference }));
}

/**
 * Claim.diagnosis: the Encounter's diagnoses by rank, then any condition a procedure names (reasonReference) that
 * the Encounter does not list. A line points at its procedures' reasonReference conditions, else at the
 * Encounter's diagnoses by rank (guide §3); at most 4 pointers (837P SV107).
 */
function claimDiagnoses(facts: BillingFacts, lines: readonly BillingLine[]): { diagnoses: DiagnosisFact[]; uncoded: DiagnosisFact[] } {
  const list = [...facts.diagnoses];
  for (const ref of lines.flatMap((l) => l.services.flatMap((s) => s.reasonRefs))) {
    if (!list.some((d) => d.conditionRef === ref)) list.push(readCondition(ref, facts.resolve));
  }
  // Only ICD-10-CM codes go on a professional claim (837P HI; the TherapyClaim profile, stride-claim-2).
  const coded = (d: DiagnosisFact) => d.coding?.system === SYSTEMS.icd10cm && !!d.coding.code && ICD10CM_PATTERN.test(d.coding.code);
  return { diagnoses: list.filter(coded), uncoded: list.filter((d) => !coded(d)) };
}

/** A line's pointers: its procedures' reasonReference diagnoses on the claim, else the claim's first four by rank. */
function linePointers(line: BillingLine, diagnoses: readonly DiagnosisFact[]): number[] {
  const reasons = [...new Set(line.services.flatMap((s) => s.reasonRefs))];
  const own = reasons.map((ref) => diagnoses.findIndex((d) => d.conditionRef === ref) + 1).filter((seq) => seq > 0);
  return (own.length > 0 ? own : diagnoses.map((_d, i) => i + 1)).slice(0, 4);
}

function toClaimDiagnosis(d: DiagnosisFact, i: number): ClaimDiagnosis {
  return { sequence: i + 1, diagnosisCodeableConcept: { coding: [d.coding as NonNullable<DiagnosisFact['coding']>] } };
}

function claimItem(line: BillingLine, index: number, careTeam: readonly CareTeamMember[], diagnoses: readonly DiagnosisFact[], pos: string, currency: string): ClaimItem {
  const team = careTeam.filter((m) => m.role === 'primary' || line.performers.some((p) => p.practitionerRef === m.practitionerRef));
  return {
    sequence: index + 1,
    careTeamSequence: team.map((m) => m.sequence),
    diagnosisSequence: linePointers(line, diagnoses),
    productOrService: { coding: [line.coding] },
    ...(line.modifiers.length > 0 ? { modifier: line.modifiers.map(modifierConcept) } : {}),
    servicedDate: line.date,
    locationCodeableConcept: placeOfServiceConcept(pos),
    quantity: { value: line.units },
    ...(line.unitPriceCents !== null ? { unitPrice: money(line.unitPriceCents, currency) } : {}),
    ...(line.netCents !== null ? { net: money(line.netCents, currency) } : {}),
    encounter: lineEncounters(line),
  };
}

/**
 * One ChargeItem per claim line (issue 7 §1): status follows the Claim (billable when active, planned while the
 * Claim is held in draft). priceOverride carries the line's charge. Traceability (issue 26 §3): `service` names every
 * Procedure the line's minutes came from, `context` the first session and `supportingInformation` every session, and
 * a note says how the minutes became units, so that a biller sees why the line has the units it has.
 */
function chargeItems(facts: BillingFacts, claimKey: string, lines: readonly BillingLine[], diagnoses: readonly DiagnosisFact[], careTeam: readonly CareTeamMember[], fees: FeeSchedule, claimStatus: Claim['status']): ChargeItem[] {
  const status: ChargeItem['status'] = claimStatus === 'active' ? 'billable' : 'planned';
  return lines.map((line) => {
    const performers = careTeam.filter((m) => line.performers.some((p) => p.practitionerRef === m.practitionerRef));
    const reasons = linePointers(line, diagnoses).map((seq) => diagnoses[seq - 1]!.coding).filter((c) => c !== null);
    const encounters = lineEncounters(line);
    return {
      resourceType: 'ChargeItem',
      identifier: [{ system: SYSTEMS.billingKey, value: `${claimKey}|${line.key}` }],
      status,
      code: { coding: [line.coding] },
      subject: { reference: facts.patientRef! },
      context: encounters[0]!,
      occurrenceDateTime: line.date,
      ...(performers.length > 0
        ? { performer: performers.map((m) => ({ actor: { reference: m.practitionerRef }, ...(m.taxonomy ? { function: { coding: [taxonomyCoding(m.taxonomy)] } } : {}) })) }
        : {}),
      ...(facts.billingProvider?.resourceType === 'Organization' ? { performingOrganization: { reference: facts.billingProviderRef! } } : {}),
      quantity: { value: line.units },
      ...(line.netCents !== null
        ? { priceOverride: money(line.netCents, fees.currency), overrideReason: `fee schedule ${fees.id}: ${line.units} x ${fromCents(line.unitPriceCents!)} ${fees.currency}; modifiers ${line.modifiers.join(' ') || 'none'}` }
        : {}),
      ...(reasons.length > 0 ? { reason: reasons.map((c) => ({ coding: [c] })) } : {}),
      service: [...new Set(line.services.map((s) => s.ref))].map((reference) => ({ reference })),
      supportingInformation: encounters,
      note: [derivation(line)],
    };
  });
}

/** How a line's units came about: its minutes per procedure and visit, pooled over the date for its discipline. */
function derivation(line: BillingLine): Annotation {
  const parts = line.services.map((s) => `${s.minutes ?? 0} min (${s.ref}, ${s.encounterRef})`).join(' + ');
  const discipline = line.discipline ?? 'unknown discipline';
  const split = line.assistantModifier ? `; the units billed with ${line.assistantModifier}` : '';
  return { text: `${line.code} ${discipline} on ${line.date}: ${parts} = ${line.minutes} minutes of the date's ${discipline} ${line.code} -> ${line.units} unit(s) on this line${split}.` };
}

function providerDisplay(facts: BillingFacts): { display?: string } {
  const p = facts.billingProvider;
  const name = p?.resourceType === 'Organization' ? p.name : undefined;
  return name ? { display: name } : {};
}

function money(cents: number, currency: string): Money {
  return { value: fromCents(cents), currency: currency as Money['currency'] };
}
