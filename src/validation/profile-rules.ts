/**
 * Compiles a profile (or an extension definition) into the rules its differential adds to the base type: cardinality,
 * fixed/pattern values, choice-type restrictions, reference target types, bindings, FHIRPath constraints (parsed once
 * here), and slices with their own rules (R4 profiling.html). Base-type rules are not repeated: the structure layer
 * has already checked them.
 */
import { parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

export interface CompiledConstraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression: string;
  atom: FhirPathAtom;
}

export interface ElementRule {
  id: string;
  /** Path relative to the scope node; [] is the node itself. A choice element ends in `[x]`. */
  path: string[];
  min?: number;
  max?: number;
  /** Allowed types for a choice element. */
  types?: string[];
  /** Resource types a Reference may point to (from targetProfile on base resources). */
  targetTypes?: string[];
  fixed?: unknown;
  pattern?: unknown;
  binding?: { strength: 'required' | 'extensible'; valueSet: string };
  constraints: CompiledConstraint[];
}

export interface SliceMatch {
  path: string[];
  value: unknown;
  exact: boolean;
}

export interface Slice {
  name: string;
  min?: number;
  max?: number;
  /** What a member must carry to belong to the slice; undefined when the discriminator is not supported. */
  match?: SliceMatch[];
  self: ElementRule;
  scope: Scope;
  profiles: string[];
}

export interface Slicing {
  path: string[];
  rules: 'open' | 'closed' | 'openAtEnd';
  discriminators: { type: string; path: string }[];
  slices: Slice[];
}

export interface Scope {
  rules: ElementRule[];
  slicings: Slicing[];
}

export interface CompiledProfile {
  url: string;
  name: string;
  /** The resource type (or `Extension`) the profile constrains. */
  type: string;
  root: Scope;
  /** Where an extension may be used (StructureDefinition.context), for extension definitions. */
  contexts: string[];
  /** An extension definition whose root element says isModifier: it belongs in modifierExtension. */
  isModifier?: boolean;
}

export function compileProfile(sd: StructureDefinition): CompiledProfile {
  const diff = sd.differential?.element ?? [];
  const rootId = diff[0]?.id?.split('.')[0] ?? sd.type;
  const root: Scope = { rules: [], slicings: [] };
  const scopes = new Map<string, Scope>([[rootId, root]]);
  for (const el of diff) {
    const id = el.id ?? el.path;
    const segments = id.split('.');
    if (el.sliceName && segments[segments.length - 1].includes(':')) {
      addSlice(el, segments, scopes, sd.url);
      continue;
    }
    const { scope, rel } = locate(segments, scopes);
    if (el.slicing) slicingAt(scope, rel, el);
    const rule = compileRule(el, rel, sd.url);
    if (hasContent(rule)) scope.rules.push(rule);
  }
  for (const scope of scopes.values()) for (const slicing of scope.slicings) resolveMatches(slicing);
  // Only element contexts are checked; an extension-or-FHIRPath context leaves the extension allowed anywhere.
  const contexts = sd.context?.every((c) => c.type === 'element') ? sd.context.map((c) => c.expression) : [];
  const isModifier = (sd.snapshot?.element?.[0] ?? diff[0])?.isModifier === true;
  return { url: sd.url, name: sd.name ?? sd.title ?? sd.url, type: sd.type, root, contexts, isModifier };
}

function addSlice(el: ElementDefinition, segments: string[], scopes: Map<string, Scope>, url: string): void {
  const { scope, rel } = locate(segments.slice(0, -1), scopes);
  const last = segments[segments.length - 1];
  const slicing = slicingAt(scope, [...rel, last.split(':')[0]]);
  const slice: Slice = {
    name: el.sliceName as string,
    min: el.min,
    max: parseMax(el.max),
    self: compileRule({ ...el, min: undefined, max: undefined }, [], url),
    scope: { rules: [], slicings: [] },
    profiles: (el.type ?? []).flatMap((t) => t.profile ?? []),
  };
  slicing.slices.push(slice);
  scopes.set(segments.join('.'), slice.scope);
}

/** The innermost scope (root or slice) an element id lies in, and the element's path relative to it. */
function locate(segments: string[], scopes: Map<string, Scope>): { scope: Scope; rel: string[] } {
  for (let n = segments.length; n >= 1; n--) {
    const scope = scopes.get(segments.slice(0, n).join('.'));
    if (scope) return { scope, rel: segments.slice(n).map((s) => s.split(':')[0]) };
  }
  throw new Error(`element ${segments.join('.')} lies outside the profile`);
}

function slicingAt(scope: Scope, path: string[], el?: ElementDefinition): Slicing {
  let slicing = scope.slicings.find((s) => s.path.join('.') === path.join('.'));
  if (!slicing) {
    // Extensions are sliced by url even when the differential does not say so (R4 profiling.html#slicing).
    slicing = { path, rules: 'open', discriminators: [{ type: 'value', path: 'url' }], slices: [] };
    scope.slicings.push(slicing);
  }
  if (el?.slicing) {
    slicing.rules = el.slicing.rules ?? 'open';
    slicing.discriminators = (el.slicing.discriminator ?? []).map((d) => ({ type: d.type, path: d.path }));
  }
  return slicing;
}

function compileRule(el: ElementDefinition, path: string[], source: string): ElementRule {
  const rule: ElementRule = { id: el.id ?? el.path, path, constraints: [] };
  if (el.min !== undefined && path.length > 0) rule.min = el.min;
  const max = parseMax(el.max);
  if (max !== undefined && path.length > 0) rule.max = max;
  const last = path[path.length - 1];
  if (el.type?.length && last?.endsWith('[x]')) rule.types = el.type.map((t) => t.code);
  const targets = (el.type ?? []).flatMap((t) => t.targetProfile ?? []);
  if (targets.length) rule.targetTypes = targets.map(baseTypeOf).filter((t): t is string => !!t);
  if (rule.targetTypes?.length !== targets.length) delete rule.targetTypes;
  for (const [key, value] of Object.entries(el)) {
    if (key.startsWith('fixed')) rule.fixed = value;
    if (key.startsWith('pattern')) rule.pattern = value;
  }
  const strength = el.binding?.strength;
  if ((strength === 'required' || strength === 'extensible') && el.binding?.valueSet) rule.binding = { strength, valueSet: el.binding.valueSet };
  for (const c of el.constraint ?? []) {
    if (!c.expression || !c.key) continue;
    try {
      rule.constraints.push({ key: c.key, severity: c.severity === 'warning' ? 'warning' : 'error', human: c.human ?? c.key, expression: c.expression, atom: parseFhirPath(c.expression) });
    } catch (err) {
      throw new Error(`${source}: constraint ${c.key} has an invalid FHIRPath expression: ${(err as Error).message}`);
    }
  }
  return rule;
}

/** Only targetProfiles on base resource definitions narrow the type; another profile's url leaves any type allowed. */
function baseTypeOf(url: string): string | undefined {
  const m = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/([A-Z][A-Za-z]+)$/.exec(url);
  return m?.[1];
}

function parseMax(max: string | undefined): number | undefined {
  if (max === undefined || max === '*') return undefined;
  const n = Number(max);
  return Number.isInteger(n) ? n : undefined;
}

function hasContent(r: ElementRule): boolean {
  return r.min !== undefined || r.max !== undefined || !!r.types || !!r.targetTypes || r.fixed !== undefined || r.pattern !== undefined || !!r.binding || r.constraints.length > 0;
}

/** value/pattern discriminators resolve to the fixed or pattern value the slice sets at the discriminator path. */
function resolveMatches(slicing: Slicing): void {
  for (const slice of slicing.slices) {
    const matches: SliceMatch[] = [];
    for (const d of slicing.discriminators) {
      if (d.type !== 'value' && d.type !== 'pattern') return;
      const path = d.path === '$this' ? [] : d.path.split('.');
      const rule = path.length === 0 ? slice.self : slice.scope.rules.find((r) => r.path.join('.') === path.join('.'));
      if (rule?.fixed !== undefined) matches.push({ path, value: rule.fixed, exact: true });
      else if (rule?.pattern !== undefined) matches.push({ path, value: rule.pattern, exact: false });
      else if (d.path === 'url' && slice.profiles.length === 1) matches.push({ path, value: slice.profiles[0], exact: true });
      else return;
    }
    slice.match = matches;
  }
}
