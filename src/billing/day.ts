/**
 * The unit of billing: a patient's date of service under one coverage and one billing provider, not the visit
 * (issue 26; DOMAIN-97116 §A "The day, not the visit"). CMS counts the timed minutes of the date: two visits of 7
 * minutes of 97116 are 14 minutes, 1 unit, on one line (Pub 100-04 ch. 5 §20.2; medicare.fcso.com: a timed code
 * split over several lines of one date is rejected). The sessions of one date are read one by one (session.ts) and
 * combined here into the facts one Claim is built from (claim.ts).
 */
import type { Encounter } from '@medplum/fhirtypes';
import type { BillingFinding } from './findings.js';
import { compareTimes, dateOf, type DiagnosisFact, type ServiceFact, type SessionFacts } from './session.js';

/** What one Claim is built from: the sessions of a date, the first one's patient, provider and coverage for all. */
export interface BillingFacts extends Pick<SessionFacts, 'patientRef' | 'patient' | 'billingProviderRef' | 'billingProvider' | 'coverage' | 'resolve'> {
  /** The sessions billed together, earliest first. */
  readonly sessions: readonly SessionFacts[];
  /** The first session's diagnoses by rank, then those the later sessions add. */
  readonly diagnoses: readonly DiagnosisFact[];
  /** Every session's completed services, by start time. */
  readonly services: readonly ServiceFact[];
  readonly findings: readonly BillingFinding[];
}

/** The date a session is billed on when it has no service: its Encounter's start. */
export function sessionDate(session: SessionFacts): string | null {
  return session.services[0]?.date ?? dateOf(session.encounter.period?.start);
}

/**
 * The facts of sessions billed together: one patient's sessions of one date under one coverage and billing provider
 * (the caller groups them; the first session's patient, provider and coverage stand for all). Services keep their
 * session (`encounterRef`), so every line can name the visits its minutes came from.
 */
export function combineSessions(sessions: readonly SessionFacts[]): BillingFacts {
  if (sessions.length === 0) throw new RangeError('combineSessions: no session');
  const ordered = [...sessions].sort((a, b) => compareTimes(startOf(a), startOf(b)) || compare(a.encounterRef, b.encounterRef));
  const first = ordered[0]!;
  const diagnoses: DiagnosisFact[] = [];
  for (const d of ordered.flatMap((s) => s.diagnoses)) if (!diagnoses.some((x) => x.conditionRef === d.conditionRef)) diagnoses.push(d);
  const services = ordered.flatMap((s) => s.services).sort((a, b) => compareTimes(a.start, b.start) || compare(a.code, b.code) || compare(a.ref, b.ref));
  return {
    sessions: ordered,
    patientRef: first.patientRef,
    patient: first.patient,
    billingProviderRef: first.billingProviderRef,
    billingProvider: first.billingProvider,
    coverage: first.coverage,
    diagnoses,
    services,
    resolve: first.resolve,
    findings: ordered.flatMap((s) => s.findings),
  };
}

/** Claim key of a date of service: `<patient>|<date>|<coverage>|<billing provider>` (billing-key identifier). */
export function dayKey(patientRef: string, date: string, coverageRef: string, providerRef: string): string {
  return `${patientRef}|${date}|${coverageRef}|${providerRef}`;
}

/** The Encounters of the sessions, to name the supervising therapist when only assistants furnished the services. */
export function encountersOf(facts: BillingFacts): Encounter[] {
  return facts.sessions.map((s) => s.encounter);
}

/** The session a service belongs to. */
export function sessionOf(facts: BillingFacts, service: ServiceFact): SessionFacts | undefined {
  return facts.sessions.find((s) => s.encounterRef === service.encounterRef);
}

function startOf(session: SessionFacts): string {
  return session.services[0]?.start ?? session.encounter.period?.start ?? '';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
