/**
 * FHIRPath for bot triggers and rules: fhirpath.js with its R4 model (http://hl7.org/fhirpath/N1/), each expression
 * parsed once at start-up. A syntax error surfaces at compile time, so a broken bot stops start-up. Conditions in the
 * subset of fhirpath-fast.ts are evaluated by closures built from fhirpath.js's parse tree, and by fhirpath.js itself
 * whenever those cannot answer exactly as it would.
 */
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { compileFast, type Model } from './fhirpath-fast.js';

export type Environment = Record<string, unknown>;

/** An expression compiled once; evaluation returns the FHIRPath result collection. */
export type CompiledPath = (input: unknown, env?: Environment) => unknown[];

// Results stay internal (no conversion of FHIRPath dates/quantities back to JSON): rules look at booleans and strings,
// and skipping the conversion makes each evaluation cheaper.
const OPTIONS = { resolveInternalTypes: false } as const;

export function compilePath(expression: string, label: string): CompiledPath {
  let fn: (input: unknown, env?: Environment) => unknown;
  try {
    fn = fhirpath.compile(expression, r4, OPTIONS) as unknown as typeof fn;
  } catch (err) {
    throw new Error(`${label}: the FHIRPath "${expression}" does not compile: ${(err as Error).message}`);
  }
  return (input, env) => fn(input, env) as unknown[];
}

/** A boolean condition: true when the result is a single `true`, computed or an element of the data (FHIRPath's singleton evaluation of booleans). */
export function compileCondition(expression: string, label: string): (input: unknown, env?: Environment) => boolean {
  const path = compilePath(expression, label);
  const fast = compileFast(expression, r4 as unknown as Model);
  return (input, env = {}) => {
    const answer = fast?.(input, env);
    if (answer !== undefined) return answer;
    const result = path(input, env);
    // A boolean element of the data (`active`) comes back as fhirpath.js's node: its value decides too.
    return result.length === 1 && (result[0] === true || fhirpath.resolveInternalTypes(result)[0] === true);
  };
}
