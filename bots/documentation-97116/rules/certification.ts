/**
 * DOMAIN §C.10: the plan of care is certified (signed by the physician/NPP) within 30 days of the first treatment and
 * lasts at most 90 calendar days, then is recertified (MBPM ch. 15 §220.1.3; policy `certification`). Certification
 * = CarePlan.author + CarePlan.created (guide decision 4). The first treatment under a plan is its period's start (a
 * session before it is outside the plan, which c3-plan-of-care reports); without a start, the episode's first session.
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { computedRule, type Problem } from '../rule.js';
import { EXTENSIONS, SOURCES } from '../codes.js';
import { keyOf, type Session } from '../session.js';
import { addDays, daysBetween, dateOf } from '../dates.js';
import { episodeSessions } from '../episode.js';

const SOURCE = 'MBPM ch. 15 §220.1.3 (certification within 30 days of the initial treatment; plans of care of at most 90 calendar days); DOMAIN-97116 §C.10; policy certification';

async function firstTreatment(plan: CarePlan, session: Session): Promise<string | undefined> {
  const start = dateOf(plan.period?.start);
  if (start) return start;
  return [(await episodeSessions(session))[0]?.date, session.date].filter((d): d is string => !!d).sort()[0];
}

function certified(plan: CarePlan): string | undefined {
  return plan.author?.reference || plan.author?.identifier ? dateOf(plan.created) : undefined;
}

const certificationApplies = (_e: unknown, session: Session) => !!session.policy.documentation.certification && session.plans.size > 0;

export const certification = computedRule({
  id: 'c10-certification',
  policyFields: ['certification'],
  severity: 'error',
  subject: 'Encounter',
  title: 'The plan of care is certified within 30 days of the first treatment',
  element: 'CarePlan.author',
  source: SOURCE,
  reference: SOURCES.mbpm,
  fix: 'Record the certification: CarePlan.author = the certifying physician or NPP, CarePlan.created = the date signed; a late certification also needs the reason (justification extension on the CarePlan).',
  applies: certificationApplies,
  async check(_encounter, session) {
    const within = session.policy.documentation.certification?.withinDays ?? 30;
    const problems: Problem[] = [];
    for (const plan of session.plans.values()) {
      const first = await firstTreatment(plan, session);
      if (!first || !session.date) continue;
      const deadline = addDays(first, within);
      const signed = certified(plan);
      const justified = (plan.extension ?? []).some((e) => e.url === EXTENSIONS.justification);
      if (!signed && session.date > deadline) {
        problems.push({ detail: `The plan of care ${keyOf(plan)} is not certified and the first treatment (${first}) was more than ${within} days ago: have the physician or NPP sign it (CarePlan.author, CarePlan.created).`, implicated: [keyOf(plan)] });
      } else if (signed && signed > deadline && !justified) {
        problems.push({ detail: `The plan of care ${keyOf(plan)} was certified on ${signed}, ${daysBetween(first, signed)} days after the first treatment (${first}): document the reason for the delay (justification extension on the CarePlan).`, implicated: [keyOf(plan)], expression: ['CarePlan.created'] });
      }
    }
    return problems;
  },
});

export const certificationDue = computedRule({
  id: 'c10-certification-due',
  policyFields: ['certification'],
  severity: 'warning',
  subject: 'Encounter',
  title: 'The plan of care awaits certification',
  element: 'CarePlan.author',
  source: SOURCE,
  reference: SOURCES.mbpm,
  fix: 'Send the plan of care to the physician or NPP for signature, then record CarePlan.author and CarePlan.created.',
  applies: certificationApplies,
  async check(_encounter, session) {
    const within = session.policy.documentation.certification?.withinDays ?? 30;
    const problems: Problem[] = [];
    for (const plan of session.plans.values()) {
      const first = await firstTreatment(plan, session);
      if (!first || !session.date || certified(plan) || session.date > addDays(first, within)) continue;
      problems.push({ detail: `The plan of care ${keyOf(plan)} is not certified yet: have it signed by ${addDays(first, within)} (${within} days after the first treatment, ${first}).`, implicated: [keyOf(plan)] });
    }
    return problems;
  },
});

export const planDuration = computedRule({
  id: 'c10-plan-duration',
  policyFields: ['certification'],
  severity: 'error',
  subject: 'Encounter',
  title: 'The plan of care lasts at most 90 days; then it is recertified',
  element: 'CarePlan.period',
  source: SOURCE,
  reference: SOURCES.mbpm,
  fix: 'Recertify: a new CarePlan (new period of at most 90 days, certified), linked from the Procedures.',
  applies: certificationApplies,
  async check(_encounter, session) {
    const max = session.policy.documentation.certification?.maxPlanDays ?? 90;
    const problems: Problem[] = [];
    for (const plan of session.plans.values()) {
      const start = dateOf(plan.period?.start);
      if (!start) {
        problems.push({ detail: `The plan of care ${keyOf(plan)} has no start date: set CarePlan.period.start (it lasts at most ${max} days).`, implicated: [keyOf(plan)] });
        continue;
      }
      const end = dateOf(plan.period?.end);
      const limit = addDays(start, max - 1);
      if (end && end > limit) {
        problems.push({ detail: `The plan of care ${keyOf(plan)} runs ${start} to ${end}, ${daysBetween(start, end) + 1} days: a plan lasts at most ${max} days (until ${limit}); shorten it and recertify after.`, implicated: [keyOf(plan)] });
      } else if (session.date && session.date > limit) {
        problems.push({ detail: `The session (${session.date}) is more than ${max} days after the plan of care ${keyOf(plan)} started (${start}): the plan needs recertification.`, implicated: [keyOf(plan)] });
      }
    }
    return problems;
  },
});
