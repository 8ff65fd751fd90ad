/**
 * Most columns of a flat view are plain paths from the resource (`status`, `subject.getReferenceKey(Patient)`,
 * `value.ofType(Quantity).value`, `code.coding.code.first()`). fhirpath.js evaluates each through its general machinery
 * (a context, a node per element, type resolution), several microseconds a path; on a million resources that is most
 * of a run. This compiles that subset into a walk of the JSON, with the element types of fhirpath.js's own R4 model
 * deciding what each name means (a choice element is only reached through ofType, as FHIRPath requires), and answers
 * undefined for anything else, which fhirpath.js then evaluates. The subset, from the resource:
 *   getResourceKey() | step ('.' step)*   where step is a member name, ofType(Type), first(), getReferenceKey([Type])
 * Elements are JSON values; like fhirpath.js, nulls are no value and an array gives its items.
 */
import r4 from 'fhirpath/fhir-context/r4';
import { referenceKey } from './keys.js';

interface Model {
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  path2Type: Record<string, string>;
}

const MODEL = r4 as unknown as Model;
const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['and', 'or', 'xor', 'implies', 'div', 'mod', 'in', 'contains', 'as', 'is', 'true', 'false']);

type Step = (items: unknown[]) => unknown[];

export type FastPath = (resource: Record<string, unknown>) => unknown[];

/** A member step: `name` of the elements at model path `at`; the model path of what it reaches, or undefined. */
function memberOf(at: string, name: string): { key: string; next: string } | undefined {
  const full = `${at}.${name}`;
  if (MODEL.choiceTypePaths[full]) return undefined; // a choice element needs ofType
  const type = MODEL.path2Type[full];
  if (!type) return undefined;
  const elsewhere = MODEL.pathsDefinedElsewhere[full];
  return { key: name, next: type === 'BackboneElement' || type === 'Element' ? (elsewhere ?? full) : type };
}

function children(items: unknown[], key: string): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    const value = (item as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value) if (v !== null) out.push(v);
    } else out.push(value);
  }
  return out;
}

export function compileFastPath(expression: string, resourceType: string): FastPath | undefined {
  const text = expression.trim();
  if (text === 'getResourceKey()') return (resource) => (typeof resource.id === 'string' ? [resource.id] : []);
  const parts = text.split('.');
  const steps: Step[] = [];
  let at = resourceType;
  let pendingChoice: string | undefined; // a choice element named, waiting for its ofType
  let ended = false; // after getReferenceKey: only first() may follow
  for (const [i, part] of parts.entries()) {
    if (i === 0 && part === resourceType) continue;
    const call = /^([A-Za-z]+)\(\s*([A-Za-z.]*)\s*\)$/.exec(part);
    if (call) {
      const [, fn, arg] = call;
      if (fn === 'ofType' && pendingChoice) {
        const type = arg.replace(/^FHIR\./, '');
        const choices = MODEL.choiceTypePaths[`${at}.${pendingChoice}`] ?? [];
        const capital = type.charAt(0).toUpperCase() + type.slice(1);
        if (!choices.includes(capital)) return undefined;
        const key = pendingChoice + capital;
        steps.push((items) => children(items, key));
        at = type;
        pendingChoice = undefined;
      } else if (fn === 'first' && arg === '' && !pendingChoice) {
        steps.push((items) => items.slice(0, 1));
      } else if (fn === 'getReferenceKey' && !pendingChoice && at === 'Reference' && !ended) {
        const type = arg === '' ? undefined : arg;
        steps.push((items) => items.map((r) => referenceKey(r, type)).filter((k): k is string => k !== undefined));
        ended = true;
      } else return undefined;
      continue;
    }
    if (!IDENT.test(part) || KEYWORDS.has(part) || pendingChoice || ended) return undefined;
    if (MODEL.choiceTypePaths[`${at}.${part}`]) {
      pendingChoice = part;
      continue;
    }
    const member = memberOf(at, part);
    if (!member) return undefined;
    steps.push((items) => children(items, member.key));
    at = member.next;
  }
  if (pendingChoice || steps.length === 0) return undefined;
  return (resource) => {
    let items: unknown[] = [resource];
    for (const step of steps) {
      items = step(items);
      if (items.length === 0) break;
    }
    return items;
  };
}
