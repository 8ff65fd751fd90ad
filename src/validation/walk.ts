/**
 * One pass over the JSON of a resource for the checks that the structure layer (@medplum/core) does not make:
 * empty arrays (R4 json.html: arrays are never empty), resource ids (datatypes.html#id), contained resources that
 * nothing references (dom-3) and `#id` references that match no contained resource, required bindings, HTML in
 * markdown, literal reference formats, and every extension (extensibility.html). Each resource type's plan
 * (plan.ts) says which keys carry a check; other keys are only walked.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { FieldPlan, Plans, TypePlan } from './plan.js';
import { checkBinding } from './bindings.js';
import { checkReference, checkTargetType } from './references.js';
import { primitiveProblem } from './primitives.js';
import { checkNarrative } from './narrative.js';
import { checkDatatype, hasDatatypeRule } from './datatypes.js';
import { issue } from './issues.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** A start or end tag: `<b>`, `</div>`, `<a href="x">`, `<resource type>`. */
const HTML_TAG = /<\/?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?\/?>/;

/** Where an extension sits: the datatype or backbone type holding it and its element path, for context checks. */
export interface ExtensionHolder {
  type?: string;
  element: string;
}

export interface WalkDeps {
  plans: Plans;
  isResourceType(type: string): boolean;
  checkExtension(ext: Record<string, unknown>, path: string, holder: ExtensionHolder, modifier: boolean, out: OperationOutcomeIssue[]): void;
  /** Report what R4 says SHOULD not be (a string's leading or trailing whitespace) as warnings ($validate only). */
  advice?: boolean;
}

/** A resource met inside another (contained, Bundle.entry.resource, Parameters.parameter.resource). */
export interface NestedResource {
  resource: Resource;
  path: string;
}

interface Frame {
  containedIds: Set<string>;
  /** Every string starting with '#' seen in this resource: what dom-3 needs. */
  hashes: Set<string>;
}

export class Walker {
  readonly nested: NestedResource[] = [];

  constructor(
    private readonly deps: WalkDeps,
    private readonly out: OperationOutcomeIssue[],
  ) {}

  walkResource(resource: Resource, path: string, container?: Frame): Frame {
    const r = resource as unknown as Record<string, unknown>;
    if (r.id !== undefined && (typeof r.id !== 'string' || !ID.test(r.id))) {
      this.out.push(issue('error', 'invalid', `${path}.id: ${JSON.stringify(r.id)} is not a valid resource id: 1-64 letters, digits, "-" or "."`, `${path}.id`));
    }
    const frame: Frame = { containedIds: container?.containedIds ?? containedIds(r.contained), hashes: new Set() };
    this.walkObject(r, this.deps.plans.planFor(resource.resourceType), path, frame, { type: resource.resourceType, element: resource.resourceType });
    if (!container && Array.isArray(r.contained)) this.checkContainedReferenced(r.contained, path, frame);
    return frame;
  }

  private walkObject(obj: Record<string, unknown>, plan: TypePlan | undefined, path: string, frame: Frame, holder: ExtensionHolder): void {
    for (const key in obj) {
      if (key === 'resourceType') continue;
      const value = obj[key];
      const childPath = `${path}.${key}`;
      const field = plan?.fields.get(key);
      if (Array.isArray(value)) {
        if (value.length === 0) {
          this.out.push(issue('error', 'invalid', `${childPath}: an array cannot be empty; leave the element out when it has no values`, childPath));
          continue;
        }
        for (let i = 0; i < value.length; i++) this.walkValue(value[i], key, field, `${childPath}[${i}]`, frame, plan);
      } else {
        this.walkValue(value, key, field, childPath, frame, plan);
      }
      if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const ext = value[i];
          if (ext && typeof ext === 'object') this.deps.checkExtension(ext as Record<string, unknown>, `${childPath}[${i}]`, holder, key === 'modifierExtension', this.out);
        }
      }
    }
  }

  private walkValue(value: unknown, key: string, field: FieldPlan | undefined, path: string, frame: Frame, parent: TypePlan | undefined): void {
    if (value === '') {
      // R4 json.html: a string is never empty.
      this.out.push(issue('error', 'structure', `${path}: an empty string is not a value; leave the element out when it has none`, path));
      return;
    }
    if (value !== null && typeof value !== 'object' && field && !field.primitive) {
      // @medplum/core's structure check lets a string, number or boolean stand where an object belongs (name: [1]).
      this.out.push(issue('error', 'structure', `${path}: ${JSON.stringify(value)} is not a ${field.type}: ${field.element} takes an object`, path));
      return;
    }
    if (field?.valueOk && !field.valueOk(value)) {
      const problem = primitiveProblem(field.type, value);
      if (problem) this.out.push(issue('error', 'value', `${path}: ${problem}`, path));
    }
    if (typeof value === 'string') {
      if (value.charCodeAt(0) === 35 /* # */) frame.hashes.add(value);
      if (this.deps.advice && field && STRING_TYPES.has(field.type) && value.trim() !== value) {
        // R4 datatypes.html#string: "Leading and Trailing whitespace is allowed, but SHOULD be removed when using the
        // XML format"; the reference validator warns for every format.
        this.out.push(issue('warning', 'value', `${path}: the ${field.type} starts or ends with whitespace, which SHOULD be removed`, path));
      }
      if (field?.checks.length) this.runChecks(field, value, path, frame);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    // Two shapes @medplum/core's structure check lets through, which would reach the search index as garbage: an
    // empty object (R4 json.html: objects are never empty), and an object where a primitive belongs (code: {...}).
    if (isEmptyObject(obj)) {
      this.out.push(issue('error', 'structure', `${path}: an element cannot be an empty object; leave it out when it has no value`, path));
      return;
    }
    if (field?.primitive && key.charCodeAt(0) !== 95 /* _ */) {
      this.out.push(issue('error', 'structure', `${path}: ${field.element} is a ${primitiveName(field.type)}, not an object`, path));
      return;
    }
    if (typeof obj.resourceType === 'string' && (key === 'contained' || key === 'resource' || field?.type === 'Resource')) {
      this.walkNested(obj as unknown as Resource, key, path, frame);
      return;
    }
    if (field?.checks.length) this.runChecks(field, value, path, frame);
    if (field && hasDatatypeRule(field.type)) checkDatatype(field.type, obj, path, this.out);
    if (key.charCodeAt(0) === 95 /* _ */) {
      // A primitive's id and extensions (R4 json.html#primitive): the holder is the primitive element.
      const name = key.slice(1);
      const primitive = parent?.fields.get(name);
      const element = parent ? `${parent.path}.${name}` : path;
      this.walkObject(obj, this.deps.plans.planFor('Element'), path, frame, { type: primitive?.type, element });
      return;
    }
    const plan = field ? this.deps.plans.planFor(field.type) : undefined;
    this.walkObject(obj, plan, path, frame, { type: field?.type, element: field?.element ?? path });
  }

  private walkNested(resource: Resource, key: string, path: string, frame: Frame): void {
    if (key === 'contained') {
      const inner = this.walkResource(resource, path, frame);
      for (const h of inner.hashes) frame.hashes.add(h);
      // A contained resource that points at its container ('#') satisfies dom-3 on its own.
      if (inner.hashes.has('#')) frame.hashes.add(`#${resource.id}`);
      return;
    }
    this.walkResource(resource, path);
    if (resource.meta?.profile?.length) this.nested.push({ resource, path });
  }

  private runChecks(field: FieldPlan, value: unknown, path: string, frame: Frame): void {
    for (const check of field.checks) {
      if (check.kind === 'binding') checkBinding(value, check.expansion, 'required', path, this.out, true);
      else if (check.kind === 'markdown') checkMarkdown(value, path, this.out);
      else if (check.kind === 'xhtml') {
        if (typeof value === 'string') checkNarrative(value, path, this.out);
      }
      else {
        const ref = (value as { reference?: unknown }).reference;
        if (typeof ref !== 'string') continue;
        const before = this.out.length;
        checkReference(ref, `${path}.reference`, { isResourceType: this.deps.isResourceType, containedIds: frame.containedIds }, this.out);
        if (field.targets && this.out.length === before) checkTargetType(ref, `${path}.reference`, field.element, field.targets, this.out);
      }
    }
  }

  /** dom-3: a contained resource SHALL be referenced from elsewhere in the resource, or reference its container. */
  private checkContainedReferenced(contained: unknown[], path: string, frame: Frame): void {
    contained.forEach((c, i) => {
      const id = (c as { id?: unknown })?.id;
      if (typeof id !== 'string' || frame.hashes.has(`#${id}`)) return;
      const where = `${path}.contained[${i}]`;
      this.out.push(issue('error', 'invariant', `${where}: contained resource "${id}" is not referenced from the rest of the resource (dom-3); reference it as "#${id}" or do not contain it`, where));
    });
  }
}

const SYSTEM_TYPE = 'http://hl7.org/fhirpath/System.';
const STRING_TYPES = new Set(['string', 'markdown']);

/** `string` for the FHIRPath system type the definitions give `id` and `Extension.url`. */
function primitiveName(type: string): string {
  return type.startsWith(SYSTEM_TYPE) ? type.slice(SYSTEM_TYPE.length).toLowerCase() : type;
}

function isEmptyObject(obj: Record<string, unknown>): boolean {
  if (Array.isArray(obj)) return false;
  for (const _key in obj) return false;
  return true;
}

function containedIds(contained: unknown): Set<string> {
  const ids = new Set<string>();
  if (Array.isArray(contained)) for (const c of contained) if (typeof c?.id === 'string') ids.add(c.id);
  return ids;
}

function checkMarkdown(value: unknown, path: string, out: OperationOutcomeIssue[]): void {
  if (typeof value !== 'string') return;
  const m = HTML_TAG.exec(value);
  if (m) {
    out.push(issue('error', 'invalid', `${path}: markdown must not contain HTML, and "${m[0]}" looks like an HTML tag; escape the "<" as "\\<" or reword it`, path));
  }
}
