/**
 * The OperationDefinition of Stride's ViewDefinition/$run, readable at GET [base]/OperationDefinition/ViewDefinition-run
 * and named by /metadata. It follows SQL on FHIR v2's (http://sql-on-fhir.org/OperationDefinition/$run), with
 * Stride's choices in each parameter's documentation.
 */
import type { OperationDefinition } from '@medplum/fhirtypes';

export const VIEW_RUN_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/ViewDefinition-run';

type Parameter = NonNullable<OperationDefinition['parameter']>[number];

const param = (name: string, min: number, max: string, type: string | undefined, documentation: string): Parameter => ({
  name,
  use: 'in',
  min,
  max,
  ...(type ? { type: type as Parameter['type'] } : {}),
  documentation,
});

export const VIEW_RUN_OPERATION: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'ViewDefinition-run',
  url: VIEW_RUN_DEFINITION,
  version: '0.1.0',
  name: 'ViewDefinitionRun',
  title: 'Run a SQL on FHIR ViewDefinition',
  status: 'active',
  kind: 'operation',
  publisher: 'Stride',
  description:
    'Runs a SQL on FHIR v2 ViewDefinition over the stored resources (or the resources given) and answers its rows as json (an array of row objects), ndjson (one row object a line), csv or parquet. The rows stream: the store is read a page at a time. An invalid view is a 400 OperationOutcome naming each problem; a view that fails on the first page of data (a column with several values and no collection: true) a 422.',
  affectsState: false,
  code: 'run',
  base: 'http://sql-on-fhir.org/OperationDefinition/$run',
  resource: ['ViewDefinition' as never],
  system: false,
  type: true,
  instance: true,
  parameter: [
    param('viewResource', 0, '1', 'Resource', 'POST ViewDefinition/$run: the ViewDefinition to run, inline (a Parameters body). Not at instance level.'),
    param('viewReference', 0, '1', 'Reference', 'POST ViewDefinition/$run: a stored ViewDefinition (ViewDefinition/[id]). Exactly one of viewResource and viewReference at type level.'),
    param('_format', 0, '1', 'code', 'json | ndjson | csv | parquet (or their media types: application/json, application/x-ndjson, text/csv, application/vnd.apache.parquet). Default ndjson.'),
    param('header', 0, '1', 'boolean', 'csv only: a first line of column names. Default true.'),
    param('patient', 0, '*', 'Reference', "Only resources in these patients' compartments (R4 Patient CompartmentDefinition); for a Patient view, these patients."),
    param('group', 0, '*', 'Reference', 'Like patient, for the active Patient members of these Groups.'),
    param('_since', 0, '1', 'instant', 'Only resources last updated after this instant.'),
    param('_limit', 0, '1', 'integer', 'At most this many rows.'),
    param('resource', 0, '*', 'Resource', 'Resources to run the view over instead of the stored ones (POST only); patient, group and _since cannot be combined with them.'),
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Binary', documentation: 'The rows in the format asked for (the HTTP body, not a Parameters resource).' },
  ],
};
