/**
 * The 97116 documentation bot (DOMAIN-97116.md §C, DESIGN §6): on every write that touches a therapy session, checks
 * its documentation against the rules payers enforce and keeps one DetectedIssue per open finding; the write's
 * response carries them as OperationOutcome issues. README.md lists the rules and their sources.
 */
import { defineBot } from '../../src/bots/index.js';
import { ENCOUNTER_PROFILE, OUTCOME_PROFILE, SYSTEMS } from './codes.js';
import { RULES } from './rules/index.js';
import { findTargets } from './targets.js';
import { loadLoneProcedure, loadSession } from './session.js';
import { evaluateSession } from './evaluate.js';

/**
 * The resources that are part of a session's documentation (the guide's mapping, profiles/README.md §2), one cheap
 * condition per type: every Observation or Encounter of a bulk load is tested, so each condition is a membership test
 * on a short path. What does not trigger is re-checked with its session or by $run-bots (README.md).
 */
const TRIGGERS = {
  Encounter: `meta.profile contains '${ENCOUNTER_PROFILE}'`,
  Procedure: `code.coding.system contains '${SYSTEMS.cpt}'`,
  Observation: `meta.profile contains '${OUTCOME_PROFILE}'`,
  Provenance: "signature.exists() and target.reference.where(startsWith('Encounter/')).exists()",
  DocumentReference: `type.coding.code contains 'progress-report'`,
  CarePlan: `activity.detail.code.coding.system contains '${SYSTEMS.cpt}'`,
  Goal: `category.coding.system contains '${SYSTEMS.icf}'`,
};

export default defineBot({
  id: 'documentation-97116',
  description:
    'Checks the documentation of therapy sessions (97116 gait training and the other timed codes) against the rules of DOMAIN-97116 §C: ' +
    'qualified performer, diagnosis, plan of care and its certification, prior level of function, skilled intervention, minutes, outcome measures, ' +
    'progress reports, signature, FES coverage and distinct services. Each open finding is a DetectedIssue; writes never fail because of them.',
  resourceTypes: Object.keys(TRIGGERS),
  when: TRIGGERS,
  rules: RULES,
  async run(input, ctx) {
    const targets = await findTargets(input, ctx);
    const subjects = [...targets.gone];
    const items = [];
    for (const encounter of targets.encounters) {
      const result = await evaluateSession(await loadSession(encounter, ctx));
      subjects.push(...result.subjects);
      items.push(...result.findings);
    }
    for (const procedure of targets.lone) {
      const result = await evaluateSession(await loadLoneProcedure(procedure, ctx));
      subjects.push(...result.subjects);
      items.push(...result.findings);
    }
    return { findings: { subjects: [...new Set(subjects)], items } };
  },
});
