/**
 * Runs the rules over one session: procedure rules on each completed timed service, session rules on the Encounter
 * once it is finished (an unfinished session is still being documented). Every CPT-coded Procedure and the Encounter
 * are subjects: a finding of theirs that no rule reports any more is closed.
 */
import type { Finding, Policy } from '../../src/bots/index.js';
import type { DocRule, Problem, Subject, SubjectOf } from './rule.js';
import { ENCOUNTER_RULES, PROCEDURE_RULES } from './rules/index.js';
import { applicablePolicy, keyOf, type Session } from './session.js';

export interface Evaluation {
  subjects: string[];
  findings: Finding[];
}

export async function evaluateSession(session: Session): Promise<Evaluation> {
  const subjects = session.procedures.map(keyOf);
  const findings: Finding[] = [];
  for (const procedure of session.timed) {
    for (const rule of PROCEDURE_RULES) await runRule(rule, procedure, session, findings);
  }
  const encounter = session.encounter;
  if (encounter) {
    subjects.push(keyOf(encounter));
    if (encounter.status === 'finished' && session.timed.length > 0) {
      for (const rule of ENCOUNTER_RULES) await runRule(rule, encounter, session, findings);
    }
  }
  return { subjects, findings };
}

async function runRule<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session, out: Finding[]): Promise<void> {
  const problems = rule.usesPolicy ? await underPolicy(rule, target, session) : await problemsOf(rule, target, session);
  if (problems.length > 0) out.push(toFinding(rule, keyOf(target), problems, session));
}

async function problemsOf<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session): Promise<Problem[]> {
  if (rule.applies && !rule.applies(target, session)) return [];
  return rule.check(target, session);
}

/**
 * A payer-dependent rule is checked under each policy first: when all agree (the usual case: documentation that
 * satisfies the strictest payer), the patient's Coverage need not be read at all.
 */
async function underPolicy<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session): Promise<Problem[]> {
  const results = new Map<Policy, Problem[]>();
  for (const policy of session.ctx.policies.all) results.set(policy, await problemsOf(rule, target, { ...session, policy }));
  const texts = new Set([...results.values()].map((p) => JSON.stringify(p)));
  if (texts.size === 1) return [...results.values()][0];
  return results.get(await applicablePolicy(session)) ?? [];
}

function toFinding(rule: DocRule, subject: string, problems: Problem[], session: Session): Finding {
  return {
    rule: rule.id,
    subject,
    detail: problems.map((p) => p.detail).join(' '),
    implicated: [...new Set([subject, ...problems.flatMap((p) => p.implicated ?? [])])],
    patient: session.patientKey,
    expression: [...new Set(problems.flatMap((p) => p.expression ?? [rule.element]))],
  };
}
