/** capabilities: GET [base]/metadata (R4 http.html#capabilities), built from the routes the server really has. */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { FhirHandler } from './types.js';
import type { Route } from './router.js';
import { loadDefinitions } from '../validation/definitions.js';
import { operationsOf, operationsOnOtherTypes } from './operations/registry.js';
import { EXPORT_DEFINITIONS } from './operations/export.js';
import { PROCESS_X12_DEFINITION } from './operations/process-x12.js';
import { OUTCOMES_DEFINITIONS } from './operations/outcomes-definition.js';
import { withSecurity } from '../auth/capability-security.js';

type TypeInteraction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];

/** Which interaction each route pattern + method implements. */
const TYPE_INTERACTIONS: Record<string, TypeInteraction> = {
  'GET :type/:id': 'read',
  'GET :type/:id/_history/:vid': 'vread',
  'PUT :type/:id': 'update',
  'PATCH :type/:id': 'patch',
  'DELETE :type/:id': 'delete',
  'GET :type/:id/_history': 'history-instance',
  'GET :type/_history': 'history-type',
  'POST :type': 'create',
  'GET :type': 'search-type',
};

export interface CapabilityOptions {
  routes: readonly Route[];
  version: string;
  /** Search parameters per type, once search is indexed; empty means "as the in-memory matcher understands". */
  searchParams?: (type: string) => CapabilityStatementRestResource['searchParam'];
}

export function createCapabilitiesHandler(options: CapabilityOptions): FhirHandler {
  let cached: CapabilityStatement | undefined;
  return async (_req, ctx) => {
    cached ??= withSecurity(buildCapabilityStatement(options, ctx.baseUrl), ctx.config.auth, ctx.baseUrl);
    return { status: 200, resource: cached };
  };
}

export function buildCapabilityStatement(options: CapabilityOptions, baseUrl: string): CapabilityStatement {
  const keys = new Set(options.routes.map((r) => `${r.method} ${r.pattern}`));
  const interactions = Object.entries(TYPE_INTERACTIONS).filter(([key]) => keys.has(key)).map(([, code]) => ({ code }));
  const has = (key: string): boolean => keys.has(key);
  // Operations are served on every type through the `$op` routes (operations/registry.ts).
  const operationsServed = has('POST :type/:op') || has('POST :type/:id/:op');
  const resource: CapabilityStatementRestResource[] = loadDefinitions().resourceTypes.map((type) => {
    const operations = operationsServed ? operationsOf(type) : [];
    return {
    type: type as CapabilityStatementRestResource['type'],
    interaction: interactions,
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-supported',
    conditionalUpdate: has('PUT :type'),
    conditionalDelete: has('DELETE :type') ? 'single' : 'not-supported',
    searchParam: options.searchParams?.(type),
    ...(operations.length ? { operation: operations } : {}),
    };
  });
  // System-level operations (R4 CapabilityStatement.rest.operation), and the operations of types that are not R4
  // resource types (SQL on FHIR's ViewDefinition): a rest.resource's type is bound to R4's ResourceType.
  const r4 = loadDefinitions().resourceTypeSet;
  const systemOperations = [
    ...(has('GET $export') ? [{ name: 'export', definition: EXPORT_DEFINITIONS.system }] : []),
    ...(has('POST $process-x12') ? [{ name: 'process-x12', definition: PROCESS_X12_DEFINITION }] : []),
    ...(has('GET $outcomes') ? [{ name: 'outcomes', definition: OUTCOMES_DEFINITIONS.system }] : []),
    ...(operationsServed ? operationsOnOtherTypes((type) => !r4.has(type)) : []),
  ];
  const system = [
    has('POST ') ? { code: 'transaction' as const } : undefined,
    has('POST ') ? { code: 'batch' as const } : undefined,
    has('GET _history') ? { code: 'history-system' as const } : undefined,
    has('GET ') ? { code: 'search-system' as const } : undefined,
  ].filter((x): x is { code: 'transaction' | 'batch' | 'history-system' | 'search-system' } => x !== undefined);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Stride', version: options.version },
    implementation: { description: 'Stride FHIR R4 server for rehabilitation therapy', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [{ mode: 'server', resource, interaction: system, ...(systemOperations.length ? { operation: systemOperations } : {}) }],
  };
}
