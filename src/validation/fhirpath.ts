/**
 * FHIRPath for the specification's invariants: @medplum/core's parser and evaluator (fast, typed over the same
 * schemas as the structure layer), with the two operations where it departs from FHIRPath N1 as the HL7 Java
 * reference validator implements it replaced in the parsed tree:
 * - `<`, `<=`, `>`, `>=` on date/dateTime/instant/time values compare with precision (temporal.ts): empty when the
 *   precisions differ and the shared parts agree, UTC for values with a time; @medplum/core compares the strings;
 * - `matches(regex)` must match the whole string (the Java validator's `String.matches`; eld-19, eld-20, sdf-8a and
 *   the id/code rules are written for that); @medplum/core accepts a match anywhere.
 * An invariant holds only when it evaluates to exactly `true`: an empty result fails it, as in the Java validator
 * (FHIRPathEngine.convertToBoolean of an empty collection is false).
 */
import {
  ArithemticOperatorAtom,
  AsAtom,
  DotAtom,
  FhirPathAtom,
  FunctionAtom,
  IndexerAtom,
  InfixOperatorAtom,
  IsAtom,
  parseFhirPath,
  UnaryOperatorAtom,
  type Atom,
  type AtomContext,
  type TypedValue,
  evalFhirPathTyped,
} from '@medplum/core';
import { compareTemporal, parseDateTime, parseTime, type Temporal } from './temporal.js';

const TEMPORAL_TYPES = new Set(['date', 'dateTime', 'instant', 'time']);
const COMPARISONS: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

/** Parses an expression and replaces the operations whose semantics differ (see the module comment). */
export function compileFhirPath(expression: string): FhirPathAtom {
  const atom = parseFhirPath(expression);
  set(atom, 'child', rewrite(atom.child));
  return atom;
}

/** Whether an invariant holds on `value`: exactly `true`. Throws when the expression cannot be evaluated. */
export function holds(atom: FhirPathAtom, value: TypedValue, variables: Record<string, TypedValue>): boolean {
  const result = evalFhirPathTyped(atom, [value], variables);
  return result.length === 1 && result[0].value === true;
}

/** The parsed tree is ours (parseFhirPath builds a new one per call): its nodes are rewired in place. */
function set<T extends object>(node: T, key: keyof T & string, value: unknown): void {
  (node as Record<string, unknown>)[key] = value;
}

function rewrite(atom: Atom): Atom {
  if (atom instanceof ArithemticOperatorAtom && COMPARISONS[atom.operator]) {
    return new TemporalComparison(atom, rewrite(atom.left), rewrite(atom.right));
  }
  if (atom instanceof FunctionAtom) {
    set(atom, 'args', atom.args.map(rewrite));
    return atom.name === 'matches' && atom.args.length === 1 ? new FullMatch(atom.args[0]) : atom;
  }
  if (atom instanceof DotAtom || atom instanceof InfixOperatorAtom || atom instanceof AsAtom || atom instanceof IsAtom) {
    const infix = atom as InfixOperatorAtom;
    set(infix, 'left', rewrite(infix.left));
    set(infix, 'right', rewrite(infix.right));
    return atom;
  }
  if (atom instanceof UnaryOperatorAtom) {
    set(atom, 'child', rewrite(atom.child));
    return atom;
  }
  if (atom instanceof IndexerAtom) {
    set(atom, 'left', rewrite(atom.left));
    set(atom, 'expr', rewrite(atom.expr));
    return atom;
  }
  return atom;
}

/** A comparison that follows FHIRPath's precision rule for temporal values and @medplum/core's otherwise. */
class TemporalComparison implements Atom {
  constructor(
    private readonly original: ArithemticOperatorAtom,
    private readonly left: Atom,
    private readonly right: Atom,
  ) {
    set(original, 'left', left);
    set(original, 'right', right);
  }

  eval(context: AtomContext, input: TypedValue[]): TypedValue[] {
    const l = this.left.eval(context, input);
    const r = this.right.eval(context, input);
    if (l.length !== 1 || r.length !== 1) return [];
    const a = temporalOf(l[0]);
    const b = a && temporalOf(r[0]);
    if (!a || !b) return this.original.eval(context, input);
    const c = compareTemporal(a, b);
    return c === undefined ? [] : [{ type: 'boolean', value: COMPARISONS[this.original.operator](c) }];
  }

  toString(): string {
    return this.original.toString();
  }
}

function temporalOf(tv: TypedValue): Temporal | undefined {
  if (!TEMPORAL_TYPES.has(tv.type) || typeof tv.value !== 'string') return undefined;
  return tv.type === 'time' ? parseTime(tv.value) : parseDateTime(tv.value);
}

const REGEX_CACHE = new Map<string, RegExp>();

/** `matches(regex)`: the whole string must match; empty input gives empty. */
class FullMatch implements Atom {
  constructor(private readonly regex: Atom) {}

  eval(context: AtomContext, input: TypedValue[]): TypedValue[] {
    if (input.length === 0) return [];
    if (input.length > 1) throw new Error('matches() needs a single string');
    const value = input[0].value;
    if (typeof value !== 'string') throw new Error('matches() needs a string');
    const pattern = this.regex.eval(context, input)[0]?.value;
    if (typeof pattern !== 'string') return [];
    let re = REGEX_CACHE.get(pattern);
    if (!re) {
      re = new RegExp(`^(?:${pattern})$`, 's');
      REGEX_CACHE.set(pattern, re);
    }
    return [{ type: 'boolean', value: re.test(value) }];
  }

  toString(): string {
    return `matches(${this.regex.toString()})`;
  }
}
