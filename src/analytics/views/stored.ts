/**
 * ViewDefinition as a resource Stride stores. It is not an R4 resource type: SQL on FHIR v2 defines it as a logical
 * model (https://sql-on-fhir.org/ig/StructureDefinition/ViewDefinition) that servers serve as a resource
 * (ViewDefinition/[id]/$run). Stride keeps it in the same tables as every resource (versions, history, ETags, delete)
 * under the type name `ViewDefinition`, and validates it on every write against that model instead of the R4
 * definitions: the elements, cardinalities and invariants the model gives (validate.ts) and the FHIRPath of every
 * expression (compile.ts), so a stored view always runs. It is searched by `_id` and `_lastUpdated` only (no R4
 * SearchParameter is defined for it) and cannot be an entry of a batch or transaction Bundle (the Bundle's entries
 * are R4 resources).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { viewIssues } from './compile.js';

export const VIEW_DEFINITION_TYPE = 'ViewDefinition';

/** The issues of a ViewDefinition to be stored: the model's rules, with resourceType and status required. */
export function checkStoredView(resource: unknown): OperationOutcomeIssue[] {
  return viewIssues(resource, true);
}
