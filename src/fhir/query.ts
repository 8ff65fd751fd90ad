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

export function parseQueryString(text: string): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) (params[name] ??= []).push(value);
  return params;
}

export function single(query: Record<string, string[]>, name: string): string | undefined {
  const values = query[name];
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
