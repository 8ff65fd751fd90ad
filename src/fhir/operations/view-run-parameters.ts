/**
 * The parameters of ViewDefinition/$run (SQL on FHIR v2, OperationDefinition ViewDefinitionRun), from the URL and,
 * for POST, from a Parameters body (R4 operations.html#request: both may be used). Every bad value is a 400 that
 * names the parameter.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import type { FhirRequest } from '../types.js';
import { badRequest } from '../outcomes.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../analytics/views/run.js';

export interface RunParameters {
  viewResource?: unknown;
  /** The id of a stored ViewDefinition named by `viewReference`. */
  viewReferenceId?: string;
  format: OutputFormat;
  header: boolean;
  patients: string[];
  groups: string[];
  since?: string;
  limit?: number;
  /** Inline resources (`resource`): the view runs on these instead of the stored ones. */
  resources?: Resource[];
}

const NAMES = ['viewResource', 'viewReference', '_format', 'header', 'patient', 'group', '_since', '_limit', 'resource'];
/** Query parameters that only shape the HTTP answer, allowed beside the operation's own. */
const IGNORED_QUERY = new Set(['_pretty']);

/** The format codes of the OutputFormatCodes value set, and the media types clients send for them. */
const FORMAT_ALIASES: Record<string, OutputFormat> = {
  json: 'json', 'application/json': 'json', 'application/fhir+json': 'json',
  ndjson: 'ndjson', 'application/x-ndjson': 'ndjson', 'application/ndjson': 'ndjson', 'application/fhir+ndjson': 'ndjson',
  csv: 'csv', 'text/csv': 'csv',
  parquet: 'parquet', 'application/vnd.apache.parquet': 'parquet', 'application/parquet': 'parquet', 'application/x-parquet': 'parquet',
};

/** FHIR instant (R4 datatypes.html#instant), or a date, to the precision given. */
const INSTANT = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

interface Raw {
  name: string;
  value: string | number | boolean | undefined;
  resource?: Resource;
}

function fail(name: string, text: string): never {
  throw new OperationOutcomeError(badRequest(`${name}: ${text}`, name));
}

/** A parameter's single value, whatever value[x] carries it; a Reference gives its reference. */
function valueOf(p: ParametersParameter): string | number | boolean | undefined {
  for (const [key, v] of Object.entries(p)) {
    if (!key.startsWith('value')) continue;
    if (key === 'valueReference') return (v as { reference?: string }).reference;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  }
  return undefined;
}

function collect(req: FhirRequest): Raw[] {
  const raw: Raw[] = [];
  for (const [name, values] of Object.entries(req.query)) {
    if (IGNORED_QUERY.has(name)) continue;
    if (name === 'viewResource' || name === 'resource') fail(name, 'a resource can only be given in a POST body (a Parameters resource)');
    for (const value of values) raw.push({ name, value });
  }
  if (req.body !== undefined) {
    const body = req.body as Parameters;
    if (req.method !== 'POST' || body?.resourceType !== 'Parameters') throw new OperationOutcomeError(badRequest('The body of $run must be a Parameters resource'));
    if (body.parameter !== undefined && !Array.isArray(body.parameter)) fail('parameter', 'Parameters.parameter must be an array');
    for (const p of body.parameter ?? []) {
      if (!p || typeof p !== 'object' || typeof p.name !== 'string') fail('parameter', 'each parameter must be an object with a name');
      if (p.resource !== undefined && (!p.resource || typeof p.resource !== 'object' || typeof p.resource.resourceType !== 'string')) {
        fail(p.name, 'a parameter\'s resource must be a FHIR resource (an object with a resourceType)');
      }
      raw.push({ name: p.name, value: valueOf(p), resource: p.resource });
    }
  }
  for (const r of raw) if (!NAMES.includes(r.name)) fail(r.name, `$run has no parameter "${r.name}"; it takes ${NAMES.join(', ')}`);
  return raw;
}

function one(raw: Raw[], name: string): Raw | undefined {
  const found = raw.filter((r) => r.name === name);
  if (found.length > 1) fail(name, 'may be given once');
  return found[0];
}

function idOf(name: string, value: Raw['value'], type: string): string {
  const m = typeof value === 'string' ? new RegExp(`^(?:(?:.*/)?${type}/)?([A-Za-z0-9\\-.]{1,64})$`).exec(value.trim()) : null;
  if (!m) fail(name, `expected a ${type} id or reference (${type}/123), got ${JSON.stringify(value)}`);
  return m[1];
}

export function parseRunParameters(req: FhirRequest): RunParameters {
  const raw = collect(req);
  const format = one(raw, '_format')?.value;
  const resolved = format === undefined ? 'ndjson' : FORMAT_ALIASES[String(format).split(';')[0].trim().toLowerCase()];
  if (!resolved) fail('_format', `"${String(format)}" is not an output format; use json, ndjson, csv or parquet`);
  const header = one(raw, 'header')?.value;
  if (header !== undefined && !['true', 'false', true, false].includes(header as string | boolean)) fail('header', `must be true or false, got ${JSON.stringify(header)}`);
  const since = one(raw, '_since')?.value;
  if (since !== undefined && (typeof since !== 'string' || !INSTANT.test(since))) fail('_since', `must be a FHIR instant such as 2026-03-01T10:00:00Z, got ${JSON.stringify(since)}`);
  const limitValue = one(raw, '_limit')?.value;
  const limit = limitValue === undefined ? undefined : Number(limitValue);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || !/^\d+$/.test(String(limitValue)))) fail('_limit', `must be a whole number of rows, 1 or more, got ${JSON.stringify(limitValue)}`);
  const viewResource = one(raw, 'viewResource');
  if (viewResource && !viewResource.resource) fail('viewResource', 'give the ViewDefinition as the parameter\'s resource');
  const viewReference = one(raw, 'viewReference');
  const resources = raw.filter((r) => r.name === 'resource').map((r) => r.resource ?? fail('resource', 'give each resource as a parameter\'s resource'));
  return {
    viewResource: viewResource?.resource,
    viewReferenceId: viewReference ? idOf('viewReference', viewReference.value, 'ViewDefinition') : undefined,
    format: resolved,
    header: header === undefined ? true : header === true || header === 'true',
    patients: raw.filter((r) => r.name === 'patient').map((r) => idOf('patient', r.value, 'Patient')),
    groups: raw.filter((r) => r.name === 'group').map((r) => idOf('group', r.value, 'Group')),
    since: since as string | undefined,
    limit,
    resources: resources.length > 0 ? resources : undefined,
  };
}

export { OUTPUT_FORMATS };
