/**
 * JSON members named like a property of JavaScript's Object.prototype (`constructor`, `toString`, `__proto__` ...).
 * No FHIR R4 element has such a name, so each is an unknown element (R4 json.html: "unknown elements ... SHALL be
 * treated as an error"). They need their own check: @medplum/core's validator looks element names up in plain
 * objects, where these names find Object.prototype's members and pass as known (issue 25).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** One error per such member, at any depth, with its FHIRPath-like location (`Patient.name[0].constructor`). */
export function prototypeMemberIssues(value: unknown, path: string, out: OperationOutcomeIssue[] = []): OperationOutcomeIssue[] {
  if (typeof value !== 'object' || value === null) return out;
  if (Array.isArray(value)) {
    value.forEach((item, i) => prototypeMemberIssues(item, `${path}[${i}]`, out));
    return out;
  }
  for (const key of Object.keys(value)) {
    const where = `${path}.${key}`;
    if (PROTOTYPE_NAMES.has(key)) {
      out.push({ severity: 'error', code: 'structure', details: { text: `${where}: Invalid additional property "${key}" (not an element of R4)` }, expression: [where] });
    } else {
      prototypeMemberIssues((value as Record<string, unknown>)[key], where, out);
    }
  }
  return out;
}
