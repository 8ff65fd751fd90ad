/**
 * $materialize: POST ViewDefinition/[id]/$materialize writes the stored view's rows as a table in the database
 * (PostgreSQL: schema `views`; SQLite: `view_<name>` beside the data) and from then on keeps it current on every write
 * of the view's resource type, in the write's transaction (src/analytics/materialized/). Called again, it rebuilds
 * the table; `drop=true` removes it. Answers a Parameters with the table, its columns and the rows written.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationDefinition, Parameters } from '@medplum/fhirtypes';
import type { FhirHandler } from '../types.js';
import { badRequest } from '../outcomes.js';
import { MaterializedViews } from '../../analytics/materialized/hook.js';
import { hookOf } from '../../repo/hooks.js';
import { one, readParameters } from './parameters.js';

export const VIEW_MATERIALIZE_DEFINITION = 'http://stride-fhir.org/fhir/OperationDefinition/ViewDefinition-materialize';

export const viewMaterialize: FhirHandler = async (req, ctx, { id }) => {
  const input = readParameters(req, 'materialize', { drop: { kind: 'boolean' } } as const);
  const views = hookOf(ctx.repo, MaterializedViews);
  if (!views) throw new OperationOutcomeError(badRequest('This server keeps no materialised views'));
  await ctx.repo.read('ViewDefinition', id);
  if (one(input, 'drop') === 'true') {
    const dropped = await views.drop(ctx.repo, id);
    return { status: 200, resource: { resourceType: 'Parameters', parameter: [{ name: 'dropped', valueBoolean: dropped }] } };
  }
  const r = await views.materialize(ctx.repo, id);
  const answer: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'table', valueString: r.qualifiedTable },
      { name: 'resourceType', valueCode: r.resourceType },
      { name: 'viewVersion', valueId: String(r.viewVersion) },
      { name: 'resources', valueInteger: r.resources },
      { name: 'rows', valueInteger: r.rows },
      ...r.columns.map((c) => ({ name: 'column', part: [{ name: 'name', valueString: c.name }, { name: 'type', valueString: c.sqlType }] })),
      ...r.issues.map((text) => ({ name: 'issue', valueString: text })),
    ],
  };
  return { status: 200, resource: answer };
};

export const VIEW_MATERIALIZE_OPERATION: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'ViewDefinition-materialize',
  url: VIEW_MATERIALIZE_DEFINITION,
  version: '0.1.0',
  name: 'ViewDefinitionMaterialize',
  title: 'Materialise a SQL on FHIR ViewDefinition as a database table',
  status: 'active',
  kind: 'operation',
  publisher: 'Stride',
  description:
    "Writes the stored view's rows as a table in Stride's database (PostgreSQL: schema views, table named after the view's name in lower case; SQLite: view_<name>), one row per view row, keyed by _resource_id (the resource's id) and _row, with a column per view column typed from its declared type. From then on every write of the view's resource type replaces that resource's rows in the same transaction, and a delete removes them; a write of the ViewDefinition rebuilds the table and deleting it drops the table. Called again, the table is rebuilt from the stored resources. The same as `stride views sync --view [id]`.",
  affectsState: true,
  code: 'materialize',
  resource: ['ViewDefinition' as never],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'drop', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'true: remove the table and stop keeping it (the ViewDefinition stays).' },
    { name: 'table', use: 'out', min: 0, max: '1', type: 'string', documentation: 'The table, as plain SQL names it (views.x or view_x).' },
    { name: 'resourceType', use: 'out', min: 0, max: '1', type: 'code', documentation: 'The resource type the view reads: writes of it keep the table current.' },
    { name: 'viewVersion', use: 'out', min: 0, max: '1', type: 'id', documentation: 'The version of the ViewDefinition the table follows.' },
    { name: 'resources', use: 'out', min: 0, max: '1', type: 'integer', documentation: 'Resources read.' },
    { name: 'rows', use: 'out', min: 0, max: '1', type: 'integer', documentation: 'Rows written.' },
    { name: 'column', use: 'out', min: 0, max: '*', documentation: 'Each column: name and SQL type.', part: [
      { name: 'name', use: 'out', min: 1, max: '1', type: 'string' },
      { name: 'type', use: 'out', min: 1, max: '1', type: 'string' },
    ] },
    { name: 'issue', use: 'out', min: 0, max: '*', type: 'string', documentation: 'A value its column could not hold (stored as null) or a resource the view failed on (no rows): the first 20.' },
    { name: 'dropped', use: 'out', min: 0, max: '1', type: 'boolean', documentation: 'drop=true: whether there was a table to remove.' },
  ],
};
