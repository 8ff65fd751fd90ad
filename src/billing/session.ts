/**
 * Reads one therapy session (an Encounter, its Procedures, the patient's Coverages and what they reference) into
 * the plain facts billing computes with, following the guide's contract (profiles/README.md §3): minutes from the
 * `timed-minutes` extension else `performedPeriod`; discipline and assistant status from `performer.function` else
 * the PractitionerRole's code; the Coverage active on the date of service with the lowest `order`.
 * Pure: references are resolved through the `resolve` function the caller gives (database or bundle).
 */
import type { CarePlan, Coding, Condition, Coverage, Encounter, Extension, Location, Organization, Patient, Practitioner, Procedure, Resource } from '@medplum/fhirtypes';
import { EXTENSIONS, SYSTEMS, codingIn } from './codes.js';
import type { BillingFinding } from './findings.js';
import { readPerformers, type PerformerFact } from './performers.js';

export type { PerformerFact } from './performers.js';

/** Resolves a reference string (`Patient/1`, or a `urn:uuid:` fullUrl inside a bundle) to the resource. */
export type ResourceLookup = (reference: string) => Resource | undefined;

export interface SessionInput {
  readonly encounter: Encounter;
  /** The Procedures of the session (any status; those of other encounters are ignored). */
  readonly procedures: readonly Procedure[];
  /** The patient's Coverages; the one active on the date of service with the lowest `order` is used. */
  readonly coverages: readonly Coverage[];
  readonly resolve: ResourceLookup;
  /** How other resources refer to a resource; defaults to `Type/id` (a bundle uses its fullUrls). */
  readonly referenceOf?: (resource: Resource) => string;
  /** Only the services of this date of service (YYYY-MM-DD), and the Coverage of that date (day.ts). */
  readonly date?: string;
}

/** One completed Procedure. `minutes` is null when neither timed-minutes nor a full performedPeriod says it. */
export interface ServiceFact {
  readonly ref: string;
  /** The session (Encounter) the procedure belongs to: a date of service pools several (DOMAIN §A). */
  readonly encounterRef: string;
  readonly code: string;
  readonly coding: Coding;
  /** Date of service, as written (YYYY-MM-DD of performedPeriod.start). */
  readonly date: string;
  /** Sort key: performedPeriod.start as written, or the date. */
  readonly start: string;
  readonly minutes: number | null;
  readonly minutesFrom: 'timed-minutes' | 'performedPeriod' | null;
  /** Why `minutes` is null: the minutes are missing, zero or negative (a reversed performedPeriod). */
  readonly minutesProblem: string | null;
  readonly performers: readonly PerformerFact[];
  /** A `distinct-service` extension with distinct = true (guide §5). */
  readonly distinct: boolean;
  /** A `justification` extension on the Procedure, its CarePlan or its Encounter. */
  readonly justified: boolean;
  /** Procedure.reasonReference, in order. */
  readonly reasonRefs: readonly string[];
}

export interface DiagnosisFact {
  readonly conditionRef: string;
  /** The ICD-10-CM coding when there is one, else the Condition's first coding, else null. */
  readonly coding: Coding | null;
  readonly rank: number | null;
}

export interface CoverageFact {
  readonly ref: string;
  readonly resource: Coverage;
  readonly payerRef: string | null;
  readonly payer: Organization | null;
  /** Coverage.type in the Source of Payment Typology. */
  readonly sourceOfPayment: string | null;
  readonly memberId: string | null;
}

export interface SessionFacts {
  readonly encounterRef: string;
  readonly encounter: Encounter;
  readonly status: Encounter['status'];
  readonly patientRef: string | null;
  readonly patient: Patient | null;
  readonly billingProviderRef: string | null;
  readonly billingProvider: Organization | Practitioner | null;
  readonly coverage: CoverageFact | null;
  /** Encounter.diagnosis ordered by rank (unranked last, in the order written). */
  readonly diagnoses: readonly DiagnosisFact[];
  /** Completed procedures of the session, ordered by start time, code, reference. */
  readonly services: readonly ServiceFact[];
  /** From Encounter.location -> Location.type (CMS POS coding), else null (the policy default applies). */
  readonly placeOfService: string | null;
  /** A `justification` extension on the Encounter. */
  readonly justified: boolean;
  readonly resolve: ResourceLookup;
  /** Problems met while reading (no coverage, unknown minutes ...). */
  readonly findings: readonly BillingFinding[];
}

const GUIDE = 'Stride guide, profiles/README.md §3';

export function defaultReferenceOf(resource: Resource): string {
  return `${resource.resourceType}/${resource.id ?? ''}`;
}

export function readSession(input: SessionInput): SessionFacts {
  const referenceOf = input.referenceOf ?? defaultReferenceOf;
  const { encounter, resolve } = input;
  const encounterRef = referenceOf(encounter);
  const findings: BillingFinding[] = [];
  const patientRef = encounter.subject?.reference ?? null;
  const billingProviderRef = encounter.serviceProvider?.reference ?? null;
  const billingProvider = resolveAs<Organization | Practitioner>(resolve, billingProviderRef, 'Organization', 'Practitioner');
  const services = input.procedures
    .filter((p) => p.encounter?.reference === encounterRef && p.status === 'completed')
    .map((p) => readService(p, referenceOf(p), encounterRef, encounter, resolve, findings, input.date))
    .filter((s): s is ServiceFact => s !== null)
    .sort((a, b) => compareTimes(a.start, b.start) || compare(a.code, b.code) || compare(a.ref, b.ref));
  const dateOfService = input.date ?? services[0]?.date ?? dateOf(encounter.period?.start);
  const coverage = chooseCoverage(input.coverages, dateOfService, referenceOf, resolve);
  if (!coverage) {
    findings.push(problem('billing-no-coverage', 'The patient has no active Coverage on the date of service: no claim can be built. Add the Coverage (payer, member id) or correct its period.', 'Encounter.subject', encounterRef));
  }
  if (!billingProvider) {
    findings.push(problem('billing-no-billing-provider', 'Encounter.serviceProvider does not name a known Organization (the billing provider, 837P loop 2010AA).', 'Encounter.serviceProvider', encounterRef));
  }
  return {
    encounterRef,
    encounter,
    status: encounter.status,
    patientRef,
    patient: resolveAs<Patient>(resolve, patientRef, 'Patient'),
    billingProviderRef: billingProvider ? billingProviderRef : null,
    billingProvider,
    coverage,
    diagnoses: readDiagnoses(encounter, resolve),
    services,
    placeOfService: readPlaceOfService(encounter, resolve),
    justified: hasJustification(encounter.extension),
    resolve,
    findings,
  };
}

function readService(procedure: Procedure, ref: string, encounterRef: string, encounter: Encounter, resolve: ResourceLookup, findings: BillingFinding[], onlyDate?: string): ServiceFact | null {
  const start = procedure.performedPeriod?.start ?? procedure.performedDateTime ?? encounter.period?.start ?? '';
  const date = dateOf(start);
  // Another date's service is that date's to bill (and to report on).
  if (onlyDate !== undefined && date !== null && date !== onlyDate) return null;
  const coding = codingIn(procedure.code, SYSTEMS.cpt, SYSTEMS.hcpcs);
  if (!coding?.code) {
    findings.push(problem('billing-procedure-no-cpt', 'The procedure has no CPT or HCPCS code: it cannot be billed.', 'Procedure.code', ref, 'error'));
    return null;
  }
  if (date === null) {
    findings.push(problem('billing-procedure-no-date', `${coding.code}: no date of service (performedPeriod.start, or Encounter.period.start).`, 'Procedure.performedPeriod.start', ref, 'error'));
    return null;
  }
  const { minutes, from, problem: minutesProblem } = readMinutes(procedure);
  const carePlans = (procedure.basedOn ?? []).map((b) => resolveAs<CarePlan>(resolve, b.reference ?? null, 'CarePlan'));
  return {
    ref,
    encounterRef,
    code: coding.code,
    coding,
    date,
    start,
    minutes,
    minutesFrom: from,
    minutesProblem,
    performers: readPerformers(procedure, resolve),
    distinct: hasDistinctService(procedure.extension),
    justified: hasJustification(procedure.extension) || carePlans.some((c) => hasJustification(c?.extension)) || hasJustification(encounter.extension),
    reasonRefs: (procedure.reasonReference ?? []).map((r) => r.reference).filter((r): r is string => !!r),
  };
}

/**
 * Guide §3.1: the `timed-minutes` valueInteger; else performedPeriod end - start in whole minutes, rounded down
 * (decision 3: never bill a partial minute); else unknown. Minutes that are stated but zero or negative (an extension
 * of 0, a performedPeriod that ends before it starts) are not minutes of a service: null, with the reason, so that
 * billing holds the claim instead of dropping the service in silence (issue 25 §3). A stated extension is not
 * overridden by the period: the record says two different things, and a person has to decide.
 */
export function readMinutes(procedure: Procedure): { minutes: number | null; from: ServiceFact['minutesFrom']; problem: string | null } {
  const none = (problem: string) => ({ minutes: null, from: null, problem });
  const ext = procedure.extension?.find((e) => e.url === EXTENSIONS.timedMinutes);
  if (ext) {
    const value = ext.valueInteger;
    if (Number.isInteger(value) && value! > 0) return { minutes: value!, from: 'timed-minutes', problem: null };
    return none(value === 0 ? 'its timed-minutes extension says 0 minutes' : `its timed-minutes extension says ${value ?? 'nothing'}, not a whole number of minutes above 0`);
  }
  const period = procedure.performedPeriod;
  if (!period?.start || !period.end) return none('neither the timed-minutes extension nor a performedPeriod with start and end states them');
  const ms = Date.parse(period.end) - Date.parse(period.start);
  if (!Number.isFinite(ms)) return none(`its performedPeriod (${period.start} to ${period.end}) cannot be read as two times`);
  if (ms < 0) return none(`its performedPeriod ends (${period.end}) before it starts (${period.start})`);
  if (ms < 60_000) return none(`its performedPeriod (${period.start} to ${period.end}) lasts less than a minute`);
  return { minutes: Math.floor(ms / 60_000), from: 'performedPeriod', problem: null };
}

function hasDistinctService(extensions: readonly Extension[] | undefined): boolean {
  return (extensions ?? []).some(
    (e) => e.url === EXTENSIONS.distinctService && (e.extension ?? []).some((s) => s.url === 'distinct' && s.valueBoolean === true),
  );
}

function hasJustification(extensions: readonly Extension[] | undefined): boolean {
  return (extensions ?? []).some((e) => e.url === EXTENSIONS.justification && !!(e.valueString ?? e.valueMarkdown)?.trim());
}

function readDiagnoses(encounter: Encounter, resolve: ResourceLookup): DiagnosisFact[] {
  const entries = (encounter.diagnosis ?? []).map((d, i) => ({ d, i })).filter(({ d }) => !!d.condition?.reference);
  entries.sort((a, b) => (a.d.rank ?? Infinity) - (b.d.rank ?? Infinity) || a.i - b.i);
  return entries.map(({ d }) => readCondition(d.condition!.reference!, resolve, d.rank ?? null));
}

export function readCondition(conditionRef: string, resolve: ResourceLookup, rank: number | null = null): DiagnosisFact {
  const code = resolveAs<Condition>(resolve, conditionRef, 'Condition')?.code;
  const coding = codingIn(code, SYSTEMS.icd10cm) ?? code?.coding?.[0] ?? null;
  return { conditionRef, coding, rank };
}

function readPlaceOfService(encounter: Encounter, resolve: ResourceLookup): string | null {
  for (const loc of encounter.location ?? []) {
    const location = resolveAs<Location>(resolve, loc.location?.reference ?? null, 'Location');
    const pos = location?.type?.map((t) => codingIn(t, SYSTEMS.pos)).find((c) => c?.code);
    if (pos?.code) return pos.code;
  }
  return null;
}

/** Guide §3.3: status active, period covering the date of service, lowest `order` first (then as given). */
function chooseCoverage(coverages: readonly Coverage[], date: string | null, referenceOf: (r: Resource) => string, resolve: ResourceLookup): CoverageFact | null {
  const covers = (c: Coverage): boolean =>
    date === null || ((!c.period?.start || c.period.start.slice(0, 10) <= date) && (!c.period?.end || c.period.end.slice(0, 10) >= date));
  const candidates = coverages
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.status === 'active' && covers(c))
    .sort((a, b) => (a.c.order ?? Infinity) - (b.c.order ?? Infinity) || a.i - b.i);
  const chosen = candidates[0]?.c;
  if (!chosen) return null;
  const payerRef = chosen.payor?.[0]?.reference ?? null;
  const payer = resolveAs<Organization>(resolve, payerRef, 'Organization');
  const memberId =
    chosen.subscriberId ?? chosen.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MB'))?.value ?? chosen.identifier?.[0]?.value ?? null;
  return {
    ref: referenceOf(chosen),
    resource: chosen,
    payerRef,
    payer,
    sourceOfPayment: codingIn(chosen.type, SYSTEMS.sopt)?.code ?? null,
    memberId,
  };
}

export function resolveAs<T extends Resource = Resource>(resolve: ResourceLookup, ref: string | null | undefined, ...types: string[]): T | null {
  if (!ref) return null;
  const found = resolve(ref);
  return found && types.includes(found.resourceType) ? (found as T) : null;
}

export function dateOf(value: string | undefined): string | null {
  return value && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : null;
}

/** Instants with different offsets compare by time; a date without a time (or unparsable text) as written. */
export function compareTimes(a: string, b: string): number {
  const [ta, tb] = [Date.parse(a), Date.parse(b)];
  return Number.isFinite(ta) && Number.isFinite(tb) && a.includes('T') && b.includes('T') ? ta - tb : compare(a, b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function problem(ruleId: string, message: string, expression: string, ref: string, severity: 'error' | 'warning' = 'error'): BillingFinding {
  return { ruleId, severity, message, expression: [expression], source: GUIDE, implicated: [ref] };
}

/** A lookup over resources keyed by their references (a bundle's fullUrls, or `Type/id`). */
export function createLookup(entries: Iterable<readonly [string, Resource]>): ResourceLookup {
  const map = new Map(entries);
  return (reference: string) => map.get(reference);
}

