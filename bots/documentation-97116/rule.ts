/**
 * The shape of a documentation rule: metadata every rule has (id, severity, element, source, the fix), and either
 * FHIRPath checks (conditions on resources, compiled once) or a computed check in TypeScript (STYLE 7, 11).
 */
import type { Encounter, Procedure } from '@medplum/fhirtypes';
import { compileCondition, type BotRule, type DocumentationPolicy, type Environment } from '../../src/bots/index.js';
import type { Session } from './session.js';

export type Subject = 'Procedure' | 'Encounter';
export type SubjectOf<S extends Subject> = S extends 'Procedure' ? Procedure : Encounter;

/** One thing wrong, said so that a therapist can fix it. */
export interface Problem {
  detail: string;
  /** `Type/id` of other resources involved (the subject is always implicated). */
  implicated?: string[];
  /** FHIRPath locations, when narrower than the rule's element. */
  expression?: string[];
}

export interface DocRule<S extends Subject = Subject> extends BotRule {
  subject: S;
  /**
   * The payer policy fields its decision reads (its result may differ between payers; its texts may also name the
   * policy). Under policies that agree on these fields it decides alike (evaluate.ts).
   */
  policyFields?: ReadonlyArray<keyof DocumentationPolicy>;
  /** When the rule applies at all (e.g. gait training only); absent: always. */
  applies?(target: SubjectOf<S>, session: Session): boolean;
  check(target: SubjectOf<S>, session: Session): Promise<Problem[]>;
}

type Metadata<S extends Subject> = Omit<BotRule, 'subject' | 'expression'> & { subject: S };

/** A rule computed in TypeScript (counting days, comparing dates and totals, resolving roles). */
export function computedRule<S extends Subject>(def: Metadata<S> & Pick<DocRule<S>, 'applies' | 'check' | 'policyFields'>): DocRule<S> {
  return def;
}

export interface FhirPathCheck {
  /** True when the documentation is there; evaluated on the subject, with the rule's environment as %variables. */
  expression: string;
  /** What is missing and what to do when the expression is not true. */
  detail: string;
  expressionPath?: string;
}

/**
 * A rule that is a condition on resources: each check is a FHIRPath expression compiled once; the finding lists the
 * checks that failed. `env` supplies the session's other resources as FHIRPath %variables.
 */
export function fhirPathRule<S extends Subject>(
  def: Metadata<S> & {
    checks: FhirPathCheck[];
    applies?: DocRule<S>['applies'];
    env?: (target: SubjectOf<S>, session: Session) => Environment | Promise<Environment>;
    implicated?: (target: SubjectOf<S>, session: Session) => string[];
  },
): DocRule<S> {
  const compiled = def.checks.map((c) => ({ ...c, test: compileCondition(c.expression, `rule ${def.id}`) }));
  const { checks: _checks, env, implicated, ...meta } = def;
  // What $bots shows, and what is evaluated first: every check, each in parentheses (`and` binds tighter than `or`).
  const expression = compiled.length === 1 ? def.checks[0].expression : def.checks.map((c) => `(${c.expression})`).join('\nand\n');
  // Documentation is usually complete: one evaluation of all the checks together answers that; only when it is not
  // true are the checks evaluated one by one to say which failed.
  const all = compiled.length > 1 ? compileCondition(expression, `rule ${def.id}`) : undefined;
  return {
    ...meta,
    expression,
    async check(target, session) {
      const variables = env ? await env(target, session) : {};
      if (all?.(target, variables)) return [];
      const failed = compiled.filter((c) => !c.test(target, variables));
      if (failed.length === 0) return [];
      return [{
        detail: failed.map((c) => c.detail).join(' '),
        implicated: implicated?.(target, session),
        expression: failed.map((c) => c.expressionPath ?? def.element),
      }];
    },
  };
}
