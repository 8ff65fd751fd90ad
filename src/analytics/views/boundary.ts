/**
 * lowBoundary() and highBoundary() as FHIRPath defines them (FHIRPath 3.0 draft, §lowBoundary/§highBoundary; SQL on
 * FHIR v2 requires them, "including on Period"): the least and greatest value the input's precision allows.
 * - decimal: half a unit of the last written digit either way ("1.0" -> 0.95 .. 1.05), from the text it was written
 *   with (decimals.ts);
 * - date: the first or last day of the year or month given ("1970-06" -> 1970-06-01 .. 1970-06-30);
 * - dateTime: to the millisecond; with no time zone, the earliest (+14:00) and latest (-12:00) offsets;
 * - time: to the millisecond; Period: start's low boundary, end's high boundary (empty when the end is open).
 * fhirpath.js has the two functions, but its decimals have lost their written precision (JSON numbers) and its
 * dateTimes without a zone keep none, so the runner supplies its own through fhirpath.js's user invocation table.
 */
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { decimalText } from './decimals.js';

type Which = 'low' | 'high';

/** fhirpath.js's ResourceNode, as far as the boundaries read it. */
interface NodeLike {
  data: unknown;
  fhirNodeDataType?: string | null;
  parentResNode?: { data: unknown } | null;
  propName?: string | null;
  index?: number | null;
}

// fhirpath.js's own date and time classes, so that a boundary compares as a date (`birthDate.lowBoundary() < @2000`).
// Their constructors take fhirpath.js's evaluation context first, which the user functions are called with (`this`).
type DateClass = new (ctx: unknown, text: string) => unknown;
const literal = (text: string): { constructor: DateClass } =>
  fhirpath.evaluate({}, text, {}, r4 as never, { resolveInternalTypes: false })[0] as { constructor: DateClass };
const FP_DATE = literal('@2000-01-01').constructor;
const FP_DATETIME = literal('@2000-01-01T00:00:00Z').constructor;
const FP_TIME = literal('@T00:00:00').constructor;

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const DATETIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?)?)?(Z|[+-]\d{2}:\d{2})?$/;
const TIME = /^(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function pad(n: number | string, width: number): string {
  return String(n).padStart(width, '0');
}

function dateBoundary(text: string, which: Which): string | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) : which === 'low' ? 1 : 12;
  const day = m[3] ? Number(m[3]) : which === 'low' ? 1 : daysInMonth(year, month);
  return `${m[1]}-${pad(month, 2)}-${pad(day, 2)}`;
}

function timeParts(h?: string, mi?: string, s?: string, frac?: string, which: Which = 'low'): string {
  const fill = (v: string | undefined, max: string): string => v ?? (which === 'low' ? '00' : max);
  const ms = frac !== undefined ? frac.padEnd(3, which === 'low' ? '0' : '9').slice(0, 3) : which === 'low' ? '000' : '999';
  return `${fill(h, '23')}:${fill(mi, '59')}:${fill(s, '59')}.${ms}`;
}

function dateTimeBoundary(text: string, which: Which): string | undefined {
  const m = DATETIME.exec(text);
  if (!m) return undefined;
  const date = dateBoundary([m[1], m[2], m[3]].filter(Boolean).join('-'), which) as string;
  const zone = m[8] ?? (which === 'low' ? '+14:00' : '-12:00');
  return `${date}T${timeParts(m[4], m[5], m[6], m[7], which)}${zone}`;
}

function timeBoundary(text: string, which: Which): string | undefined {
  const m = TIME.exec(text);
  return m ? timeParts(m[1], m[2], m[3], m[4], which) : undefined;
}

/** Half a unit of the last digit written, either way, with exact decimal arithmetic on the digits. */
function decimalBoundary(text: string, which: Which): number | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) {
    const n = Number(text);
    return Number.isFinite(n) ? decimalBoundary(String(n), which) : undefined;
  }
  const scale = (m[3] ?? '').length + 1;
  const digits = BigInt(`${m[1]}${m[2]}${m[3] ?? ''}0`);
  const shifted = which === 'low' ? digits - 5n : digits + 5n;
  const negative = shifted < 0n;
  const abs = (negative ? -shifted : shifted).toString().padStart(scale + 1, '0');
  return Number(`${negative ? '-' : ''}${abs.slice(0, -scale)}.${abs.slice(-scale)}`);
}

/** The text a decimal node was written with: its noted text, else the number's own. */
function decimalSource(node: NodeLike): string {
  const parent = node.parentResNode?.data as Record<string, unknown> | undefined;
  const name = node.propName ?? undefined;
  if (parent && name) {
    const key = name in parent ? name : Object.keys(parent).find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length)));
    if (key !== undefined) {
      const noted = node.index !== null && node.index !== undefined ? decimalText(parent[key] as object, node.index) : decimalText(parent, key);
      if (noted) return noted;
    }
  }
  return String(node.data);
}

function boundaryOf(ctx: unknown, item: unknown, which: Which): unknown {
  const node = (item && typeof item === 'object' && 'data' in item ? item : { data: item }) as NodeLike;
  const type = node.fhirNodeDataType ?? undefined;
  const data = node.data;
  if (type === 'Period' && data && typeof data === 'object') {
    const end = (data as Record<string, string | undefined>)[which === 'low' ? 'start' : 'end'];
    const value = end === undefined ? undefined : dateTimeBoundary(end, which);
    return value === undefined ? undefined : new FP_DATETIME(ctx, value);
  }
  if (type === 'date' || data instanceof FP_DATE) {
    const value = dateBoundary(String(data), which);
    return value === undefined ? undefined : new FP_DATE(ctx, value);
  }
  if (type === 'dateTime' || type === 'instant' || data instanceof FP_DATETIME) {
    const value = dateTimeBoundary(String(data), which);
    return value === undefined ? undefined : new FP_DATETIME(ctx, value);
  }
  if (type === 'time' || data instanceof FP_TIME) {
    const value = timeBoundary(String(data), which);
    return value === undefined ? undefined : new FP_TIME(ctx, value);
  }
  if (type === 'decimal' || type === 'integer' || typeof data === 'number' || data instanceof fhirpath.FP_Decimal) return decimalBoundary(decimalSource(node), which);
  throw new Error(`${which}Boundary() takes a decimal, date, dateTime, time or Period, not ${type ?? typeof data}`);
}

/** Rounds a boundary to `precision` digits (decimals) when the optional argument is given. */
function withPrecision(value: unknown, precision: unknown): unknown {
  const p = Array.isArray(precision) ? precision[0] : precision;
  if (typeof value !== 'number' || typeof p !== 'number') return value;
  return Number(value.toFixed(Math.max(0, Math.min(p, 20))));
}

function boundary(which: Which) {
  return {
    internalStructures: true,
    arity: { 0: [], 1: ['Integer'] },
    fn(this: unknown, input: unknown[], precision?: unknown): unknown[] {
      if (input.length === 0) return [];
      if (input.length > 1) throw new Error(`${which}Boundary() takes a single value, got ${input.length}`);
      const value = boundaryOf(this, input[0], which);
      return value === undefined ? [] : [withPrecision(value, precision)];
    },
  };
}

export const lowBoundary = boundary('low');
export const highBoundary = boundary('high');
