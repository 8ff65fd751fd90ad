/**
 * Stride's OperationDefinitions for $export, readable at [base]/OperationDefinition/[id]. Each is derived (`base`)
 * from the Bulk Data Access 2.0.0 one it implements part of: R4 capabilitystatement.html says a server supporting
 * less than a base definition "must define its own custom OperationDefinition with a 'base' of the original". What
 * is left out: _elements, includeAssociatedData (refused with a 400, or ignored under Prefer: handling=lenient).
 */
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { EXPORT_DEFINITIONS } from './export.js';

const BULK = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';

function param(name: string, type: OperationDefinitionParameter['type'], max: string, documentation: string): OperationDefinitionParameter {
  return { name, use: 'in', min: 0, max, type, documentation };
}

const COMMON: OperationDefinitionParameter[] = [
  param('_outputFormat', 'string', '1', 'application/fhir+ndjson (default; also application/ndjson, ndjson), or application/vnd.apache.parquet (parquet: a Stride extension, one file per type with columns resource_type, id, version_id, last_updated, resource as JSON).'),
  param('_since', 'instant', '1', 'Only resources whose meta.lastUpdated is later. A system-level export lists the resources deleted since then in the manifest\'s "deleted" files.'),
  param('_type', 'string', '*', 'Comma-separated resource types (repeatable). Default: every type (system level), or the R4 Patient compartment\'s types (Patient and Group level). AuditEvent is never exported (the audit trail is searched instead): naming it is a 400.'),
  param('_typeFilter', 'string', '*', 'Type?search queries, comma-separated (repeatable): a resource of that type is exported when it matches one of its type\'s queries, as Stride\'s search would match it.'),
];

const PATIENT: OperationDefinitionParameter = {
  ...param('patient', 'Reference', '*', 'POST only: Patient references; only these patients\' compartments are exported (for a Group, they must be members).'),
  targetProfile: ['http://hl7.org/fhir/StructureDefinition/Patient'],
};

function definition(id: string, name: string, title: string, base: string, url: string, patientLevel: boolean, extra: Partial<OperationDefinition>): OperationDefinition {
  return {
    resourceType: 'OperationDefinition',
    id,
    url,
    name,
    title,
    status: 'active',
    kind: 'operation',
    code: 'export',
    base,
    system: false,
    type: false,
    instance: false,
    affectsState: false,
    description: `${title}. Asynchronous (Prefer: respond-async is required): 202 with Content-Location [base]/$export-status/[job]; poll it for X-Progress, then the manifest; files are served from [base]/$export-file/[job]/[name]; DELETE on the status URL cancels. Files are split at STRIDE_EXPORT_FILE_SIZE bytes and kept STRIDE_EXPORT_RETENTION_SECONDS after the export ends.`,
    parameter: [...COMMON, ...(patientLevel ? [PATIENT] : [])],
    ...extra,
  };
}

export const EXPORT_OPERATION_DEFINITIONS: readonly OperationDefinition[] = [
  definition('export', 'StrideExport', 'Bulk Data export of the whole server', `${BULK}/export`, EXPORT_DEFINITIONS.system, false, { system: true }),
  definition('patient-export', 'StridePatientExport', 'Bulk Data export of every patient\'s compartment', `${BULK}/patient-export`, EXPORT_DEFINITIONS.patient, true, { type: true, resource: ['Patient'] }),
  definition('group-export', 'StrideGroupExport', 'Bulk Data export of the compartments of a Group\'s member patients', `${BULK}/group-export`, EXPORT_DEFINITIONS.group, true, { instance: true, resource: ['Group'] }),
];
