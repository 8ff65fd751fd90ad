/**
 * `period` of $outcomes: one or more dates with FHIR search prefixes (R4 search.html#prefix: eq, ge, gt, le, lt; no
 * prefix is eq), each to the precision written: `period=2026-03` is March 2026, `period=ge2026-01-01&period=lt2026-07-01`
 * the first half of 2026. Dates without a time zone are taken in UTC. The bounds are inclusive epoch milliseconds.
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../outcomes.js';

const DATE = /^(eq|ge|gt|le|lt)?(\d{4})(?:-(\d{2})(?:-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?)?)?$/;

function bounds(y: string, m?: string, d?: string, time?: string): [number, number] {
  if (time) {
    const t = Date.parse(`${y}-${m}-${d}${time}`);
    return [t, t];
  }
  const year = Number(y);
  if (!m) return [Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1) - 1];
  const month = Number(m) - 1;
  if (!d) return [Date.UTC(year, month, 1), Date.UTC(year, month + 1, 1) - 1];
  const start = Date.UTC(year, month, Number(d));
  return [start, start + 86_400_000 - 1];
}

export function periodBounds(values: readonly string[]): { from?: number; to?: number } {
  let from: number | undefined;
  let to: number | undefined;
  for (const value of values) {
    const m = DATE.exec(value);
    const [low, high] = m ? bounds(m[2], m[3], m[4], m[5]) : [NaN, NaN];
    if (!m || Number.isNaN(low) || Number.isNaN(high)) {
      throw new OperationOutcomeError(badRequest(`$outcomes: period takes a date with an optional prefix (eq, ge, gt, le, lt), e.g. ge2026-01-01 or 2026-03; not "${value}"`, 'period'));
    }
    const prefix = m[1] ?? 'eq';
    if (prefix === 'eq' || prefix === 'ge') from = Math.max(from ?? -Infinity, low);
    if (prefix === 'gt') from = Math.max(from ?? -Infinity, high + 1);
    if (prefix === 'eq' || prefix === 'le') to = Math.min(to ?? Infinity, high);
    if (prefix === 'lt') to = Math.min(to ?? Infinity, low - 1);
  }
  return { from, to };
}
