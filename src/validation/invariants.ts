/**
 * The specification's invariants (R4 conformance-rules.html#constraints: "the constraint SHALL be true"), all of
 * them, wherever their element occurs: the constraints of each element (`Bundle.entry` bdl-5), of the datatype a value
 * has (Period per-1, Quantity qty-3, Timing tim-1..10, Attachment att-1, Reference ref-1, Extension ext-1 ...: the
 * R4 snapshots do not repeat these on the elements that use the type, and @medplum/core's validateResource
 * evaluates only the former), and of every resource, including contained ones and Bundle entries. Each failing
 * invariant is one issue (validateResource stops at the first per element; the Java validator reports each).
 *
 * FHIRPath semantics are fhirpath.ts's (precision-aware date comparison, whole-string matches). Variables follow
 * R4 fhirpath.html#variables: %resource is the resource that holds the element (a contained resource for its own
 * elements), %rootResource its container when it is contained, else %resource itself.
 *
 * Left to other layers, with their own findings: ele-1 (empty values: walk.ts), dom-3 (contained resources
 * referenced: walk.ts), ref-1 (a `#id` reference names a contained resource: references.ts; R4's expression is empty,
 * so failing, on a Reference that has no `reference`, which the reference validator accepts) and txt-1/txt-2
 * (`htmlChecks()`: narrative.ts). Warning-severity invariants (best practice,
 * dom-6 "should have narrative") are evaluated only when asked for ($validate), never on writes.
 */
import { parseFhirPath, toTypedValue, tryGetDataType, UCUM, type InternalSchemaElement, type TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { compileFhirPath, holds } from './fhirpath.js';
import { contextMembers, holdsAny } from './invariant-keys.js';
import { isPrimitive } from './plan.js';
import { issue } from './issues.js';

type Atom = ReturnType<typeof compileFhirPath>;

interface Invariant {
  key: string;
  human: string;
  severity: 'error' | 'warning';
  atom: Atom;
  /** The members of its context it reads (invariant-keys.ts); undefined when it may read more. */
  members: readonly string[] | undefined;
  /** `_name` for each member: a primitive member may be present only as its extensions. */
  underscored: readonly string[];
  /** Its value on an empty element of a type, for values that hold none of `members`. */
  whenAbsent: Map<string, boolean>;
  /** Per context type: none of `members` is a choice element there, so `in` tells whether one is present. */
  direct: Map<string, boolean>;
}

interface Field {
  type: string;
  /** A primitive type: nothing below it to walk. */
  primitive: boolean;
  /** The element's own constraints and, for a complex type, its type's, without repeats. */
  invariants: Invariant[];
}

interface TypeInvariants {
  fields: Map<string, Field>;
  root: Invariant[];
}

/**
 * Evaluated elsewhere (see the module comment), and the best-practice recommendations (dom-6 "A resource should have
 * narrative", con-3), which R4 flags with the elementdefinition-bestpractice extension and the reference validator
 * leaves out of its warnings by default.
 */
const ELSEWHERE = new Set(['ele-1', 'dom-3', 'ref-1', 'txt-1', 'txt-2', 'dom-6', 'con-3']);
const plans = new Map<string, TypeInvariants | null>();
const compiled = new Map<string, Invariant>();
const ucum = toTypedValue(UCUM);
/** `_name`: a primitive's Element (id, extension), walked as an Element. */
const ELEMENT_FIELD: Field = { type: 'Element', primitive: false, invariants: [] };

export interface InvariantOptions {
  /** Also report warning-severity invariants (as warnings). */
  warnings?: boolean;
}

export function checkInvariants(resource: Resource, out: OperationOutcomeIssue[], options: InvariantOptions = {}): void {
  new InvariantWalk(out, options.warnings === true).resource(resource as unknown as Record<string, unknown>, resource.resourceType, undefined);
}

class InvariantWalk {
  private variables: Record<string, TypedValue> = {};

  constructor(
    private readonly out: OperationOutcomeIssue[],
    private readonly warnings: boolean,
  ) {}

  resource(value: Record<string, unknown>, path: string, container: TypedValue | undefined): void {
    const type = value.resourceType;
    if (typeof type !== 'string') return;
    const plan = planOf(type);
    if (!plan) return;
    const saved = this.variables;
    const self: TypedValue = { type, value };
    this.variables = { '%resource': self, '%rootResource': container ?? self, '%ucum': ucum };
    this.evaluate(plan.root, self, path);
    this.object(value, plan, path, self);
    this.variables = saved;
  }

  /** Paths are built only for the members that have something to evaluate: most primitives have nothing. */
  private object(obj: Record<string, unknown>, plan: TypeInvariants, path: string, resource: TypedValue): void {
    for (const key in obj) {
      if (key === 'resourceType') continue;
      const value = obj[key];
      let field: Field | undefined;
      if (key.charCodeAt(0) === 95 /* _ */) {
        // A primitive's id and extensions (R4 json.html#primitive): Element's members.
        field = ELEMENT_FIELD;
      } else {
        field = plan.fields.get(key);
        if (!field || (field.invariants.length === 0 && field.primitive)) continue;
      }
      if (Array.isArray(value)) for (let i = 0; i < value.length; i++) this.item(value[i], field, `${path}.${key}[${i}]`, resource);
      else this.item(value, field, `${path}.${key}`, resource);
    }
  }

  private item(item: unknown, field: Field, path: string, resource: TypedValue): void {
    if (item === null || item === undefined) return;
    if (field.type === 'Resource') {
      if (typeof item === 'object' && !Array.isArray(item)) {
        // A contained resource's %rootResource is its container; a Bundle entry or parameter stands alone.
        const contained = path.endsWith(']') ? /\.contained\[\d+\]$/.test(path) : path.endsWith('.contained');
        this.resource(item as Record<string, unknown>, path, contained ? this.variables['%rootResource'] : undefined);
      }
      return;
    }
    if (field.invariants.length) this.evaluate(field.invariants, { type: field.type, value: item }, path);
    if (typeof item !== 'object' || Array.isArray(item) || field.primitive) return;
    const plan = planOf(field.type);
    if (plan) this.object(item as Record<string, unknown>, plan, path, resource);
  }

  private evaluate(invariants: readonly Invariant[], value: TypedValue, path: string): void {
    const v = this.variables;
    for (const inv of invariants) {
      if (inv.severity === 'warning' && !this.warnings) continue;
      let ok: boolean;
      try {
        if (inv.members && typeof value.value === 'object' && value.value !== null && lacks(inv, inv.members, value.type, value.value as Record<string, unknown>)) {
          const known = inv.whenAbsent.get(value.type);
          ok = known ?? holds(inv.atom, { type: value.type, value: {} }, { ...v, '%context': { type: value.type, value: {} } });
          if (known === undefined) inv.whenAbsent.set(value.type, ok);
        } else {
          v['%context'] = value;
          ok = holds(inv.atom, value, v);
        }
      } catch (err) {
        this.out.push(issue('error', 'processing', `${path}: invariant ${inv.key} could not be evaluated (${(err as Error).message}); ${inv.human}`, path));
        continue;
      }
      if (!ok) this.out.push(issue(inv.severity, 'invariant', `${path}: ${inv.human} (${inv.key})`, path));
    }
  }
}

/** Whether `obj` holds none of the invariant's members (a plain `in` test unless one is a choice element). */
function lacks(inv: Invariant, members: readonly string[], type: string, obj: Record<string, unknown>): boolean {
  let direct = inv.direct.get(type);
  if (direct === undefined) {
    const elements = tryGetDataType(type)?.elements;
    direct = !!elements && members.every((m) => !elements[`${m}[x]`]);
    inv.direct.set(type, direct);
  }
  if (!direct) return !holdsAny(obj, members);
  for (let i = 0; i < members.length; i++) if (members[i] in obj || inv.underscored[i] in obj) return false;
  return true;
}

function planOf(type: string): TypeInvariants | null {
  let plan = plans.get(type);
  if (plan === undefined) {
    const schema = tryGetDataType(type);
    plan = null;
    if (schema) {
      // Set first: a type may contain itself (Extension.extension, Questionnaire.item.item).
      plan = { fields: new Map(), root: invariantsOf(schema.constraints) };
      plans.set(type, plan);
      for (const [key, element] of Object.entries(schema.elements)) addFields(plan, key, element);
    }
    plans.set(type, plan);
  }
  return plan;
}

function addFields(plan: TypeInvariants, key: string, element: InternalSchemaElement): void {
  const choice = key.endsWith('[x]');
  for (const t of element.type ?? []) {
    const name = choice ? key.slice(0, -3) + t.code.charAt(0).toUpperCase() + t.code.slice(1) : key;
    const own = invariantsOf(element.constraints);
    const typeRoot = t.code === 'Resource' || isPrimitive(t.code) ? [] : (tryGetDataType(t.code)?.constraints ? invariantsOf(tryGetDataType(t.code)?.constraints) : []);
    const seen = new Set(own.map((i) => i.key));
    plan.fields.set(name, { type: t.code, primitive: isPrimitive(t.code), invariants: [...own, ...typeRoot.filter((i) => !seen.has(i.key))] });
  }
}

function invariantsOf(constraints: InternalSchemaElement['constraints']): Invariant[] {
  const out: Invariant[] = [];
  for (const c of constraints ?? []) {
    if (ELSEWHERE.has(c.key) || (c.severity !== 'error' && c.severity !== 'warning')) continue;
    const id = `${c.key}\u0000${c.expression}`;
    let inv = compiled.get(id);
    if (!inv) {
      // Members are read from the tree as parsed, before fhirpath.ts replaces some of its operations.
      const members = contextMembers(parseFhirPath(c.expression).child);
      const underscored = (members ?? []).map((m) => `_${m}`);
      inv = { key: c.key, human: c.description, severity: c.severity, atom: compileFhirPath(c.expression), members, underscored, whenAbsent: new Map(), direct: new Map() };
      compiled.set(id, inv);
    }
    out.push(inv);
  }
  return out;
}
