/**
 * Per-type plans of the checks the base specification puts on elements and @medplum/core's validator does not make:
 * required bindings that expand locally, markdown, and literal references. Built once per type from the R4
 * StructureDefinitions (through @medplum/core's parsed schemas) and cached, so a validation only looks up the JSON
 * keys it meets: an element without a check costs one Map lookup.
 */
import { tryGetDataType } from '@medplum/core';
import type { Terminology, Expansion } from './terminology.js';
import { primitiveTest } from './primitives.js';

export type FieldCheck = { kind: 'binding'; expansion: Expansion } | { kind: 'markdown' } | { kind: 'reference' } | { kind: 'xhtml' };

export interface FieldPlan {
  /** The element's type for this JSON key: a datatype, a backbone type name, or `Resource`. */
  type: string;
  /** The element path as the StructureDefinition names it (`Observation.value[x]`), for messages. */
  element: string;
  /** A primitive type (its JSON value is a string, number or boolean); otherwise the value is an object. */
  primitive: boolean;
  checks: FieldCheck[];
  /** For a Reference: the resource types its targetProfiles allow; undefined when any type is allowed. */
  targets?: ReadonlySet<string>;
  /** For a primitive: whether a value keeps R4's expression, range and calendar (primitives.ts). */
  valueOk?: (value: unknown) => boolean;
}

export interface TypePlan {
  type: string;
  /** The element path of the type's root (`HumanName`, `Patient.contact`), for extension contexts. */
  path: string;
  fields: ReadonlyMap<string, FieldPlan>;
}

/** Types whose values a binding can be checked on. */
const CODED = new Set(['code', 'Coding', 'CodeableConcept', 'Quantity', 'string', 'uri']);

export class Plans {
  private readonly plans = new Map<string, TypePlan | null>();

  constructor(private readonly terminology: Terminology) {}

  /** The plan of a resource type, datatype or backbone type; undefined for primitives and unknown names. */
  planFor(type: string): TypePlan | undefined {
    const cached = this.plans.get(type);
    if (cached !== undefined) return cached ?? undefined;
    const plan = this.build(type);
    this.plans.set(type, plan ?? null);
    return plan;
  }

  private build(type: string): TypePlan | undefined {
    if (isPrimitive(type)) return undefined;
    const schema = tryGetDataType(type);
    if (!schema) return undefined;
    const fields = new Map<string, FieldPlan>();
    for (const [key, el] of Object.entries(schema.elements)) {
      const expansion = el.binding?.strength === 'required' && el.binding.valueSet ? this.terminology.expand(el.binding.valueSet) : undefined;
      for (const t of el.type) {
        const checks: FieldCheck[] = [];
        if (expansion && CODED.has(t.code)) checks.push({ kind: 'binding', expansion });
        if (t.code === 'markdown') checks.push({ kind: 'markdown' });
        if (t.code === 'xhtml') checks.push({ kind: 'xhtml' });
        if (t.code === 'Reference') checks.push({ kind: 'reference' });
        const jsonKey = key.endsWith('[x]') ? key.slice(0, -3) + t.code[0].toUpperCase() + t.code.slice(1) : key;
        const targets = t.code === 'Reference' ? targetTypes(t.targetProfile) : undefined;
        const valueOk = isPrimitive(t.code) ? primitiveTest(t.code) : undefined;
        fields.set(jsonKey, { type: t.code, element: `${schema.path}.${key}`, primitive: isPrimitive(t.code), checks, targets, valueOk });
      }
    }
    return { type, path: schema.path, fields };
  }
}

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * The resource types an element's targetProfiles allow (R4 references.html: "the type of the target resource SHALL
 * be one of those listed"); undefined when any is (no target, `Resource`, or a profile, whose type is not read here).
 */
function targetTypes(profiles: readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (!profiles?.length) return undefined;
  const types = new Set<string>();
  for (const p of profiles) {
    const type = p.startsWith(HL7_SD) ? p.slice(HL7_SD.length) : undefined;
    if (!type || type === 'Resource' || type === 'DomainResource' || type.includes('/')) return undefined;
    types.add(type);
  }
  return types;
}

/** FHIR primitive type codes start lower-case; System types are URLs. */
export function isPrimitive(type: string): boolean {
  const c = type.charCodeAt(0);
  return (c >= 97 && c <= 122) || type.includes(':');
}
