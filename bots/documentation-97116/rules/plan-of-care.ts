/**
 * DOMAIN §C.3: the service is based on an active plan of care whose goals are functional (97116: not for strength or
 * endurance alone). DOMAIN §C.5: the plan names the impairments and functional limitations that need skilled care.
 */
import type { CarePlan, Goal, Procedure } from '@medplum/fhirtypes';
import { referenceKey } from '../../../src/bots/index.js';
import { computedRule, fhirPathRule } from '../rule.js';
import { GAIT_TRAINING, SOURCES, SYSTEMS } from '../codes.js';
import { cptCode, keyOf, type Session } from '../session.js';

/** The CarePlans a Procedure is based on that exist. */
export function plansOf(procedure: Procedure, session: Session): CarePlan[] {
  return (procedure.basedOn ?? []).map((r) => session.plans.get(referenceKey(r) ?? '')).filter((p): p is CarePlan => !!p);
}

export const planOfCare = computedRule({
  id: 'c3-plan-of-care',
  severity: 'error',
  subject: 'Procedure',
  title: 'Based on an active plan of care that covers the date of service',
  element: 'Procedure.basedOn',
  source: 'MBPM ch. 15 §220.1 (services furnished under a plan of care); seed: "directly related to specific goals listed in the treatment plan"; DOMAIN-97116 §C.3',
  reference: SOURCES.mbpm,
  fix: 'Reference the patient\'s active CarePlan (the plan of care) from Procedure.basedOn; its period must include the date of service.',
  async check(procedure, session) {
    const refs = (procedure.basedOn ?? []).map((r) => referenceKey(r)).filter((k) => k?.startsWith('CarePlan/'));
    if (refs.length === 0) return [{ detail: 'The service is not linked to a plan of care: reference the CarePlan from Procedure.basedOn.' }];
    const plans = plansOf(procedure, session);
    if (plans.length === 0) return [{ detail: `Procedure.basedOn names ${refs.join(', ')}, which does not exist: reference the plan of care that does.` }];
    const date = session.date;
    const usable = plans.filter((p) => p.status === 'active' && (!date || ((!p.period?.start || p.period.start.slice(0, 10) <= date) && (!p.period?.end || p.period.end.slice(0, 10) >= date))));
    if (usable.length) return [];
    const plan = plans[0];
    const why = plan.status !== 'active' ? `is ${plan.status}, not active` : `runs ${plan.period?.start ?? '?'} to ${plan.period?.end ?? '?'}, which does not include the date of service ${date}`;
    return [{ detail: `The plan of care ${keyOf(plan)} ${why}: update the plan (or its recertification) and link the current one.`, implicated: plans.map(keyOf), expression: ['CarePlan.status', 'CarePlan.period'] }];
  },
});

const FUNCTIONAL_GOAL =
  "%goals.where(lifecycleStatus != 'cancelled' and lifecycleStatus != 'entered-in-error' and lifecycleStatus != 'rejected' and " +
  `category.coding.where(system = '${SYSTEMS.icf}' and code.startsWith('d')).exists()).exists()`;

export const functionalGoals = fhirPathRule({
  id: 'c3-functional-goals',
  severity: 'error',
  subject: 'Procedure',
  title: 'Gait training serves a functional goal of the plan of care',
  element: 'CarePlan.goal',
  source: 'seed: "97116 is NOT considered medically necessary when the goal of treatment is to increase muscle strength, endurance"; MBPM ch. 15 §220.1.2 (goals); DOMAIN-97116 §C.3',
  reference: SOURCES.mbpm,
  fix: 'Add a functional goal (Goal.category an ICF activity code: d450 walking, d455 moving around, d4 mobility) to the plan of care\'s CarePlan.goal.',
  applies: (procedure, session) => cptCode(procedure) === GAIT_TRAINING && plansOf(procedure, session).length > 0,
  checks: [
    {
      expression: FUNCTIONAL_GOAL,
      detail: 'Gait training needs a functional goal: the plan of care has no goal whose category is an ICF activity (d450 walking, d455 moving around, d4 mobility). Add one to CarePlan.goal; goals of strength or endurance alone do not support 97116.',
    },
  ],
  env: (procedure, session) => ({ goals: goalsOf(procedure, session) }),
  implicated: (procedure, session) => [...plansOf(procedure, session).map(keyOf), ...goalsOf(procedure, session).map(keyOf)],
});

function goalsOf(procedure: Procedure, session: Session): Goal[] {
  return plansOf(procedure, session).flatMap((p) => (p.goal ?? []).map((g) => session.goals.get(referenceKey(g) ?? ''))).filter((g): g is Goal => !!g);
}

export const impairments = fhirPathRule({
  id: 'c5-impairments',
  severity: 'warning',
  subject: 'Encounter',
  title: 'The plan of care names the impairments and limitations that need skilled care',
  element: 'CarePlan.addresses',
  source: 'seed: "Describe the client\'s impairments and functional limitations requiring skilled intervention"; MBPM ch. 15 §220.1.2; DOMAIN-97116 §C.5',
  reference: SOURCES.mbpm,
  fix: 'Reference the Conditions the plan treats (impairments and functional limitations, e.g. R26.89 abnormal gait) from CarePlan.addresses.',
  applies: (_encounter, session) => session.plans.size > 0,
  checks: [
    {
      expression: '%plans.all(addresses.exists())',
      detail: 'The plan of care does not name the impairments and functional limitations it treats: reference those Conditions (e.g. R26.89 abnormal gait) from CarePlan.addresses.',
    },
  ],
  env: (_encounter, session) => ({ plans: [...session.plans.values()] }),
  implicated: (_encounter, session) => [...session.plans.keys()],
});
