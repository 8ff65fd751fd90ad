/**
 * ASC X12 5010 text primitives: delimiters, element cleaning, fixed-width ISA fields, dates, amounts, person names.
 * Delimiters are the customary ones (X12.5 / 005010X222A1 appendix): `*` element, `:` component, `^` repetition,
 * `~` segment terminator.
 */
import { createHash } from 'node:crypto';
import type { Claim, HumanName } from '@medplum/fhirtypes';
import { SYSTEMS } from '../codes.js';

export const ELEMENT = '*';
export const COMPONENT = ':';
export const REPETITION = '^';
export const TERMINATOR = '~';

export type Segment = readonly string[];

/** Text for an element: delimiters removed, X12 basic character set in upper case, spaces collapsed, truncated. */
export function text(value: string | undefined, maxLength = 60): string {
  return (value ?? '')
    .toUpperCase()
    .replace(/[*:^~\r\n]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, maxLength);
}

export function digits(value: string | undefined): string {
  return (value ?? '').replace(/\D/g, '');
}

/** An ISA field is fixed width: padded with spaces (ISA06/ISA08 15, ISA02/ISA04 10). */
export function pad(value: string, width: number): string {
  return text(value, width).padEnd(width, ' ');
}

/** Control numbers: ISA13 is exactly 9 digits; ST02 4 to 9. */
export function control(n: number, width: number): string {
  if (!Number.isInteger(n) || n < 1 || String(n).length > width) throw new RangeError(`control number ${n} does not fit ${width} digits`);
  return String(n).padStart(width, '0');
}

/** `2026-11-10` -> `20261110` (D8). */
export function d8(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  return `${m[1]}${m[2]}${m[3]}`;
}

/** `2026-11-10T14:05:00...` -> `1405`, as written (no time-zone conversion: the submitter's clock). */
export function hhmm(dateTime: string): string {
  const m = /T(\d{2}):(\d{2})/.exec(dateTime);
  if (!m) throw new RangeError(`not a date-time: ${dateTime}`);
  return `${m[1]}${m[2]}`;
}

/** X12 decimal (R): no thousands separator, no needless trailing zeros: 120, 55.5, 12.25. */
export function amount(value: number): string {
  const fixed = value.toFixed(2);
  return fixed.replace(/\.?0+$/, '');
}

/** A segment's text: trailing empty elements dropped (X12.6: no trailing element separators). */
export function render(segment: Segment): string {
  const elements = [...segment];
  while (elements.length > 1 && elements[elements.length - 1] === '') elements.pop();
  return elements.join(ELEMENT) + TERMINATOR;
}

export function composite(...components: string[]): string {
  const parts = [...components];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join(COMPONENT);
}

/** NM1 of a person: entity type 1, last, first, middle initial (NM101..NM105). */
export function person(entity: string, who: { name?: HumanName[] }): string[] {
  const name = who.name?.find((n) => n.use === 'official') ?? who.name?.[0];
  return ['NM1', entity, '1', text(name?.family, 60), text(name?.given?.[0], 35), text(name?.given?.[1]?.[0], 25), '', ''];
}

/**
 * CLM01 (at most 20 characters): the Claim's patient-control-number identifier when it has one (billing writes it,
 * $submit adds it), else the Claim id when short enough, else a stable 20-character digest of its first identifier.
 */
export function patientControlNumber(claim: Claim): string {
  const own = claim.identifier?.find((i) => i.system === SYSTEMS.patientControlNumber)?.value;
  if (own) return own;
  if (claim.id && claim.id.length <= 20 && /^[A-Za-z0-9.-]+$/.test(claim.id)) return claim.id.toUpperCase();
  return controlNumberOf(claim.identifier?.[0]?.value ?? JSON.stringify(claim.item ?? []));
}

/** A patient control number from a key: 20 hex digits of its SHA-256, upper case. */
export function controlNumberOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 20).toUpperCase();
}
