/**
 * Datatypes whose parts must agree with each other, beyond their invariants (R4 datatypes.html):
 * - Attachment: `size` is "the number of bytes of data that make up this attachment (before base64 encoding)" and
 *   `hash` "the calculated hash of the data using SHA-1, represented using base64": when `data` is present both can
 *   be computed, and a different value means the data or its description is wrong. `data` must be base64 (RFC 4648)
 *   and `contentType` a MIME type (`type/subtype`, optional parameters; RFC 6838 §4.2, bound to BCP 13 by R4).
 * - Coding.system, Identifier.system, Quantity.system: "The identification of the code system that defines the
 *   meaning of the symbol in the code" is an absolute URI (R4 terminologies.html#4.1: "the system SHALL be an
 *   absolute URI"; an OID is written `urn:oid:1.2.3`, datatypes.html#oid). A bare OID or a relative name cannot
 *   identify anything.
 * - Coding in the CVX code system: the code and display against CDC's table (cvx.ts).
 */
import { createHash } from 'node:crypto';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from './issues.js';
import { checkCvxCoding } from './cvx.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 6838 §4.2 restricted-name for type and subtype; RFC 2045 parameters (`; charset=utf-8`). */
const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"]*"|[^\s;"]+))*$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;
const BARE_OID = /^[0-2](\.(0|[1-9]\d*))+$/;
const SYSTEM_TYPES = new Set(['Coding', 'Identifier', 'Quantity', 'Age', 'Count', 'Distance', 'Duration', 'MoneyQuantity', 'SimpleQuantity']);

/** Checks a value of a datatype listed here; others are left alone. */
export function checkDatatype(type: string, value: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  if (type === 'Attachment') checkAttachment(value, path, out);
  else if (SYSTEM_TYPES.has(type)) checkSystem(value.system, `${path}.system`, type, out);
  if (type === 'Coding') checkCvxCoding(value, path, out);
}

/** Datatypes this module has a rule for (walk.ts asks before calling). */
export function hasDatatypeRule(type: string): boolean {
  return type === 'Attachment' || SYSTEM_TYPES.has(type);
}

function checkAttachment(a: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  const { data, size, hash, contentType } = a;
  if (typeof contentType === 'string' && !MIME.test(contentType)) {
    out.push(issue('error', 'code-invalid', `${path}.contentType: "${contentType}" is not a MIME type (type/subtype, e.g. application/pdf or text/plain; charset=utf-8; RFC 6838)`, `${path}.contentType`));
  }
  if (typeof data !== 'string') return;
  const compact = data.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return; // the structure layer reports malformed base64
  const bytes = Buffer.from(compact, 'base64');
  if (typeof size === 'number' && Number.isInteger(size) && size !== bytes.length) {
    out.push(issue('error', 'value', `${path}.size: ${size} does not match the ${bytes.length} bytes of data (size counts the bytes before base64 encoding)`, `${path}.size`));
  }
  if (typeof hash === 'string') {
    const actual = createHash('sha1').update(bytes).digest('base64');
    if (hash.replace(/\s+/g, '') !== actual) {
      out.push(issue('error', 'value', `${path}.hash: "${hash}" is not the SHA-1 of the data, which is "${actual}" (base64)`, `${path}.hash`));
    }
  }
}

function checkSystem(system: unknown, path: string, type: string, out: OperationOutcomeIssue[]): void {
  if (typeof system !== 'string' || ABSOLUTE_URI.test(system)) return;
  const hint = BARE_OID.test(system) ? `; an OID is written as a URN: "urn:oid:${system}"` : '';
  out.push(issue('error', 'invalid', `${path}: "${system}" is not an absolute URI, so it cannot identify the system of this ${type}${hint}`, path));
}
