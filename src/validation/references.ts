/**
 * Literal reference formats (R4 references.html#literal): `#id` (contained), `Type/id[/_history/vid]` with a known
 * type, `Type?criteria` (conditional, resolved by transactions), or an absolute URI (`http(s)://`, `urn:uuid:`,
 * `urn:oid:` ...). Anything else cannot be resolved by any server and is an error.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from './issues.js';

const ID = '[A-Za-z0-9\\-.]{1,64}';
const RELATIVE = new RegExp(`^([A-Za-z]+)/(${ID})(/_history/(${ID}))?$`);
const CONDITIONAL = /^([A-Za-z]+)\?(.*)$/;
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;
const UUID_URN = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const OID_URN = /^urn:oid:[0-2](\.(0|[1-9]\d*))+$/;

export interface ReferenceScope {
  isResourceType(type: string): boolean;
  /** Ids of the contained resources a `#id` reference can point to. */
  containedIds: ReadonlySet<string>;
}

/**
 * R4 references.html#Reference: "the type of the target resource SHALL be one of those listed" in the element's
 * targetProfiles. Checked where the reference names its type: `Type/id`, `Type?criteria` and RESTful absolute URLs.
 */
export function checkTargetType(ref: string, path: string, element: string, targets: ReadonlySet<string>, out: OperationOutcomeIssue[]): void {
  const type = RELATIVE.exec(ref)?.[1] ?? CONDITIONAL.exec(ref)?.[1] ?? (ABSOLUTE.test(ref) && !ref.startsWith('urn:') ? restfulTail(ref)?.type : undefined);
  if (!type || targets.has(type)) return;
  out.push(issue('error', 'structure', `${path}: "${ref}" points to a ${type}, but ${element} may only point to ${[...targets].join(', ')}`, path));
}

export function checkReference(ref: string, path: string, scope: ReferenceScope, out: OperationOutcomeIssue[]): void {
  if (ref.startsWith('#')) {
    // '#' alone is a contained resource pointing at its container.
    if (ref.length > 1 && !scope.containedIds.has(ref.slice(1))) {
      out.push(issue('error', 'invalid', `${path}: "${ref}" points to a contained resource, but no contained resource has id "${ref.slice(1)}"`, path));
    }
    return;
  }
  const relative = RELATIVE.exec(ref);
  if (relative) {
    if (!scope.isResourceType(relative[1])) out.push(issue('error', 'invalid', `${path}: "${ref}" names "${relative[1]}", which is not an R4 resource type`, path));
    return;
  }
  const conditional = CONDITIONAL.exec(ref);
  if (conditional && scope.isResourceType(conditional[1])) return;
  if (ABSOLUTE.test(ref)) {
    const lower = ref.toLowerCase();
    if (lower.startsWith('urn:uuid:') && !UUID_URN.test(ref)) {
      // Still an absolute URI (RFC 3986), so not an error; but it can never resolve.
      out.push(issue('warning', 'invalid', `${path}: "${ref}" is not a valid UUID URN (urn:uuid: followed by 8-4-4-4-12 hex digits) and cannot resolve`, path));
    } else if (lower.startsWith('urn:oid:') && !OID_URN.test(ref)) {
      out.push(issue('warning', 'invalid', `${path}: "${ref}" is not a valid OID URN and cannot resolve`, path));
    }
    return;
  }
  out.push(
    issue('error', 'invalid', `${path}: "${ref}" is not a valid reference: use Type/id (e.g. Patient/123), an absolute URL, urn:uuid:<uuid> or #<contained id>`, path),
  );
}

/** A resource type at the end of an absolute RESTful URL (`.../Patient/123`), for fullUrl checks. */
export function restfulTail(url: string): { type: string; id: string } | undefined {
  const m = new RegExp(`/([A-Z][A-Za-z]+)/(${ID})(/_history/${ID})?$`).exec(url);
  return m ? { type: m[1], id: m[2] } : undefined;
}

export function isAbsoluteUri(value: string): boolean {
  return ABSOLUTE.test(value);
}
