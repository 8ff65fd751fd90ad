/**
 * Evaluates compiled profile rules on a resource (or an extension). Navigation uses @medplum/core's typed property
 * access, so choice elements (`performed[x]`) resolve to the type actually sent and FHIRPath constraints see typed
 * values, as the specification's own invariants do.
 */
import { deepEquals, deepIncludes, evalFhirPathTyped, getTypedPropertyValue, toTypedValue, UCUM, type TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { CompiledProfile, ElementRule, Scope, Slicing } from './profile-rules.js';
import type { Terminology } from './terminology.js';
import { checkBinding } from './bindings.js';
import { issue } from './issues.js';

export interface Node {
  tv: TypedValue;
  /** FHIRPath location, e.g. `Procedure.extension[0]`. */
  path: string;
}

export interface ProfileCheckContext {
  terminology: Terminology;
  /** The resource being validated, for %resource / %rootResource in constraints. */
  resource: TypedValue;
  /** Named in messages: "(profile stride-timed-procedure)". */
  profile: CompiledProfile;
  out: OperationOutcomeIssue[];
}

export function checkScope(scope: Scope, nodes: Node[], ctx: ProfileCheckContext): void {
  for (const rule of scope.rules) {
    if (rule.path.length === 0) {
      for (const n of nodes) checkValue(rule, n, ctx);
      continue;
    }
    for (const parent of navigate(nodes, rule.path.slice(0, -1))) {
      const values = children(parent, rule.path[rule.path.length - 1]);
      checkCount(rule, values.length, `${parent.path}.${rule.path[rule.path.length - 1].replace('[x]', '')}`, ctx);
      for (const v of values) checkValue(rule, v, ctx);
    }
  }
  for (const slicing of scope.slicings) checkSlicing(slicing, nodes, ctx);
}

function checkCount(rule: ElementRule, count: number, where: string, ctx: ProfileCheckContext): void {
  const name = rule.id.split('.').slice(1).join('.') || rule.id;
  if (rule.min !== undefined && count < rule.min) {
    ctx.out.push(issue('error', 'required', `${where}: ${ctx.profile.name} requires at least ${rule.min} ${name}, found ${count}`, where));
  }
  if (rule.max !== undefined && count > rule.max) {
    const text = rule.max === 0 ? `${name} is not allowed by ${ctx.profile.name}` : `${ctx.profile.name} allows at most ${rule.max} ${name}, found ${count}`;
    ctx.out.push(issue('error', 'structure', `${where}: ${text}`, where));
  }
}

function checkValue(rule: ElementRule, node: Node, ctx: ProfileCheckContext): void {
  const { path } = node;
  const value = node.tv.value;
  if (rule.types && !rule.types.includes(node.tv.type)) {
    ctx.out.push(issue('error', 'structure', `${path}: ${ctx.profile.name} allows ${rule.types.join(' or ')} here, not ${node.tv.type}`, path));
    return;
  }
  if (rule.fixed !== undefined && !deepEquals(value, rule.fixed)) {
    ctx.out.push(issue('error', 'value', `${path}: ${ctx.profile.name} fixes this value to ${JSON.stringify(rule.fixed)}; found ${JSON.stringify(value)}`, path));
  }
  if (rule.pattern !== undefined && !deepIncludes(value, rule.pattern)) {
    ctx.out.push(issue('error', 'value', `${path}: ${ctx.profile.name} requires ${JSON.stringify(rule.pattern)} here; found ${JSON.stringify(value)}`, path));
  }
  if (rule.targetTypes && node.tv.type === 'Reference') checkTarget(rule.targetTypes, value, path, ctx);
  if (rule.binding) {
    const e = ctx.terminology.expand(rule.binding.valueSet);
    if (e) checkBinding(value, e, rule.binding.strength, path, ctx.out);
  }
  for (const c of rule.constraints) {
    const variables = { '%resource': ctx.resource, '%rootResource': ctx.resource, '%context': node.tv, '%ucum': toTypedValue(UCUM) };
    let ok: boolean;
    try {
      const result = evalFhirPathTyped(c.atom, [node.tv], variables);
      ok = result.length === 1 && result[0].value === true;
    } catch (err) {
      ctx.out.push(issue('error', 'processing', `${path}: constraint ${c.key} of ${ctx.profile.name} could not be evaluated: ${(err as Error).message}`, path));
      continue;
    }
    if (!ok) ctx.out.push(issue(c.severity, 'invariant', `${path}: ${c.human} (${c.key}, ${ctx.profile.name})`, path));
  }
}

function checkTarget(targets: string[], value: unknown, path: string, ctx: ProfileCheckContext): void {
  const ref = (value as { reference?: unknown })?.reference;
  if (typeof ref !== 'string') return;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(ref) ?? /^([A-Z][A-Za-z]+)\?/.exec(ref);
  if (m && !targets.includes(m[1])) {
    ctx.out.push(issue('error', 'structure', `${path}: ${ctx.profile.name} expects a reference to ${targets.join(' or ')}, not ${m[1]}`, path));
  }
}

function checkSlicing(slicing: Slicing, nodes: Node[], ctx: ProfileCheckContext): void {
  if (slicing.slices.some((s) => !s.match)) return;
  const last = slicing.path[slicing.path.length - 1];
  for (const parent of navigate(nodes, slicing.path.slice(0, -1))) {
    const values = children(parent, last);
    const members = slicing.slices.map(() => [] as Node[]);
    for (const v of values) {
      const i = slicing.slices.findIndex((s) => s.match?.every((m) => matches(v, m.path, m.value, m.exact)));
      if (i >= 0) members[i].push(v);
      else if (slicing.rules === 'closed') {
        ctx.out.push(issue('error', 'structure', `${v.path}: matches none of the slices ${ctx.profile.name} allows here (${slicing.slices.map((s) => s.name).join(', ')})`, v.path));
      }
    }
    slicing.slices.forEach((slice, i) => {
      const where = `${parent.path}.${last}`;
      const rule: ElementRule = { id: `${slice.name}`, path: [last], min: slice.min, max: slice.max, constraints: [] };
      checkCount(rule, members[i].length, where, ctx);
      for (const m of members[i]) checkValue(slice.self, m, ctx);
      checkScope(slice.scope, members[i], ctx);
    });
  }
}

function matches(node: Node, path: string[], value: unknown, exact: boolean): boolean {
  const found = navigate([node], path);
  return found.some((f) => (exact ? deepEquals(f.tv.value, value) : deepIncludes(f.tv.value, value)));
}

export function navigate(nodes: Node[], path: string[]): Node[] {
  let current = nodes;
  for (const segment of path) current = current.flatMap((n) => children(n, segment));
  return current;
}

/** The values of one element of a node, with their FHIRPath locations (`performed[x]` -> `performedPeriod`). */
export function children(node: Node, segment: string): Node[] {
  const choice = segment.endsWith('[x]');
  const name = choice ? segment.slice(0, -3) : segment;
  const got = getTypedPropertyValue(node.tv, name);
  if (got === undefined) return [];
  const list = Array.isArray(got) ? got : [got];
  const key = (tv: TypedValue): string => (choice ? name + tv.type[0].toUpperCase() + tv.type.slice(1) : name);
  if (!Array.isArray(got)) return list.filter((tv) => tv.value !== undefined).map((tv) => ({ tv, path: `${node.path}.${key(tv)}` }));
  return list.map((tv, i) => ({ tv, path: `${node.path}.${key(tv)}[${i}]` }));
}
