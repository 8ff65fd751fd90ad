/**
 * $run: POST ViewDefinition/$run (a view given inline as `viewResource`, or stored and named by `viewReference`) and
 * GET|POST ViewDefinition/[id]/$run (a stored view) run a SQL on FHIR v2 view over the stored resources (or the
 * `resource`s given) and answer its rows as json, ndjson, csv or parquet
 * (https://sql-on-fhir.org/ig/operations-run.html). The rows stream: resources are read a page at a time and each
 * page's rows are written before the next page is read. The first page is evaluated before the status is sent, so
 * an invalid view, or a view that fails on the first page's data, is answered with an OperationOutcome (400, 422);
 * a failure on a later page can only abort the connection.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Parameters, Resource } from '@medplum/fhirtypes';
import type { FhirHandler, FhirRequest, FhirResponse, RequestContext } from '../types.js';
import { badRequest } from '../outcomes.js';
import { compileView, type CompiledView } from '../../analytics/views/compile.js';
import { parseKeepingDecimals } from '../../analytics/views/decimals.js';
import { encodeRows, OUTPUT_FORMATS, viewRows } from '../../analytics/views/run.js';
import { groupPatients, inlinePages, storePages, type ResourcePages } from '../../analytics/views/source.js';
import { parseRunParameters, type RunParameters } from './view-run-parameters.js';

export { VIEW_RUN_DEFINITION } from './view-run-definition.js';

export const viewRunType: FhirHandler = (req, ctx) => run(req, ctx, undefined);
export const viewRunInstance: FhirHandler = (req, ctx, { id }) => run(req, ctx, id);

async function run(req: FhirRequest, ctx: RequestContext, id: string | undefined): Promise<FhirResponse> {
  const params = parseRunParameters(req);
  const view = compileView(await viewOf(ctx, params, id));
  const pages = await pagesOf(req, ctx, params, view);
  const chunks = encodeRows(view, viewRows(view, pages, params.limit), params.format, { header: params.header })[Symbol.asyncIterator]();
  const first = await chunks.next();
  const contentType = params.format === 'parquet' ? OUTPUT_FORMATS.parquet : `${OUTPUT_FORMATS[params.format]}; charset=utf-8`;
  const headers: Record<string, string> =
    params.format === 'parquet' ? { 'Content-Disposition': `attachment; filename="${fileName(view)}.parquet"` } : {};
  return { status: 200, headers, stream: { contentType, chunks: resume(first, chunks) } };
}

async function* resume<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterable<T> {
  if (first.done) return;
  yield first.value;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function fileName(view: CompiledView): string {
  return typeof view.view.name === 'string' ? view.view.name : view.resourceType.toLowerCase();
}

async function viewOf(ctx: RequestContext, params: RunParameters, id: string | undefined): Promise<unknown> {
  if (id !== undefined) {
    if (params.viewResource !== undefined || params.viewReferenceId !== undefined) {
      throw new OperationOutcomeError(badRequest('ViewDefinition/[id]/$run runs the stored view: give no viewResource or viewReference', 'viewResource'));
    }
    return JSON.parse((await ctx.repo.read('ViewDefinition', id)).json);
  }
  if ((params.viewResource === undefined) === (params.viewReferenceId === undefined)) {
    throw new OperationOutcomeError(badRequest('ViewDefinition/$run needs exactly one of viewResource (the view inline) and viewReference (ViewDefinition/[id])', 'viewResource'));
  }
  if (params.viewReferenceId !== undefined) return JSON.parse((await ctx.repo.read('ViewDefinition', params.viewReferenceId)).json);
  return params.viewResource;
}

async function pagesOf(req: FhirRequest, ctx: RequestContext, params: RunParameters, view: CompiledView): Promise<ResourcePages> {
  if (params.resources) {
    if (params.patients.length > 0 || params.groups.length > 0 || params.since !== undefined) {
      throw new OperationOutcomeError(badRequest('patient, group and _since filter the stored resources: they cannot be used with inline resources', 'resource'));
    }
    return inlinePages(view.keepsDecimalText && req.rawBody ? inlineKeepingDecimals(req.rawBody) : params.resources);
  }
  let patients: string[] | undefined;
  if (params.patients.length > 0 || params.groups.length > 0) {
    patients = [...params.patients];
    for (const group of params.groups) patients.push(...(await groupPatients(ctx.repo, group)));
    patients = [...new Set(patients)];
  }
  return storePages(ctx.repo, { resourceType: view.resourceType, patients, since: params.since, keepDecimalText: view.keepsDecimalText });
}

/** The inline resources again, from the body's text, with their decimals' written precision (boundary functions). */
function inlineKeepingDecimals(rawBody: string): Resource[] {
  const body = parseKeepingDecimals(rawBody) as Parameters;
  return (body.parameter ?? []).filter((p) => p.name === 'resource' && p.resource).map((p) => p.resource as Resource);
}
