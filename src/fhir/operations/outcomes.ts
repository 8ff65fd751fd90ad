/**
 * $outcomes: GET [base]/Patient/[id]/$outcomes (one patient, with every measurement) and GET [base]/$outcomes (a
 * cohort, filtered by clinic, therapist, payer, diagnosis and period): each outcome measure's baseline, latest,
 * change, whether it reaches the measure's MCID, and the visits and units between them (src/analytics/outcomes/).
 * As JSON (default), CSV (`_format=csv` or Accept: text/csv) or an SVG chart (`_format=svg` or Accept: image/svg+xml).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, FhirRequest, FhirResponse, RequestContext } from '../types.js';
import { badRequest } from '../outcomes.js';
import { readParameters, type OperationInput } from './parameters.js';
import { readOutcomeData } from '../../analytics/outcomes/data.js';
import { computeOutcomes, type OutcomeFilters } from '../../analytics/outcomes/compute.js';
import { loadMeasures } from '../../analytics/outcomes/mcid.js';
import { toCsv, toJson } from '../../analytics/outcomes/formats.js';
import { cohortSpec, patientSpec, renderSvg } from '../../analytics/outcomes/chart.js';
import { periodBounds } from './outcomes-period.js';

export { OUTCOMES_DEFINITIONS, OUTCOMES_OPERATIONS } from './outcomes-definition.js';

const SPECS = {
  clinic: { kind: 'string' },
  therapist: { kind: 'string' },
  payer: { kind: 'string' },
  diagnosis: { kind: 'string' },
  period: { kind: 'string', repeats: true },
} as const;

type Format = 'json' | 'csv' | 'svg';
const FORMATS: Record<string, Format> = {
  json: 'json', 'application/json': 'json', 'application/fhir+json': 'json',
  csv: 'csv', 'text/csv': 'csv',
  svg: 'svg', 'image/svg+xml': 'svg',
};

function formatOf(req: FhirRequest): Format {
  const asked = req.query._format?.[0];
  if (asked !== undefined) {
    const format = FORMATS[asked.split(';')[0].trim().toLowerCase()];
    if (!format) throw new OperationOutcomeError(badRequest(`$outcomes: _format is json, csv or svg (or application/json, text/csv, image/svg+xml), not "${asked}"`, '_format'));
    return format;
  }
  const accept = (req.headers.accept ?? '').toLowerCase();
  if (accept.includes('text/csv')) return 'csv';
  if (accept.includes('image/svg+xml')) return 'svg';
  return 'json';
}

/** `Type/id` or a bare id of the type expected: the id. */
function idOf(input: OperationInput, name: string, type: string): string | undefined {
  const value = input.get(name)?.[0];
  if (value === undefined) return undefined;
  const m = new RegExp(`^(?:${type}/)?([A-Za-z0-9\\-.]{1,64})$`).exec(value);
  if (!m) throw new OperationOutcomeError(badRequest(`$outcomes: ${name} takes ${type}/[id] (or the id), not "${value}"`, name));
  return m[1];
}

function filtersOf(req: FhirRequest): { filters: OutcomeFilters; echo: Record<string, string | string[]> } {
  const input = readParameters(req, 'outcomes', SPECS);
  const therapist = input.get('therapist')?.[0];
  const filters: OutcomeFilters = {
    clinic: idOf(input, 'clinic', 'Organization'),
    payer: idOf(input, 'payer', 'Organization'),
    therapist: therapist === undefined ? undefined : idOf(input, 'therapist', '(?:Practitioner|PractitionerRole)'),
    // A diagnosis given as system|code is matched by its code (ICD-10-CM codes do not collide across the systems used).
    diagnosis: input.get('diagnosis')?.[0]?.split('|').pop(),
    ...periodBounds(input.get('period') ?? []),
  };
  const echo: Record<string, string | string[]> = {};
  for (const [name, values] of input) echo[name] = values.length === 1 ? values[0] : values;
  return { filters, echo };
}

async function report(req: FhirRequest, ctx: RequestContext, patient: string | undefined): Promise<FhirResponse> {
  const format = formatOf(req);
  const { filters, echo } = filtersOf(req);
  if (patient !== undefined) await ctx.repo.read('Patient', patient);
  const data = await readOutcomeData(ctx.repo, patient, { coverages: filters.payer !== undefined, conditions: filters.diagnosis !== undefined, roles: filters.therapist !== undefined });
  const result = computeOutcomes(data, loadMeasures(), filters);
  if (format === 'csv') return { status: 200, body: { contentType: 'text/csv; charset=utf-8', data: toCsv(result) } };
  if (format === 'svg') {
    const svg = await renderSvg(patient === undefined ? cohortSpec(result.outcomes) : patientSpec(result.outcomes));
    return { status: 200, body: { contentType: 'image/svg+xml; charset=utf-8', data: svg } };
  }
  const json = toJson(result, { ...(patient ? { patient: `Patient/${patient}` } : {}), ...echo }, patient !== undefined);
  return { status: 200, body: { contentType: 'application/json; charset=utf-8', data: JSON.stringify(json) } };
}

export const systemOutcomes: FhirHandler = (req, ctx) => report(req, ctx, undefined);
export const patientOutcomes: FhirHandler = (req, ctx, { id }) => report(req, ctx, id);
