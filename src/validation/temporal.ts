/**
 * FHIR date, dateTime, instant and time values as partial points in time (R4 datatypes.html#date: "a date, or
 * partial date (e.g. just year or year + month)"), for two rules the regular expressions cannot state:
 * - the value is a real calendar date (R4 datatypes.html#date: "Dates SHALL be valid dates"; 1951-02-30 matches
 *   the regular expression but is no date), and a time of day within 24 hours;
 * - comparison with FHIRPath's precision rule (FHIRPath N1 §6.6 Comparison: "If one value is specified to a
 *   different level of precision than the other, the result is empty ({ }) to indicate that the result of the
 *   comparison is unknown"). Seconds and their fraction are one precision (FHIRPath N1 §2.1.13 "Date/Time"). A value
 *   with a time of day is moved to UTC before it is compared, as the HL7 Java reference validator does.
 */

export interface Temporal {
  /** year, month, day, hour, minute, seconds (with fraction), in that order, as far as the value gives them. */
  parts: number[];
  /** Minutes east of UTC; undefined for a value without a time zone (a date, a time). */
  offset?: number;
}

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2}(?:\.\d+)?))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const TIME = /^T?(\d{2})(?::(\d{2})(?::(\d{2}(?:\.\d+)?))?)?$/;

/** The parts of a date, dateTime or instant string (FHIRPath literals may start with '@'); undefined if none. */
export function parseDateTime(text: string): Temporal | undefined {
  const m = DATE_TIME.exec(text.charCodeAt(0) === 64 /* @ */ ? text.slice(1) : text);
  if (!m) return undefined;
  const parts: number[] = [];
  for (let i = 1; i <= 6 && m[i] !== undefined; i++) parts.push(Number(m[i]));
  const zone = m[7];
  const offset = zone === undefined ? undefined : zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return { parts, offset };
}

/** The parts of a time string (`10:30`, `T10:30:00`): hour, minute, seconds. */
export function parseTime(text: string): Temporal | undefined {
  const m = TIME.exec(text.charCodeAt(0) === 64 ? text.slice(1) : text);
  if (!m) return undefined;
  const parts: number[] = [];
  for (let i = 1; i <= 3 && m[i] !== undefined; i++) parts.push(Number(m[i]));
  return { parts };
}

/** Days in a month of the proleptic Gregorian calendar (ISO 8601, which FHIR's date types follow). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Why a date/dateTime/instant that matched its type's regular expression is still not a point in time, or undefined
 * when it is one: the day must exist in its month (a leap second, :60, is allowed by the R4 expression and kept).
 */
export function calendarProblem(text: string): string | undefined {
  // Every month has a 28th: only days 29-31 need the calendar (the expression has already bounded the parts).
  if (text.length >= 10 && text.charCodeAt(8) <= 50 /* '2' */ && !(text.charCodeAt(8) === 50 && text.charCodeAt(9) === 57) /* 29 */) return undefined;
  const t = parseDateTime(text);
  if (!t) return undefined;
  const [year, month, day] = t.parts;
  if (day !== undefined && day > daysInMonth(year, month)) return `${year}-${pad(month)} has ${daysInMonth(year, month)} days, so day ${day} does not exist`;
  return undefined;
}

/**
 * FHIRPath comparison of two temporal values: negative, zero or positive, or undefined when the answer is unknown
 * (the values have different precisions and agree on every part they share).
 */
export function compareTemporal(a: Temporal, b: Temporal): number | undefined {
  const x = toUtc(a);
  const y = toUtc(b);
  const shared = Math.min(x.length, y.length);
  for (let i = 0; i < shared; i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length === y.length ? 0 : undefined;
}

/** A value with a time and a zone, moved to UTC; others as they are. */
function toUtc(t: Temporal): number[] {
  if (t.offset === undefined || t.offset === 0 || t.parts.length < 4) return t.parts;
  const [year, month, day, hour, minute = 0] = t.parts;
  const ms = Date.UTC(year, month - 1, day, hour, minute) - t.offset * 60_000;
  const d = new Date(ms);
  const moved = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  if (t.parts.length >= 6) moved.push(t.parts[5]);
  return moved.slice(0, Math.max(t.parts.length, 4));
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
