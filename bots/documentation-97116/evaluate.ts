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
  const checks: Array<Promise<Finding | undefined>> = [];
  for (const procedure of session.timed) {
    for (const rule of PROCEDURE_RULES) checks.push(runRule(rule, procedure, session));
  }
  const encounter = session.encounter;
  if (encounter) {
    subjects.push(keyOf(encounter));
    if (encounter.status === 'finished' && session.timed.length > 0) {
      for (const rule of ENCOUNTER_RULES) checks.push(runRule(rule, encounter, session));
    }
  }
  // The rules run side by side (they share only the session's memos): the episode's questions (its sessions, its
  // progress reports, the prior level of function) are asked at once, where on PostgreSQL each is a round trip or two
  // on a connection of its own (src/bots/context.ts). The findings keep the rules' order. Every rule has ended before
  // this returns, even when one threw (its error is the bot's failure): none reads on after the bot is done.
  const findings: Finding[] = [];
  for (const settled of await Promise.allSettled(checks)) {
    if (settled.status === 'rejected') throw settled.reason;
    if (settled.value) findings.push(settled.value);
  }
  return { subjects, findings };
}

async function runRule<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session): Promise<Finding | undefined> {
  const problems = rule.policyFields ? await underPolicy(rule, target, session) : await problemsOf(rule, target, session);
  return problems.length > 0 ? toFinding(rule, keyOf(target), problems, session) : undefined;
}

async function problemsOf<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session): Promise<Problem[]> {
  if (rule.applies && !rule.applies(target, session)) return [];
  return rule.check(target, session);
}

/**
 * A payer-dependent rule decides by the policy fields it names, and is checked under a policy reduced to them (a rule
 * that read a field it did not name would find it missing, and its tests would fail). When every payer's policy
 * agrees on those fields, one check decides: a clean session is clean for every payer, and the patient's Coverage
 * need not be read. Otherwise the check runs once, under the policy the patient's Coverage picks (read once per
 * session; from the committed answers kept between writes, most often): checking under each policy first, and
 * reading the Coverage only when they disagreed, cost a session two or three checks of each such rule.
 */
async function underPolicy<S extends Subject>(rule: DocRule<S>, target: SubjectOf<S>, session: Session): Promise<Problem[]> {
  const policies = policiesOf(rule, session.ctx.policies);
  if (policies.agree) {
    const problems = await problemsOf(rule, target, { ...session, policy: policies.reduced(session.ctx.policies.fallback) });
    if (problems.length === 0) return [];
  }
  // A problem's text may name the policy: the one that applies says it.
  return problemsOf(rule, target, { ...session, policy: policies.reduced(await applicablePolicy(session)) });
}

/** The payer policies as one payer-dependent rule sees them. */
interface RulePolicies {
  /** Every policy of the set has the same values in the rule's fields. */
  agree: boolean;
  /** The policy with only the documentation fields the rule names (made once per policy). */
  reduced(policy: Policy): Policy;
}

const rulePolicies = new WeakMap<PolicySet, Map<string, RulePolicies>>();

function policiesOf(rule: DocRule, set: PolicySet): RulePolicies {
  let byRule = rulePolicies.get(set);
  if (!byRule) rulePolicies.set(set, (byRule = new Map()));
  let out = byRule.get(rule.id);
  if (!out) {
    const fields = rule.policyFields ?? [];
    const made = new Map<Policy, Policy>();
    const reduced = (policy: Policy): Policy => {
      let r = made.get(policy);
      if (!r) {
        const documentation = Object.fromEntries(fields.map((f) => [f, policy.documentation[f]])) as unknown as DocumentationPolicy;
        made.set(policy, (r = { ...policy, documentation }));
      }
      return r;
    };
    const agree = new Set(set.all.map((policy) => JSON.stringify(fields.map((f) => policy.documentation[f])))).size <= 1;
    byRule.set(rule.id, (out = { agree, reduced }));
  }
  return out;
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
