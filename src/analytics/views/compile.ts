/**
 * A ViewDefinition compiled once into a function from one resource to its rows (SQL on FHIR v2, Processing
 * Algorithm): `where` decides whether a resource is in the view; each select yields partial rows for the node it is
 * given (forEach / forEachOrNull / repeat give one per node they reach), nested selects and the unionAll are cross
 * joined with the select's own columns, and sibling selects with each other. Everything the runner streams, and
 * anything that keeps a table current resource by resource (a materialised view), calls `rows(resource)`.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../../fhir/outcomes.js';
import { compileFhirPath, usesBoundary, type Evaluator } from './fhirpath.js';
import { constantLiteral, substituteConstants } from './constants.js';
import { compileFastPath } from './fast-path.js';
import { checkView, Issues } from './validate.js';
import type { CellValue, ColumnInfo, Row, ViewDefinition, ViewSelect } from './types.js';

export interface CompiledView {
  readonly view: ViewDefinition;
  readonly resourceType: string;
  readonly columns: readonly ColumnInfo[];
  /** Some expression needs decimals' written precision: parse resources with parseKeepingDecimals. */
  readonly keepsDecimalText: boolean;
  /** The rows a resource gives: none when it is of another type or a `where` leaves it out. */
  rows(resource: { resourceType: string; id?: string }): Row[];
}

/** The FHIR primitive types: any other declared type (or none) for a complex value is an error of the view. */
const PRIMITIVES = new Set([
  'boolean', 'integer', 'integer64', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary', 'instant', 'date',
  'dateTime', 'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid', 'xhtml',
]);

interface ColumnPlan extends ColumnInfo {
  path: string;
  evaluate: Evaluator;
}

interface SelectPlan {
  kind: 'plain' | 'forEach' | 'forEachOrNull' | 'repeat';
  iterate: Evaluator[];
  /** The iteration's expressions as written, for error messages. */
  iteratePaths: string[];
  columns: ColumnPlan[];
  selects: SelectPlan[];
  union: SelectPlan[];
  width: number;
}

interface Scope {
  resource: unknown;
  /** The resource's `Type/id`, for error messages. */
  label: string;
}

/** A problem found while a valid view runs on a resource (a column with several values, a non-boolean where). */
export class ViewRunError extends OperationOutcomeError {
  constructor(text: string, expression?: string) {
    super(unprocessable(text, expression));
  }
}

/** Refuses an invalid view with every problem found (400, one issue each, `expression` naming the element). */
export function invalidView(issues: OperationOutcomeIssue[]): OperationOutcomeError {
  const outcome: OperationOutcome = badRequest(`The ViewDefinition is not valid: ${issues.length} problem(s)`);
  outcome.issue = issues;
  return new OperationOutcomeError(outcome);
}

/** Validates and compiles a view; throws invalidView(...) when it is not valid. */
export function compileView(json: unknown, options: { stored?: boolean } = {}): CompiledView {
  const built = buildView(json, options.stored ?? false);
  if (!built.view) throw invalidView(built.issues);
  return built.view;
}

/** Every problem of a view, its structure's and its FHIRPath's (empty when it is valid): what validation reports. */
export function viewIssues(json: unknown, stored: boolean): OperationOutcomeIssue[] {
  return buildView(json, stored).issues;
}

function buildView(json: unknown, stored: boolean): { issues: OperationOutcomeIssue[]; view?: CompiledView } {
  const checked = checkView(json, stored);
  if (checked.issues.length > 0) return { issues: checked.issues };
  const view = json as ViewDefinition;
  const compiler = new Compiler(view);
  const selects = view.select.map((s, i) => compiler.select(s, `ViewDefinition.select[${i}]`));
  const where = (view.where ?? []).map((w, i) => ({ path: w.path, evaluate: compiler.expression(w.path, `ViewDefinition.where[${i}].path`) }));
  if (compiler.issues.list.length > 0) return { issues: compiler.issues.list };
  const resourceType = view.resource;
  const compiled: CompiledView = {
    view,
    resourceType,
    columns: checked.columns,
    keepsDecimalText: compiler.boundaries,
    rows(resource) {
      if (resource.resourceType !== resourceType) return [];
      const scope: Scope = { resource, label: `${resource.resourceType}/${resource.id ?? '(no id)'}` };
      for (const w of where) if (!passes(w.evaluate, w.path, scope)) return [];
      return product(selects.map((s) => evalSelect(s, resource, 0, scope)));
    },
  };
  return { issues: [], view: compiled };
}

class Compiler {
  readonly issues = new Issues();
  boundaries = false;
  private readonly literals: Map<string, string>;

  constructor(private readonly view: ViewDefinition) {
    this.literals = new Map((view.constant ?? []).map((c) => [c.name, constantLiteral(c)]));
  }

  expression(text: string, at: string, nodes = false): Evaluator {
    const { expression, undefinedNames } = substituteConstants(text, this.literals);
    for (const name of undefinedNames) this.issues.add(at, `%${name} is not a constant of this view (constants: ${[...this.literals.keys()].join(', ') || 'none'})`, 'not-found');
    if (usesBoundary(expression)) this.boundaries = true;
    try {
      const general = compileFhirPath(expression, { nodes });
      // On the resource itself, a plain path is a walk of its JSON (fast-path.ts); anything else goes to fhirpath.js.
      const fast = nodes ? undefined : compileFastPath(expression, this.view.resource);
      return fast ? (input, env) => (input === env.resource ? fast(input as Record<string, unknown>) : general(input, env)) : general;
    } catch (err) {
      this.issues.add(at, `"${text}" is not valid FHIRPath: ${firstLine((err as Error).message)}`, 'invalid');
      return () => [];
    }
  }

  select(select: ViewSelect, at: string): SelectPlan {
    const kind = select.forEach !== undefined ? 'forEach' : select.forEachOrNull !== undefined ? 'forEachOrNull' : select.repeat !== undefined ? 'repeat' : 'plain';
    const iterate =
      kind === 'repeat'
        ? (select.repeat ?? []).map((p, i) => this.expression(p, `${at}.repeat[${i}]`, true))
        : kind === 'plain'
          ? []
          : [this.expression(select[kind] as string, `${at}.${kind}`, true)];
    const iteratePaths = kind === 'repeat' ? (select.repeat ?? []) : kind === 'plain' ? [] : [select[kind] as string];
    const columns = (select.column ?? []).map((c, i) => ({
      name: c.name,
      type: c.type,
      collection: c.collection === true,
      path: c.path,
      evaluate: this.expression(c.path, `${at}.column[${i}].path`),
    }));
    const selects = (select.select ?? []).map((s, i) => this.select(s, `${at}.select[${i}]`));
    const union = (select.unionAll ?? []).map((s, i) => this.select(s, `${at}.unionAll[${i}]`));
    const width = columns.length + selects.reduce((n, s) => n + s.width, 0) + (union[0]?.width ?? 0);
    return { kind, iterate, iteratePaths, columns, selects, union, width };
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}

function run(evaluate: Evaluator, input: unknown, rowIndex: number, scope: Scope, path: string): unknown[] {
  try {
    return evaluate(input, { rowIndex, resource: scope.resource, rootResource: scope.resource });
  } catch (err) {
    throw new ViewRunError(`Evaluating "${path}" on ${scope.label} failed: ${firstLine((err as Error).message)}`, path);
  }
}

/** A where keeps the resource when its path is true; empty or false leave it out; anything else is an error. */
function passes(evaluate: Evaluator, path: string, scope: Scope): boolean {
  const result = run(evaluate, scope.resource, 0, scope, path);
  if (result.length === 0) return false;
  if (result.length === 1 && typeof result[0] === 'boolean') return result[0];
  throw new ViewRunError(`The where path "${path}" gave ${describe(result)} for ${scope.label}; a where path must give a boolean`, path);
}

function describe(values: unknown[]): string {
  const text = JSON.stringify(values.length === 1 ? values[0] : values);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Rows of one select for one node: its iteration's nodes each processed, `%rowIndex` their position in it. */
function evalSelect(plan: SelectPlan, focus: unknown, rowIndex: number, scope: Scope): Row[] {
  if (plan.kind === 'plain') return processSelect(plan, focus, rowIndex, scope);
  const nodes = plan.kind === 'repeat' ? repeatNodes(plan, focus, scope) : run(plan.iterate[0], focus, rowIndex, scope, plan.iteratePaths[0]);
  const rows: Row[] = [];
  nodes.forEach((node, i) => rows.push(...processSelect(plan, node, i, scope)));
  if (rows.length === 0 && plan.kind === 'forEachOrNull' && nodes.length === 0) {
    // Evaluated on nothing, as a reference runner does (%rowIndex is 0 there, paths are empty): at least one row.
    const empty = processSelect(plan, [], 0, scope);
    return empty.length > 0 ? empty : [new Array<CellValue>(plan.width).fill(null)];
  }
  return rows;
}

/** repeat: every node the paths reach from the focus, then from each node reached, depth first, in document order. */
function repeatNodes(plan: SelectPlan, focus: unknown, scope: Scope): unknown[] {
  const out: unknown[] = [];
  const visit = (node: unknown, depth: number): void => {
    if (depth > 64) throw new ViewRunError(`repeat went deeper than 64 levels in ${scope.label}`);
    for (const [i, path] of plan.iterate.entries()) {
      for (const child of run(path, node, 0, scope, plan.iteratePaths[i])) {
        out.push(child);
        visit(child, depth + 1);
      }
    }
  };
  visit(focus, 0);
  return out;
}

function processSelect(plan: SelectPlan, focus: unknown, rowIndex: number, scope: Scope): Row[] {
  const parts: Row[][] = [];
  if (plan.columns.length > 0) parts.push([plan.columns.map((c) => cell(c, run(c.evaluate, focus, rowIndex, scope, c.path), scope))]);
  for (const s of plan.selects) parts.push(evalSelect(s, focus, rowIndex, scope));
  if (plan.union.length > 0) parts.push(plan.union.flatMap((u) => evalSelect(u, focus, rowIndex, scope)));
  return product(parts);
}

/** The cross join of partial rows, earlier parts varying fastest (the order of the reference runner's rows). */
function product(parts: Row[][]): Row[] {
  if (parts.length === 1) return parts[0];
  let rows: Row[] = [[]];
  for (const part of parts) {
    const next: Row[] = [];
    for (const p of part) for (const r of rows) next.push(r.concat(p));
    rows = next;
  }
  return rows;
}

/**
 * One value per column unless the column is a collection, checked on each row's values rather than from the elements'
 * cardinality: `name.where(use = 'official').family` is a valid column though `name` repeats (conformance fhirpath.json).
 */
function cell(column: ColumnPlan, values: unknown[], scope: Scope): CellValue {
  if (column.collection) return values.map((v) => value(column, v, scope));
  if (values.length === 0) return null;
  if (values.length > 1) {
    throw new ViewRunError(
      `Column "${column.name}" (${column.path}) gave ${values.length} values for ${scope.label}: set "collection": true on the column, or narrow the path (first(), where(...))`,
      column.path,
    );
  }
  return value(column, values[0], scope);
}

function value(column: ColumnPlan, v: unknown, scope: Scope): CellValue {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v !== null && typeof v === 'object' && (column.type === undefined || PRIMITIVES.has(column.type))) {
    throw new ViewRunError(
      `Column "${column.name}" (${column.path}) gave a complex value for ${scope.label} (${describe([v])}): give its FHIR type in "type" (e.g. "Quantity") or select a primitive inside it`,
      column.path,
    );
  }
  return v as CellValue;
}
