/**
 * Binding checks against a locally expanded ValueSet (R4 terminologies.html#strength): required -> error, extensible
 * -> warning. The value's shape decides what is compared: a code string, a Coding, a CodeableConcept (one coding in
 * the set is enough) or a Quantity's unit code.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describeCodes, type Expansion } from './terminology.js';
import { issue } from './issues.js';

export type BindingStrength = 'required' | 'extensible';

interface CodingLike {
  system?: unknown;
  code?: unknown;
}

/**
 * @param inferSystem report, for a bare code of a required binding, that its system cannot be determined (the base
 *   specification's bindings, where the HL7 reference validator counts this as an error of its own).
 */
export function checkBinding(value: unknown, e: Expansion, strength: BindingStrength, path: string, out: OperationOutcomeIssue[], inferSystem = false): void {
  const problem = bindingProblem(value, e);
  if (!problem) return;
  const named = `the ${strength} value set ${e.title} (${e.url})`;
  if (inferSystem && strength === 'required' && typeof value === 'string') {
    // A bare code (a `code` element) carries no system: the system is inferred from the value set, and a code that
    // none of its code systems defines has none. The HL7 reference validator reports this as its own error before the
    // binding's; so does Stride, so that the two count the same problems.
    const systems = [...e.bySystem.keys()].join(', ') || 'none';
    out.push(issue('error', 'code-invalid', `${path}: the system of the code "${value}" cannot be determined: no code system of ${e.title} (${systems}) defines it`, path));
  }
  if (strength === 'required') {
    out.push(issue('error', 'code-invalid', `${path}: ${problem} is not in ${named}; use one of: ${describeCodes(e)}`, path));
  } else {
    out.push(issue('warning', 'code-invalid', `${path}: ${problem} is not in ${named}; a code from it should be used when one fits`, path));
  }
}

/** What is wrong, in words ("\"bogus\"", "no coding"), or undefined when the value is in the set or has no code. */
function bindingProblem(value: unknown, e: Expansion): string | undefined {
  if (typeof value === 'string') return e.codes.has(value) ? undefined : `"${value}"`;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  if ('coding' in obj || ('text' in obj && !('code' in obj))) {
    const codings = Array.isArray(obj.coding) ? (obj.coding as CodingLike[]) : [];
    if (codings.length === 0) return 'a concept with no coding';
    if (codings.some((c) => codingIn(c, e) !== false)) return undefined;
    return codings.map(showCoding).join(', ');
  }
  return codingIn(obj, e) === false ? showCoding(obj) : undefined;
}

/** true/false for a coded value; undefined when there is no code to check. */
function codingIn(c: CodingLike, e: Expansion): boolean | undefined {
  if (!c || typeof c !== 'object' || typeof c.code !== 'string') return undefined;
  if (typeof c.system === 'string') return e.bySystem.get(c.system)?.has(c.code) ?? false;
  return e.codes.has(c.code);
}

function showCoding(c: CodingLike): string {
  return typeof c?.system === 'string' ? `${c.system}|${String(c.code)}` : `"${String(c?.code)}"`;
}
