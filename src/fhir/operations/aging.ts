/**
 * $aging: GET [base]/Claim/$aging (issue 21 §4; OperationDefinition-aging.json in profiles/): what is still owed on
 * claims (payer and patient balances from the money ledger, src/money/), in the buckets 0-30, 31-60, 61-90, 91-120
 * and over 120 days, per payer (default), patient, provider or stage, and in total. As Parameters (default), CSV
 * (`_format=csv` or Accept: text/csv) or an SVG chart (`_format=svg` or Accept: image/svg+xml).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, FhirRequest } from '../types.js';
import { badRequest } from '../outcomes.js';
import { one, readParameters } from './parameters.js';
import { BASES, GROUPINGS, computeAging, type Basis, type Grouping } from '../../money/aging.js';
import { agingSpec, toCsv, toParameters } from '../../money/aging-formats.js';
import { dayOf } from '../../money/ledger.js';
import { renderSvg } from '../../analytics/outcomes/chart.js';
import { displaysOf } from '../../money/displays.js';

export const AGING_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/aging';

const SPECS = { 'as-of': { kind: 'date' }, by: { kind: 'code' }, basis: { kind: 'code' } } as const;

type Format = 'json' | 'csv' | 'svg';
const FORMATS: Record<string, Format> = { json: 'json', 'application/json': 'json', 'application/fhir+json': 'json', csv: 'csv', 'text/csv': 'csv', svg: 'svg', 'image/svg+xml': 'svg' };

function formatOf(req: FhirRequest): Format {
  const asked = req.query._format?.[0];
  if (asked !== undefined) {
    const format = FORMATS[asked.split(';')[0]!.trim().toLowerCase()];
    if (!format) throw new OperationOutcomeError(badRequest(`$aging: _format is json, csv or svg (or application/json, text/csv, image/svg+xml), not "${asked}"`, '_format'));
    return format;
  }
  const accept = (req.headers.accept ?? '').toLowerCase();
  if (accept.includes('text/csv')) return 'csv';
  if (accept.includes('image/svg+xml')) return 'svg';
  return 'json';
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new OperationOutcomeError(badRequest(`$aging: ${name} is ${allowed.join(' | ')}, not "${value}"`, name));
  return value as T;
}

export const aging: FhirHandler = async (req, ctx) => {
  const format = formatOf(req);
  const input = readParameters(req, 'aging', SPECS);
  const asOf = one(input, 'as-of') ?? new Date().toISOString().slice(0, 10);
  const by = oneOf<Grouping>(one(input, 'by'), GROUPINGS, 'payer', 'by');
  const basis = oneOf<Basis>(one(input, 'basis'), BASES, 'service', 'basis');
  const table = await computeAging(ctx.repo.db, { asOfDay: dayOf(asOf)!, by, basis });
  const echo = { asOf, by, basis, displays: await displaysOf(ctx.repo, table.groups.map((g) => g.key)) };
  if (format === 'csv') return { status: 200, body: { contentType: 'text/csv; charset=utf-8', data: toCsv(table, echo) } };
  if (format === 'svg') return { status: 200, body: { contentType: 'image/svg+xml; charset=utf-8', data: await renderSvg(agingSpec(table, echo)) } };
  return { status: 200, resource: toParameters(table, echo) };
};
