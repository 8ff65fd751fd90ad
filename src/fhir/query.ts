/** Helpers for FhirRequest query parameters. */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from './outcomes.js';

/** Parameters that only change how a response is written; never search criteria. */
export const FORMAT_PARAMETERS = new Set(['_format', '_pretty', '_summary', '_elements']);

export function queryString(query: Record<string, string[]>): string {
  const out = new URLSearchParams();
  for (const [name, values] of Object.entries(query)) {
    if (FORMAT_PARAMETERS.has(name)) continue;
    for (const value of values) out.append(name, value);
  }
  return out.toString();
}

/**
 * An empty parameter dictionary. Its keys are the client's names, which may be `constructor`, `toString` or
 * `__proto__`: a plain `{}` would find Object.prototype's members under them (and `__proto__` would set its
 * prototype), so it has no prototype at all (issue 25).
 */
export function newQuery(): Record<string, string[]> {
  return Object.create(null) as Record<string, string[]>;
}

export function parseQueryString(text: string): Record<string, string[]> {
  const params = newQuery();
  for (const [name, value] of new URLSearchParams(text)) (params[name] ??= []).push(value);
  return params;
}

/** The parameters of every query in order, repeated names concatenated, in a new prototype-free dictionary. */
export function mergeQueries(...queries: ReadonlyArray<Record<string, string[]>>): Record<string, string[]> {
  const out = newQuery();
  for (const query of queries) for (const [name, values] of Object.entries(query)) out[name] = Object.hasOwn(out, name) ? [...out[name], ...values] : [...values];
  return out;
}

/** `query` without the named parameters, prototype-free. */
export function withoutParams(query: Record<string, string[]>, names: readonly string[]): Record<string, string[]> {
  const out = newQuery();
  for (const [name, values] of Object.entries(query)) if (!names.includes(name)) out[name] = values;
  return out;
}

export function single(query: Record<string, string[]>, name: string): string | undefined {
  const values = Object.hasOwn(query, name) ? query[name] : undefined;
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw new OperationOutcomeError(badRequest(`${name} may be given once`, name));
  return values[0];
}

/** A whole number parameter within [min, max]; a bad value is a 400 naming the parameter. */
export function integerParam(query: Record<string, string[]>, name: string, fallback: number, min: number, max: number): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new OperationOutcomeError(badRequest(`${name} must be a whole number, got "${value}"`, name));
  const n = Number(value);
  if (n < min || n > max) throw new OperationOutcomeError(badRequest(`${name} must be between ${min} and ${max}, got ${n}`, name));
  return n;
}

/** An instant or date for _since and the like; returns epoch milliseconds. */
export function instantParam(query: Record<string, string[]>, name: string): number | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const ok = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/.test(value);
  const ms = ok ? Date.parse(value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value) : NaN;
  if (Number.isNaN(ms)) throw new OperationOutcomeError(badRequest(`${name} must be a FHIR instant such as 2026-03-01T10:00:00Z, got "${value}"`, name));
  return ms;
}
