/**
 * Snapshot generation for the guide's differential-only StructureDefinitions (R4 profiling.html#snapshot), built at
 * load. No npm snapshot generator works offline here (fhir-snapshot-generator downloads FHIR packages), so this is
 * the small merge the guide needs: each differential element is laid over the element it constrains (the base
 * profile's, or the datatype's for paths into a complex type such as `Encounter.period.start`), constraints are
 * added to the base's, and slices are inserted after the element they slice. Not handled: re-slicing, choice-type
 * renaming (`value[x]:valueQuantity`), and contentReference expansion.
 */
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

export type DefinitionLookup = (url: string) => StructureDefinition | undefined;

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

/** Returns the snapshot elements of `sd`, building it from its differential when it has none. */
export function snapshotOf(sd: StructureDefinition, lookup: DefinitionLookup, depth = 0): ElementDefinition[] {
  if (sd.snapshot?.element?.length) return sd.snapshot.element;
  if (depth > 8) throw new Error(`${sd.url}: baseDefinition chain too deep`);
  const base = sd.baseDefinition ? lookup(sd.baseDefinition) : undefined;
  if (!base) throw new Error(`${sd.url}: base definition ${sd.baseDefinition ?? '(none)'} is not known`);
  const elements = snapshotOf(base, lookup, depth + 1).map((e) => ({ ...e }));
  for (const diff of sd.differential?.element ?? []) {
    const id = diff.id ?? diff.path;
    const index = elements.findIndex((e) => (e.id ?? e.path) === id);
    if (index >= 0) {
      elements[index] = mergeElement(elements[index], diff);
      continue;
    }
    const template = templateFor(id, elements, lookup);
    const merged = mergeElement({ ...template, id, path: pathOf(id), constraint: template.constraint ?? [] }, diff);
    elements.splice(insertionPoint(elements, id), 0, merged);
  }
  return elements;
}

/** The differential wins for every key it sets; constraints accumulate (R4 profiling.html#invariants). */
function mergeElement(base: ElementDefinition, diff: ElementDefinition): ElementDefinition {
  const merged: ElementDefinition = { ...base, ...diff };
  if (diff.constraint && base.constraint) merged.constraint = [...base.constraint, ...diff.constraint];
  return merged;
}

/** `Procedure.extension:timedMinutes.value[x]` -> `Procedure.extension.value[x]`. */
export function pathOf(id: string): string {
  return id
    .split('.')
    .map((s) => s.split(':')[0])
    .join('.');
}

/**
 * The element a new differential element starts from: the same path in the snapshot (the sliced element, for a
 * slice), or the element of the datatype the path descends into.
 */
function templateFor(id: string, elements: ElementDefinition[], lookup: DefinitionLookup): ElementDefinition {
  const path = pathOf(id);
  const same = elements.find((e) => e.path === path && !e.sliceName && !(e.id ?? '').includes(':'));
  if (same) return same;
  const segments = path.split('.');
  for (let n = segments.length - 1; n >= 1; n--) {
    const prefix = segments.slice(0, n).join('.');
    const parent = elements.find((e) => e.path === prefix && !(e.id ?? '').includes(':'));
    const typeCode = parent?.type?.[0]?.code;
    if (!parent || !typeCode) continue;
    const datatype = lookup(HL7_SD + typeCode);
    const inner = datatype?.snapshot?.element?.find((e) => e.path === [typeCode, ...segments.slice(n)].join('.'));
    if (inner) return inner;
    break;
  }
  throw new Error(`differential element ${id} matches no element of the base definition`);
}

/** After the element it slices or lies under, its children and the slices already placed. */
function insertionPoint(elements: ElementDefinition[], id: string): number {
  const last = id.slice(id.lastIndexOf('.') + 1);
  const anchor = last.includes(':') ? id.slice(0, id.lastIndexOf(':')) : id.slice(0, id.lastIndexOf('.'));
  let at = elements.length;
  for (let i = 0; i < elements.length; i++) {
    const eid = elements[i].id ?? elements[i].path;
    if (eid === anchor || eid.startsWith(`${anchor}.`) || eid.startsWith(`${anchor}:`)) at = i + 1;
  }
  return at;
}
