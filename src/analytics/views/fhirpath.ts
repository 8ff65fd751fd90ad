/**
 * The FHIRPath the runner evaluates: fhirpath.js with its R4 model, plus what SQL on FHIR v2 requires beyond
 * FHIRPath (getResourceKey, getReferenceKey) and boundary functions that keep a decimal's written precision
 * (boundary.ts), all through fhirpath.js's user invocation table rather than a fork. Each expression is compiled
 * once per view.
 */
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { highBoundary, lowBoundary } from './boundary.js';
import { referenceKey } from './keys.js';

/** An expression compiled once: evaluation returns the FHIRPath result collection. */
export type Evaluator = (input: unknown, env: Record<string, unknown>) => unknown[];

interface NodeLike {
  data?: unknown;
}

function dataOf(item: unknown): unknown {
  return item && typeof item === 'object' && 'data' in item ? (item as NodeLike).data : item;
}

/** Keys: keys.ts. */
const getResourceKey = {
  internalStructures: true,
  fn: (input: unknown[]): unknown[] => {
    const out: unknown[] = [];
    for (const item of input) {
      const data = dataOf(item) as { resourceType?: unknown; id?: unknown } | undefined;
      if (data && typeof data.resourceType === 'string' && typeof data.id === 'string') out.push(data.id);
    }
    return out;
  },
};

const getReferenceKey = {
  internalStructures: true,
  arity: { 0: [], 1: ['TypeSpecifier'] },
  fn: (input: unknown[], type?: { name?: string }): unknown[] => {
    const out: unknown[] = [];
    for (const item of input) {
      const key = referenceKey(dataOf(item), type?.name);
      if (key !== undefined) out.push(key);
    }
    return out;
  },
};

/**
 * join([separator]): one string of the input's strings, '' for an empty input. SQL on FHIR's tests expect the empty
 * string there (fhirpath.json, "string join"), where fhirpath.js gives an empty collection.
 */
const join = {
  internalStructures: true,
  arity: { 0: [], 1: ['String'] },
  fn: (input: unknown[], separator?: unknown): unknown[] => {
    const sep = Array.isArray(separator) ? separator[0] : separator;
    return [input.map((v) => String(dataOf(v))).join(typeof sep === 'string' ? sep : '')];
  },
};

const USER_FUNCTIONS = { getResourceKey, getReferenceKey, lowBoundary, highBoundary, join };

export interface CompileOptions {
  /** Results as fhirpath.js nodes (to evaluate further expressions on them) instead of JSON values. */
  nodes?: boolean;
}

/** Compiles an expression; throws (with fhirpath.js's message) when it does not parse. */
export function compileFhirPath(expression: string, options: CompileOptions = {}): Evaluator {
  const fn = fhirpath.compile(expression, r4 as never, {
    resolveInternalTypes: !options.nodes,
    userInvocationTable: USER_FUNCTIONS as never,
  }) as unknown as (input: unknown, env: Record<string, unknown>) => unknown[];
  return fn;
}

/** The functions an expression calls that need a decimal's written text (parse with decimals.ts then). */
export function usesBoundary(expression: string): boolean {
  return /\b(low|high)Boundary\s*\(/.test(expression);
}
