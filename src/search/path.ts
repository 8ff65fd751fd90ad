/**
 * Search-parameter expressions compiled once per resource type (issue 3: "extracted on write from its FHIRPath
 * expression, compiled once per type"). Nearly every R4 expression is a path with `as`, `where(resolve() is T)`,
 * `where(x = 'literal')` or an index; those become a list of steps run directly on the JSON, typed from the
 * StructureDefinitions as FHIRPath would type them. Anything else is evaluated by @medplum/core's FHIRPath engine,
 * parsed once. test/search/paths.test.ts checks the compiled form against FHIRPath on real data.
 */
import {
  AsAtom,
  DotAtom,
  EqualsAtom,
  FhirPathAtom,
  FunctionAtom,
  IndexerAtom,
  IsAtom,
  LiteralAtom,
  SymbolAtom,
  UnionAtom,
  evalFhirPathTyped,
  getElementDefinition,
  parseFhirPath,
  toTypedValue,
  type Atom,
  type TypedValue,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

/** Values of an expression for one resource (or, for composite components, for one element). */
export type Evaluator = (input: TypedValue[]) => TypedValue[];

/** A compiled resource expression and the top-level JSON keys it can read (undefined: it may read anything). */
export interface CompiledExpression {
  evaluate: Evaluator;
  keys?: readonly string[];
}

type Step =
  | { kind: 'member'; name: string; members: Map<string, Member | null> }
  | { kind: 'ofType'; type: string }
  | { kind: 'resolveIs'; type: string }
  | { kind: 'whereEquals'; name: string; value: unknown }
  | { kind: 'index'; n: number };

/** One element of a type: the JSON keys it may appear under (several for a choice `value[x]`) and their types. */
interface Member {
  keys: ReadonlyArray<readonly [string, string]>;
}

/** Root symbols that stand for the resource itself in base-resource parameters (`Resource.meta.tag`). */
const BASE_ROOTS = new Set(['Resource', 'DomainResource']);

/** Splits `A | B | C` into its branches. */
export function unionBranches(atom: Atom): Atom[] {
  return atom instanceof UnionAtom ? [...unionBranches(atom.left), ...unionBranches(atom.right)] : [atom];
}

/** The first symbol of a path (`Observation` in `Observation.code.coding`). */
export function rootSymbol(atom: Atom): string | undefined {
  if (atom instanceof SymbolAtom) return atom.name;
  if (atom instanceof DotAtom || atom instanceof AsAtom || atom instanceof IndexerAtom) return rootSymbol(atom.left);
  return undefined;
}

/** The branches of an R4 expression that apply to `resourceType` (R4 expressions list every base type's path). */
export function branchesFor(resourceType: string, expression: string): Atom[] {
  return unionBranches(parseFhirPath(expression).child).filter((branch) => {
    const root = rootSymbol(branch);
    return root === resourceType || (root !== undefined && BASE_ROOTS.has(root));
  });
}

/**
 * Compiles the branches of an expression that apply to one type into one evaluator over the resource. A branch the
 * step compiler cannot express falls back to FHIRPath for that branch alone.
 */
export function compileExpression(resourceType: string, expression: string): CompiledExpression | undefined {
  const branches = branchesFor(resourceType, expression);
  if (branches.length === 0) return undefined;
  const evaluators = branches.map((branch) => compileBranch(branch, true));
  const evaluate: Evaluator = evaluators.length === 1 ? evaluators[0] : (input) => evaluators.flatMap((e) => e(input));
  return { evaluate, keys: topLevelKeys(resourceType, branches) };
}

/**
 * The JSON keys of the resource a set of branches starts from (`Observation.value` -> valueQuantity, valueString
 * ...), so that extraction can skip a parameter whose elements the resource does not have without evaluating it.
 */
function topLevelKeys(resourceType: string, branches: Atom[]): string[] | undefined {
  const keys: string[] = [];
  for (const branch of branches) {
    const first = toSteps(branch, true)?.[0];
    if (first?.kind !== 'member') return undefined;
    const info = lookupMember(resourceType, first.name);
    if (!info) return undefined;
    keys.push(...info.keys.map(([key]) => key));
  }
  return keys;
}

/** Compiles a relative expression (a composite component such as `value.as(Quantity)`), evaluated on elements. */
export function compileRelative(expression: string): Evaluator {
  return compileBranches(unionBranches(parseFhirPath(expression).child));
}

function compileBranches(branches: Atom[]): Evaluator {
  const evaluators = branches.map((branch) => compileBranch(branch, false));
  return evaluators.length === 1 ? evaluators[0] : (input) => evaluators.flatMap((evaluate) => evaluate(input));
}

function compileBranch(branch: Atom, rooted: boolean): Evaluator {
  const steps = toSteps(branch, rooted);
  if (steps) return (input) => runSteps(steps, input);
  const atom = new FhirPathAtom(branch.toString(), branch);
  return (input) => evalFhirPathTyped(atom, input);
}

/** The steps of a simple path, or undefined when the path needs the full FHIRPath engine. */
function toSteps(atom: Atom, rooted: boolean): Step[] | undefined {
  if (atom instanceof SymbolAtom) {
    if (rooted) return [];
    return [member(atom.name)];
  }
  if (atom instanceof DotAtom) {
    const left = toSteps(atom.left, rooted);
    const right = left && toSteps(atom.right, false);
    return left && right ? [...left, ...right] : undefined;
  }
  if (atom instanceof AsAtom && atom.right instanceof SymbolAtom) {
    const left = toSteps(atom.left, rooted);
    return left && [...left, { kind: 'ofType', type: atom.right.name }];
  }
  if (atom instanceof IndexerAtom && atom.expr instanceof LiteralAtom && typeof atom.expr.value.value === 'number') {
    const left = toSteps(atom.left, rooted);
    return left && [...left, { kind: 'index', n: atom.expr.value.value }];
  }
  if (atom instanceof FunctionAtom && !rooted) return functionStep(atom);
  return undefined;
}

function member(name: string): Step {
  return { kind: 'member', name, members: new Map() };
}

function functionStep(atom: FunctionAtom): Step[] | undefined {
  const [arg] = atom.args;
  if ((atom.name === 'as' || atom.name === 'ofType') && arg instanceof SymbolAtom) return [{ kind: 'ofType', type: arg.name }];
  if (atom.name !== 'where') return undefined;
  if (arg instanceof IsAtom && arg.left instanceof FunctionAtom && arg.left.name === 'resolve' && arg.right instanceof SymbolAtom) {
    return [{ kind: 'resolveIs', type: arg.right.name }];
  }
  if (arg instanceof EqualsAtom && arg.left instanceof SymbolAtom && arg.right instanceof LiteralAtom) {
    return [{ kind: 'whereEquals', name: arg.left.name, value: arg.right.value.value }];
  }
  return undefined;
}

function runSteps(steps: readonly Step[], input: TypedValue[]): TypedValue[] {
  let current = input;
  for (const step of steps) {
    if (current.length === 0) return current;
    current = runStep(step, current);
  }
  return current;
}

function runStep(step: Step, input: TypedValue[]): TypedValue[] {
  switch (step.kind) {
    case 'member':
      return memberValues(step, input);
    case 'ofType': {
      const wanted = step.type.toLowerCase();
      return input.filter((v) => v.type.toLowerCase() === wanted);
    }
    case 'resolveIs':
      return input.filter((v) => referenceType(v.value) === step.type);
    case 'whereEquals':
      return input.filter((v) => (v.value as Record<string, unknown> | undefined)?.[step.name] === step.value);
    case 'index':
      return step.n < input.length ? [input[step.n]] : [];
  }
}

function memberValues(step: Extract<Step, { kind: 'member' }>, input: TypedValue[]): TypedValue[] {
  const out: TypedValue[] = [];
  for (const item of input) {
    const value = item.value as Record<string, unknown> | null;
    if (value === null || typeof value !== 'object') continue;
    let info = step.members.get(item.type);
    if (info === undefined) {
      info = lookupMember(item.type, step.name);
      step.members.set(item.type, info);
    }
    if (!info) continue;
    for (const [key, type] of info.keys) {
      const found = value[key];
      if (found === undefined || found === null) continue;
      if (Array.isArray(found)) {
        for (const element of found) if (element !== null && element !== undefined) out.push(typed(element, type));
      } else {
        out.push(typed(found, type));
      }
      break;
    }
  }
  return out;
}

function typed(value: unknown, type: string): TypedValue {
  if (type === 'Resource' && value && typeof value === 'object' && 'resourceType' in value) {
    return { type: String((value as Resource).resourceType), value };
  }
  return { type, value };
}

function lookupMember(type: string, name: string): Member | null {
  const element = getElementDefinition(type, name);
  if (!element?.type?.length) return null;
  const last = element.path.slice(element.path.lastIndexOf('.') + 1);
  const keys = element.type.map((t) => {
    const key = last.endsWith('[x]') ? last.replace('[x]', t.code.charAt(0).toUpperCase() + t.code.slice(1)) : last;
    return [key, t.code] as const;
  });
  return { keys };
}

const REFERENCE_TYPE = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The resource type a Reference points to, from its reference string (or its `type` for a logical reference). */
export function referenceType(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const ref = value as { reference?: unknown; type?: unknown };
  if (typeof ref.reference === 'string') return REFERENCE_TYPE.exec(ref.reference)?.[1];
  return typeof ref.type === 'string' ? ref.type : undefined;
}

/** The resource as FHIRPath input. */
export function rootInput(resource: Resource): TypedValue[] {
  return [toTypedValue(resource)];
}
