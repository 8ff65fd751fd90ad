/**
 * A proof of cleanliness for the structure layer (structure.ts). @medplum/core's `validateResource` crawls every
 * element definition of a type, present or not, resolving each through its generic property lookup: 120-250 us for a
 * small DetectedIssue or Provenance, most of a bot's finding write. Almost every resource written is clean, so this
 * module answers one question fast: "would validateResource report nothing that structure.ts keeps?".
 *
 * It walks only the properties present, against plans compiled once per type from the same InternalTypeSchema
 * validateResource uses. Invariants are not its concern: structure.ts drops validateResource's invariant issues and
 * invariants.ts evaluates every invariant itself, for clean and unclean resources alike. It returns true only when every check validateResource makes passes; anything it does not
 * model (primitive extensions `_x`, empty values, nulls, unknown or ambiguous properties, two choices of one element,
 * fixed/pattern/slicing, a failing check) makes it return false, and the caller runs validateResource itself, whose
 * issues (and their wording) are then what the client sees. So a false answer costs one extra walk and can never
 * change a result; a wrong true answer would hide an issue, which test/validation/clean-structure.test.ts looks for
 * across the conformance resources, the examples and mutations of them.
 */
import {
  fhirTypeToJsType,
  isEmpty,
  isReference,
  isResource,
  tryGetDataType,
  validationRegexes,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_SD = 'https://medplum.com/fhir/StructureDefinition/';
const MAX_STRING = 1024 * 1024;
const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt']);

/** One JSON property name of a type, resolved to its element and the type that name carries. */
interface Property {
  element: InternalSchemaElement;
  /** Index into the plan's elements: two names of one choice element share it. */
  slot: number;
  type: string;
  /** 'string' | 'number' | 'boolean' for primitives; undefined for complex types. */
  jsType: string | undefined;
  regex: RegExp | undefined;
  /**
   * For Reference: the resource types validateResource's target check accepts; 'any' when it accepts every type
   * (no target, `Resource`, or a target it does not recognise).
   */
  targets: ReadonlySet<string> | 'any';
}

interface Plan {
  properties: Map<string, Property>;
  /** Slots of elements with min > 0. */
  required: number[];
  slots: number;
}

const plans = new Map<string, Plan | null>();

/**
 * True only when `validateResource(resource)` would return no issue that structure.ts keeps (see the module comment).
 */
export function isCleanStructure(resource: Resource): boolean {
  const plan = planOf(resource.resourceType);
  if (!plan) return false;
  const walk = new Walk();
  try {
    return walk.object(resource as unknown as Record<string, unknown>, plan, resource, true);
  } catch {
    // A shape the plans did not expect (the full validator will say what it is).
    return false;
  }
}

class Walk {
  object(obj: Record<string, unknown>, plan: Plan, resource: object, isResourceValue: boolean): boolean {
    const seen: Array<boolean | undefined> = new Array(plan.slots);
    for (const key in obj) {
      if (key === 'resourceType' && isResourceValue) continue;
      const property = plan.properties.get(key);
      if (!property || seen[property.slot]) return false;
      seen[property.slot] = true;
      if (!this.property(obj[key], property, resource)) return false;
    }
    for (const slot of plan.required) if (!seen[slot]) return false;
    return true;
  }

  private property(value: unknown, property: Property, resource: object): boolean {
    const { element } = property;
    if (value === null || isEmpty(value)) return false;
    let values: unknown[];
    if (element.isArray) {
      if (!Array.isArray(value)) return false;
      values = value;
    } else {
      if (Array.isArray(value)) return false;
      values = [value];
    }
    if (values.length < element.min || values.length > element.max) return false;
    for (const item of values) if (!this.item(item, property, resource)) return false;
    return true;
  }

  private item(item: unknown, property: Property, resource: object): boolean {
    if (item === null || item === undefined) return false;
    let type = property.type;
    if (property.jsType) {
      if (typeof item !== property.jsType || !primitiveOk(item as string | number | boolean, type, property.regex)) return false;
    } else if (typeof item !== 'object' || Array.isArray(item) || isEmpty(item)) {
      return false;
    }
    let inner = resource;
    if (type === 'Resource') {
      if (!isResource(item)) return false;
      type = item.resourceType;
      inner = item;
    } else if (!property.jsType && 'resourceType' in (item as object)) {
      return false;
    }
    if (type === 'Reference' && !referenceOk(item, property.targets)) return false;
    if (property.jsType) return true;
    const plan = planOf(type);
    return plan !== null && this.object(item as Record<string, unknown>, plan, inner, inner !== resource);
  }
}

function primitiveOk(value: string | number | boolean, type: string, regex: RegExp | undefined): boolean {
  if (typeof value === 'string') {
    if (!value.trim() || value.length > MAX_STRING) return false;
    return !regex || regex.test(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return false;
    if (INTEGER_TYPES.has(type) && !Number.isInteger(value)) return false;
    if (type === 'positiveInt' && value <= 0) return false;
    if (type === 'unsignedInt' && value < 0) return false;
  }
  return true;
}

/** validateResource's reference target check (a mismatch is a warning there; here it means "not clean"). */
function referenceOk(item: unknown, targets: ReadonlySet<string> | 'any'): boolean {
  if (targets === 'any' || !isReference(item)) return true;
  const reference = item.reference;
  if (reference.startsWith('#')) return true;
  const type = reference.includes('?') ? reference.split('?')[0] : reference.split('/')[0];
  // An absolute reference (`urn:uuid:...`, `http://...`): validateResource reads its scheme as a type and warns, and
  // structure.ts drops that warning (the reference layer checks absolute references).
  return !type || type.includes(':') || targets.has(type);
}

/** What referenceOk accepts for an element's targetProfiles, worked out once (validateResource's matching rules). */
function acceptedTargets(targetProfiles: readonly string[] | undefined): ReadonlySet<string> | 'any' {
  if (!targetProfiles) return 'any';
  const types = new Set<string>();
  for (const target of targetProfiles) {
    const base = target.startsWith(HL7_SD) ? HL7_SD : target.startsWith(MEDPLUM_SD) ? MEDPLUM_SD : undefined;
    if (!base || target === `${HL7_SD}Resource`) return 'any';
    types.add(target.slice(base.length));
  }
  return types;
}

function planOf(type: string): Plan | null {
  let plan = plans.get(type);
  if (plan === undefined) {
    const schema = tryGetDataType(type);
    plan = schema ? compile(schema) : null;
    plans.set(type, plan);
  }
  return plan;
}

function compile(schema: InternalTypeSchema): Plan | null {
  const properties = new Map<string, Property>();
  const required: number[] = [];
  const entries = Object.entries(schema.elements);
  for (let slot = 0; slot < entries.length; slot++) {
    const [key, element] = entries[slot];
    // Profiles' refinements are not modelled: such a type is always left to the full validator.
    const last = element.path.slice(element.path.lastIndexOf('.') + 1);
    if (element.fixed || element.pattern || element.slicing || last !== key || !element.type?.length) return null;
    if (element.min > 0) required.push(slot);
    const choice = key.endsWith('[x]');
    const types = choice ? element.type : [element.type[0]];
    for (const t of types) {
      const name = choice ? key.slice(0, -3) + t.code.charAt(0).toUpperCase() + t.code.slice(1) : key;
      if (properties.has(name)) return null;
      const jsType = (fhirTypeToJsType as Record<string, string>)[t.code];
      const targets = t.code === 'Reference' ? acceptedTargets(t.targetProfile) : 'any';
      properties.set(name, { element, slot, type: t.code, jsType, regex: validationRegexes[t.code], targets });
    }
  }
  // validateResource reads a name like `valueSetX` as a choice of `value[x]` when that element exists: a name whose
  // reading differs from ours is left to it.
  for (const [name, property] of properties) {
    const reading = choiceReading(name, schema.elements);
    if (reading !== undefined && reading !== entries[property.slot][0]) properties.delete(name);
  }
  return { properties, required, slots: entries.length };
}

/** The choice element validateResource's additional-property check would read `name` as, if any. */
function choiceReading(name: string, elements: Record<string, InternalSchemaElement>): string | undefined {
  let prefix = '';
  for (const part of name.split(/(?=[A-Z])/g)) {
    prefix += part;
    if (elements[`${prefix}[x]`]) return `${prefix}[x]`;
  }
  return undefined;
}
