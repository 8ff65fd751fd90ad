/**
 * Search value syntax shared by the parameter types (R4 search.html#escaping, #prefix, #number, #date): OR lists,
 * escapes, prefixes, the implicit range of a number and of a date. A malformed value is a 400 naming the parameter.
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../fhir/outcomes.js';
import { MAX_TIME, MIN_TIME } from './tables.js';

export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type Prefix = (typeof PREFIXES)[number];

export function invalid(name: string, message: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(`Invalid search parameter "${name}": ${message}`, name));
}

/** Splits on a separator that is not escaped by a backslash (`,` for OR lists, `|` for system|code, `$` in composites). */
export function splitEscaped(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      current += c + value[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** A value as a search parameter takes it: `,` `|` `$` `\` escaped (R4 search.html#escaping). */
export function escapeSearchValue(value: string): string {
  return value.replace(/([\\,|$])/g, '\\$1');
}

/** Removes the search escapes (`\,` `\|` `\$` `\\`). */
export function unescape(value: string): string {
  return value.replace(/\\([\\,|$])/g, '$1');
}

/** `system|code`, `|code`, `system|` or `code` (system undefined when no bar is given). */
export function splitSystem(value: string): { system?: string; code: string } {
  const parts = splitEscaped(value, '|');
  if (parts.length === 1) return { code: unescape(parts[0]) };
  return { system: unescape(parts[0]), code: unescape(parts.slice(1).join('|')) };
}

/** A prefix of an ordered value (number, date, quantity); `eq` when there is none. */
export function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const head = value.slice(0, 2);
  if ((PREFIXES as readonly string[]).includes(head)) return { prefix: head as Prefix, rest: value.slice(2) };
  return { prefix: 'eq', rest: value };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal with the range its precision implies: `100` is [99.5, 100.5), `1e2` is [50, 150) (R4 #number). */
export function parseNumber(name: string, text: string): { value: number; low: number; high: number } {
  if (!NUMBER.test(text)) throw invalid(name, `"${text}" is not a number`);
  const value = Number(text);
  const [mantissa, exponent] = text.toLowerCase().split('e');
  const decimals = mantissa.includes('.') ? mantissa.length - mantissa.indexOf('.') - 1 : 0;
  const scale = decimals - Number(exponent ?? 0);
  const half = 0.5 * 10 ** -scale;
  // Round at one digit past the written precision: 0.4 - 0.05 is 0.35, not 0.35000000000000003.
  const digits = Math.min(100, Math.max(0, scale + 1));
  return { value, low: Number((value - half).toFixed(digits)), high: Number((value + half).toFixed(digits)) };
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * A date, dateTime or instant as the range of milliseconds it covers, inclusive: `2026-03` is all of March
 * (R4 search.html#date). A time without a zone is read as UTC, the same on write and on search.
 */
export function dateRange(text: string): { low: number; high: number } | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > daysIn(year, month as number))) return undefined;
  if (h === undefined) {
    const low = utc(year, (month ?? 1) - 1, day ?? 1);
    const high = day !== undefined ? utc(year, (month as number) - 1, day + 1) : month !== undefined ? utc(year, month, 1) : utc(year + 1, 0, 1);
    return { low, high: high - 1 };
  }
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return undefined;
  const base = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${zone ?? 'Z'}`;
  const low = Date.parse(base);
  if (Number.isNaN(low)) return undefined;
  // The precision given sets the width: minutes cover 60 s, seconds 1 s, fractions are exact to the millisecond.
  const width = s === undefined ? 60_000 : frac === undefined ? 1000 : 1;
  return { low, high: low + width - 1 };
}

/** Midnight UTC of a day (months and days past the end roll over); unlike Date.UTC, years 0-99 stay as they are. */
function utc(year: number, monthIndex: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  return d.getTime();
}

function daysIn(year: number, month: number): number {
  return new Date(utc(year, month, 0)).getUTCDate();
}

/** A whole millisecond within the stored range (the `ap` bounds are computed with a fraction). */
export function clampTime(ms: number): number {
  return Math.round(Math.min(MAX_TIME, Math.max(MIN_TIME, ms)));
}
