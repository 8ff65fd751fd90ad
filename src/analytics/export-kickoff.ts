/**
 * The Bulk Data kick-off request, checked (Bulk Data Access 2.0.0, export.html#bulk-data-kick-off-request): its
 * parameters from the query (GET) or a Parameters body (POST), into an ExportSpec. A parameter Stride does not support,
 * or a value it cannot honour, is a 400 with an OperationOutcome naming it; with `Prefer: handling=lenient` it is left
 * out instead and said in the manifest's error file, as the specification allows.
 */
import { AUDIT_TYPE } from '../auth/audit-store.js';
import { OperationOutcomeError } from '@medplum/core';
import type { Group, Parameters, Reference } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcomes.js';
import type { Repository } from '../repo/repository.js';
import { loadDefinitions } from '../validation/definitions.js';
import { compartmentParams } from '../search/compartment.js';
import { checkTypeFilter, splitTypeFilter } from './export-type-filter.js';
import type { ExportFormat, ExportNote, ExportSpec } from './export-types.js';

export interface KickoffInput {
  level: ExportSpec['level'];
  groupId?: string;
  method: string;
  query: Record<string, string[]>;
  body?: unknown;
  prefer?: string;
  baseUrl: string;
}

export interface Kickoff {
  spec: ExportSpec;
  /** The patients the export is limited to (spec.listed). */
  patients: string[];
}

/** _outputFormat values: the three spellings of NDJSON export.html requires, and Parquet (a Stride extension). */
const FORMATS: Record<string, ExportFormat> = {
  'application/fhir+ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  ndjson: 'ndjson',
  'application/vnd.apache.parquet': 'parquet',
  parquet: 'parquet',
};

const SUPPORTED = new Set(['_outputFormat', '_since', '_type', '_typeFilter', 'patient']);
/** Parameters about how any FHIR response is written; they say nothing about what is exported. */
const IGNORED = new Set(['_format', '_pretty']);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Prefer: respond-async (RFC 7240 §4.1), alone or beside other preferences. */
export function wantsAsync(prefer: string | undefined): boolean {
  return !!prefer && prefer.split(/[,;]/).some((p) => p.trim().toLowerCase() === 'respond-async');
}

function isLenient(prefer: string | undefined): boolean {
  return !!prefer && /(^|[,;\s])handling\s*=\s*"?lenient"?/i.test(prefer);
}

/** Refuses, or under lenient handling notes and goes on: the one rule for every parameter Stride cannot honour. */
export class Refusals {
  readonly notes: ExportNote[] = [];
  constructor(private readonly lenient: boolean) {}

  refuse(text: string, expression: string): void {
    if (!this.lenient) throw new OperationOutcomeError(badRequest(text, expression));
    this.notes.push({ severity: 'warning', code: 'not-supported', text: `Ignored (Prefer: handling=lenient): ${text}`, expression });
  }
}

export async function checkKickoff(input: KickoffInput, repo: Repository): Promise<Kickoff> {
  if (!wantsAsync(input.prefer)) {
    throw new OperationOutcomeError(
      badRequest('$export runs asynchronously: send the header "Prefer: respond-async", then poll the Content-Location of the 202 answer (Bulk Data 2.0 export.html#headers)'),
    );
  }
  const refusals = new Refusals(isLenient(input.prefer));
  const params = collectParams(input);
  for (const name of Object.keys(params)) {
    if (SUPPORTED.has(name) || IGNORED.has(name)) continue;
    refusals.refuse(`The parameter ${name} is not supported by Stride's $export; it supports ${[...SUPPORTED].join(', ')}`, name);
  }
  const format = checkFormat(params._outputFormat);
  const since = checkSince(params._since);
  const types = checkTypes(input.level, params._type, refusals);
  const typeFilters: Record<string, string[]> = {};
  const explicitTypes = (params._type ?? []).length > 0;
  for (const filter of splitTypeFilter(params._typeFilter ?? [])) {
    const checked = checkTypeFilter(filter, types, explicitTypes, refusals);
    if (checked) (typeFilters[checked.type] ??= []).push(checked.query);
  }
  const level = input.level;
  let patients: string[] | undefined;
  if (level === 'group') patients = await groupMembers(repo, input.groupId as string);
  const asked = params.patient ?? [];
  if (asked.length > 0) {
    if (level === 'system') refusals.refuse('The patient parameter applies to Patient/$export and Group/[id]/$export, not to a system-level $export', 'patient');
    else patients = await checkPatients(repo, input.baseUrl, asked, patients, refusals);
  }
  const spec: ExportSpec = { level, groupId: input.groupId, listed: patients !== undefined, types, since, typeFilters, format, notes: refusals.notes };
  return { spec, patients: patients ?? [] };
}

/** Query parameters (repeats kept), and for POST the Parameters body's, by name. `patient` values are references. */
function collectParams(input: KickoffInput): Record<string, string[]> {
  const params: Record<string, string[]> = Object.create(null);
  for (const [name, values] of Object.entries(input.query)) params[name] = [...values];
  if (params.patient && input.method !== 'POST') {
    throw new OperationOutcomeError(badRequest('The patient parameter is taken in a POST Parameters body only (Bulk Data 2.0 export.html#query-parameters)', 'patient'));
  }
  if (input.body === undefined) return params;
  const body = input.body as Parameters;
  if (!body || typeof body !== 'object' || body.resourceType !== 'Parameters') {
    throw new OperationOutcomeError(badRequest('A POST kick-off carries its parameters in a Parameters resource'));
  }
  for (const [i, p] of (Array.isArray(body.parameter) ? body.parameter : []).entries()) {
    if (!p || typeof p.name !== 'string') throw new OperationOutcomeError(badRequest(`Parameters.parameter[${i}] has no name`, `Parameters.parameter[${i}]`));
    const value = p.name === 'patient' ? referenceOf(p.valueReference, i) : (p.valueString ?? p.valueCode ?? p.valueInstant ?? p.valueDateTime ?? p.valueUri);
    if (typeof value !== 'string') {
      throw new OperationOutcomeError(badRequest(`Parameters.parameter[${i}] (${p.name}) has no value Stride reads (valueString, valueCode, valueInstant, valueReference for patient)`, `Parameters.parameter[${i}]`));
    }
    (params[p.name] ??= []).push(value);
  }
  return params;
}

function referenceOf(ref: Reference | undefined, i: number): string {
  if (typeof ref?.reference !== 'string') throw new OperationOutcomeError(badRequest(`Parameters.parameter[${i}] (patient) needs valueReference.reference, e.g. "Patient/123"`, `Parameters.parameter[${i}]`));
  return ref.reference;
}

function checkFormat(values: string[] | undefined): ExportFormat {
  if (!values?.length) return 'ndjson';
  if (values.length > 1) throw new OperationOutcomeError(badRequest('_outputFormat may be given once', '_outputFormat'));
  const format = FORMATS[values[0].trim().toLowerCase()];
  if (!format) {
    throw new OperationOutcomeError(badRequest(`_outputFormat "${values[0]}" is not served: use application/fhir+ndjson (or ndjson), or application/vnd.apache.parquet (parquet)`, '_outputFormat'));
  }
  return format;
}

function checkSince(values: string[] | undefined): number | undefined {
  if (!values?.length) return undefined;
  if (values.length > 1) throw new OperationOutcomeError(badRequest('_since may be given once', '_since'));
  const ms = INSTANT.test(values[0]) ? Date.parse(values[0]) : NaN;
  if (Number.isNaN(ms)) throw new OperationOutcomeError(badRequest(`_since must be a FHIR instant with a time zone, such as 2026-03-01T10:00:00Z; got "${values[0]}"`, '_since'));
  return ms;
}

/** The types a Patient or Group export may hold: the R4 Patient compartment's (and Patient itself). */
export function compartmentTypes(): string[] {
  return loadDefinitions().resourceTypes.filter((t) => t === 'Patient' || (compartmentParams('Patient', t) ?? []).length > 0);
}

function checkTypes(level: ExportSpec['level'], values: string[] | undefined, refusals: Refusals): string[] {
  // AuditEvents are the audit trail, searched by themselves (src/auth/audit-store.ts), not exported.
  const allowed = (level === 'system' ? [...loadDefinitions().resourceTypes] : compartmentTypes()).filter((t) => t !== AUDIT_TYPE);
  const asked = (values ?? []).flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  if (asked.length === 0) return allowed.sort();
  const known = loadDefinitions().resourceTypeSet;
  const inScope = new Set(allowed);
  const types = new Set<string>();
  for (const type of asked) {
    if (!known.has(type)) refusals.refuse(`_type names "${type}", which is not an R4 resource type`, '_type');
    else if (type === AUDIT_TYPE) refusals.refuse('_type names AuditEvent: the audit trail is not in Bulk export; search it (GET AuditEvent?date=ge...)', '_type');
    else if (!inScope.has(type)) refusals.refuse(`_type names ${type}, which is outside the R4 Patient compartment: a ${level === 'group' ? 'Group' : 'Patient'} export holds only the compartment's types`, '_type');
    else types.add(type);
  }
  if (types.size === 0) throw new OperationOutcomeError(badRequest('_type leaves no resource type to export', '_type'));
  return [...types].sort();
}

/** The Group's current members that are Patients (`Group.member.entity`, not marked inactive). */
async function groupMembers(repo: Repository, groupId: string): Promise<string[]> {
  const group = JSON.parse((await repo.read('Group', groupId)).json) as Group;
  const ids = new Set<string>();
  for (const member of group.member ?? []) {
    const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(member.entity?.reference ?? '');
    if (m && member.inactive !== true) ids.add(m[1]);
  }
  return [...ids];
}

async function checkPatients(repo: Repository, baseUrl: string, refs: string[], members: string[] | undefined, refusals: Refusals): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const local = ref.startsWith(`${baseUrl}/`) ? ref.slice(baseUrl.length + 1) : ref;
    const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(local);
    if (!m) refusals.refuse(`patient "${ref}" is not a reference to a Patient of this server (Patient/[id])`, 'patient');
    else ids.push(m[1]);
  }
  const found = await repo.readCurrentMany(ids.map((id) => `Patient/${id}`));
  const memberSet = members ? new Set(members) : undefined;
  const out = new Set<string>();
  for (const id of ids) {
    const stored = found.get(`Patient/${id}`);
    if (!stored || stored.deleted) refusals.refuse(`patient Patient/${id} is not on this server`, 'patient');
    else if (memberSet && !memberSet.has(id)) refusals.refuse(`patient Patient/${id} is not a member of the Group`, 'patient');
    else out.add(id);
  }
  if (out.size === 0) throw new OperationOutcomeError(badRequest('The patient parameter leaves no patient to export', 'patient'));
  return [...out];
}
