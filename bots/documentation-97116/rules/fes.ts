/**
 * DOMAIN §C.13: FES with gait training (NCD 160.12): covered for walking in spinal cord injury (ICD-10-CM G82.20,
 * G82.21, G82.22, G04.1 per the Noridian DME MAC article), furnished one-on-one by a physical therapist, with the goal
 * of walking. It applies to sessions that use FES (a device code of the policy in Procedure.usedCode), not to
 * every 97116: the sources tie the code list to FES (the seed's "G82.20 must be present" is narrowed here).
 */
import type { Procedure } from '@medplum/fhirtypes';
import { computedRule, type Problem } from '../rule.js';
import { GAIT_TRAINING, SOURCES, SYSTEMS } from '../codes.js';
import { cptCode, diagnosesOf, keyOf, type Session } from '../session.js';
import { performerRoles } from '../roles.js';
import { plansOf } from './plan-of-care.js';
import { referenceKey } from '../../../src/bots/index.js';

export function usesFes(session: Session): boolean {
  const devices = session.policy.documentation.fes.deviceCodes;
  const codings = (p: Procedure) => (p.usedCode ?? []).flatMap((c) => c.coding ?? []);
  return session.timed.some((p) => codings(p).some((c) => devices.some((d) => d.system === c.system && d.code === c.code)));
}

export const fes = computedRule({
  id: 'c13-fes',
  policyFields: ['fes'],
  severity: 'error',
  subject: 'Procedure',
  title: 'FES with gait training: spinal cord injury, a physical therapist, a walking goal',
  element: 'Procedure.reasonReference',
  source: 'NCD 160.12 (NMES/FES for walking in spinal cord injury: physical therapy sessions furnished one-on-one by the physical therapist); Noridian DME MAC article "FES - Coverage and HCPCS Coding" (G82.20, G82.21, G82.22, G04.1); DOMAIN-97116 §C.13',
  reference: SOURCES.ncd16012,
  fix: 'For FES gait training: a spinal cord injury diagnosis of the FES list (G82.20, G82.21, G82.22, G04.1), the physical therapist as performer, and a walking goal (ICF d450) in the plan of care.',
  applies: (procedure, session) => cptCode(procedure) === GAIT_TRAINING && usesFes(session),
  async check(procedure, session) {
    const problems: Problem[] = [];
    const list = session.policy.documentation.fes.diagnoses;
    const conditions = await diagnosesOf(procedure, session);
    const codes = conditions.flatMap((c) => (c.code?.coding ?? []).filter((k) => k.system === SYSTEMS.icd10cm).map((k) => k.code ?? ''));
    if (!codes.some((code) => list.includes(code))) {
      problems.push({ detail: `FES is covered with gait training for spinal cord injury only: document one of ${list.join(', ')} (the diagnoses found: ${codes.join(', ') || 'none'}).`, implicated: conditions.map(keyOf), expression: ['Procedure.reasonReference'] });
    }
    const roles = await performerRoles(procedure, session);
    if (!roles.some((r) => r.discipline === 'PT' && !r.assistant)) {
      problems.push({ detail: 'FES gait training is furnished one-on-one by the physical therapist: name the PT (NUCC 225100000X) as performer; an assistant or another discipline does not qualify.', expression: ['Procedure.performer'] });
    }
    const goals = plansOf(procedure, session).flatMap((p) => (p.goal ?? []).map((g) => session.goals.get(referenceKey(g) ?? '')));
    if (!goals.some((g) => g?.category?.some((c) => c.coding?.some((k) => k.system === SYSTEMS.icf && k.code?.startsWith('d450'))))) {
      problems.push({ detail: 'The goal of FES training must be walking: add a walking goal (Goal.category ICF d450) to the plan of care.', expression: ['CarePlan.goal'] });
    }
    return problems;
  },
});
