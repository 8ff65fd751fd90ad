/**
 * Runs the rules over one session: procedure rules on each completed timed service, session rules on the Encounter
 * once it is finished (an unfinished session is still being documented). Every CPT-coded Procedure and the Encounter
 * are subjects: a finding of theirs that no rule reports any more is closed.
 */
import type { DocumentationPolicy, Finding, Policy, PolicySet } from '../../src/bots/index.js';
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
  const problems = rule.policyFields ? await underPolicy(rule, target, session) : await problemsOf(rule, target, session);
  if (problems.length > 0) out.push(toFinding(rule, keyOf(target), problems, session));
}

async function problemsOf<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session): Promise<Problem[]> {
  if (rule.applies && !rule.applies(target, session)) return [];
  return rule.check(target, session);
}

/**
 * A payer-dependent rule decides by the policy fields it names. It is checked first under one policy of each group
 * that agrees on those fields, each reduced to them (a rule that read a field it did not name would find it missing,
 * and its tests would fail): when none finds a problem, no policy would (the usual case: documentation that satisfies
 * the strictest payer), and the patient's Coverage need not be read. Otherwise it is checked under every policy, and
 * when they disagree (or their texts do, naming the policy), the patient's Coverage picks the one that applies.
 */
async function underPolicy<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session): Promise<Problem[]> {
  let clean = true;
  for (const policy of deciding(rule, session.ctx.policies)) {
    if ((await problemsOf(rule, target, { ...session, policy })).length > 0) {
      clean = false;
      break;
    }
  }
  if (clean) return [];
  const results = new Map<Policy, Problem[]>();
  for (const policy of session.ctx.policies.all) results.set(policy, await problemsOf(rule, target, { ...session, policy }));
  const texts = new Set([...results.values()].map((p) => JSON.stringify(p)));
  if (texts.size === 1) return [...results.values()][0];
  return results.get(await applicablePolicy(session)) ?? [];
}

const decidingPolicies = new WeakMap<PolicySet, Map<string, Policy[]>>();

/** One policy per group of policies that agree on the rule's fields, reduced to those fields; made once per rule. */
function deciding(rule: DocRule, set: PolicySet): Policy[] {
  let byRule = decidingPolicies.get(set);
  if (!byRule) decidingPolicies.set(set, (byRule = new Map()));
  let list = byRule.get(rule.id);
  if (!list) {
    const fields = rule.policyFields ?? [];
    const groups = new Map<string, Policy>();
    for (const policy of set.all) {
      const key = JSON.stringify(fields.map((f) => policy.documentation[f]));
      const documentation = Object.fromEntries(fields.map((f) => [f, policy.documentation[f]])) as unknown as DocumentationPolicy;
      if (!groups.has(key)) groups.set(key, { ...policy, documentation });
    }
    list = [...groups.values()];
    byRule.set(rule.id, list);
  }
  return list;
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
