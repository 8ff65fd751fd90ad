/** capabilities: GET [base]/metadata (R4 http.html#capabilities), built from the routes the server really has. */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { FhirHandler } from './types.js';
import type { Route } from './router.js';
import { loadDefinitions } from '../validation/definitions.js';
import { operationsOf, operationsOnOtherTypes } from './operations/registry.js';
import { EXPORT_DEFINITIONS } from './operations/export.js';
import { PROCESS_X12_DEFINITION } from './operations/process-x12.js';
import { OUTCOMES_DEFINITIONS } from './operations/outcomes-definition.js';
import { BOTS_DEFINITION } from './operations/bots.js';
import { guideCanonical, guideProfilesOf } from './operations/guide.js';
import { typesWithoutEndpoint } from '../repo/rest-types.js';
import { paramsOf } from '../search/params/registry.js';

/**
 * What R4 CapabilityStatement has no element for, said in rest.documentation (markdown). Each sentence is proved
 * against the server by test/http/capabilities.test.ts.
 */
const SEARCH_DOCUMENTATION = [
  'Search (R4 search.html) supports, besides the parameters listed per type:',
  '`_sort` on any listed parameter of type string, token, date, number, quantity, reference or uri (several, `-` for descending);',
  'chaining (`subject:Patient.name=...`, up to 4 links) and reverse chaining (`_has:Observation:patient:code=...`);',
  '`_include` and `_revinclude` (with `:iterate`; the values each type takes are in searchInclude and searchRevInclude);',
  '`_count`, `_offset`, `_total`, `_summary`, `_elements`; unknown parameters are ignored with a warning, or refused with `Prefer: handling=strict`.',
  'Parameters and OperationOutcome have no REST endpoint (R4): they are not listed and are refused on create and update.',
].join(' ');
import { withSecurity } from '../auth/capability-security.js';
import { AUDIT_TYPE } from '../auth/audit-store.js';
import { AUDIT_PARAMETERS } from '../auth/audit-search.js';

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
  const unstored = typesWithoutEndpoint();
  const revIncludes = reverseIncludes();
  const resource: CapabilityStatementRestResource[] = loadDefinitions().resourceTypes.filter((type) => !unstored.has(type)).map((type) => {
    const operations = operationsServed ? operationsOf(type) : [];
    const profiles = guideProfilesOf(type);
    if (type === AUDIT_TYPE) return auditEventResource(interactions, options.searchParams?.(type));
    return {
    type: type as CapabilityStatementRestResource['type'],
    ...(profiles.length ? { supportedProfile: profiles } : {}),
    interaction: interactions,
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    // read.ts answers If-None-Match and If-Modified-Since with 304 (R4 http.html#cread).
    conditionalRead: 'full-support',
    conditionalUpdate: has('PUT :type'),
    conditionalDelete: has('DELETE :type') ? 'single' : 'not-supported',
    searchInclude: includesOf(type),
    searchRevInclude: revIncludes.get(type) ?? [],
    searchParam: options.searchParams?.(type),
    ...(operations.length ? { operation: operations } : {}),
    };
  });
  // System-level operations (R4 CapabilityStatement.rest.operation), and the operations of types that are not R4
  // resource types (SQL on FHIR's ViewDefinition): a rest.resource's type is bound to R4's ResourceType.
  const r4 = loadDefinitions().resourceTypeSet;
  const systemOperations = [
    ...(has('GET $bots') ? [{ name: 'bots', definition: BOTS_DEFINITION }] : []),
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
    implementationGuide: [guideCanonical()],
    rest: [{ mode: 'server', documentation: SEARCH_DOCUMENTATION, resource, interaction: system, ...(systemOperations.length ? { operation: systemOperations } : {}) }],
  };
}

/**
 * AuditEvent as the audit trail serves it (src/auth/audit-store.ts): read, vread and the instance's history of its one
 * version, and search by the parameters listed; never written through the API, no type history, no _include.
 */
function auditEventResource(interactions: Array<{ code: TypeInteraction }>, searchParams: CapabilityStatementRestResource['searchParam']): CapabilityStatementRestResource {
  const served = new Set<TypeInteraction>(['read', 'vread', 'history-instance', 'search-type']);
  const names = new Set<string>(AUDIT_PARAMETERS);
  return {
    type: AUDIT_TYPE,
    documentation: 'The audit trail: one AuditEvent per access, written by Stride, never changed. Searched by itself: not through _type, _include, _revinclude, _has or chains, and not in Bulk export. agent is searched as agent:identifier (the client id).',
    interaction: interactions.filter((i) => served.has(i.code)),
    versioning: 'versioned',
    readHistory: true,
    updateCreate: false,
    conditionalCreate: false,
    conditionalRead: 'full-support',
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
    searchInclude: [],
    searchRevInclude: [],
    searchParam: searchParams?.filter((p) => names.has(p.name)),
  };
}

/** `_include` values a type takes: `*` and `Type:param` for each of its reference parameters (search/include.ts). */
function includesOf(type: string): string[] {
  const refs = [...paramsOf(type).values()].filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`).sort();
  return refs.length ? ['*', ...refs] : [];
}

/** `_revinclude` values per target type: `Source:param` for every reference parameter that can point at it. */
function reverseIncludes(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const types = loadDefinitions().resourceTypes;
  // No search reaches AuditEvents from another type (src/auth/audit-store.ts).
  for (const source of types.filter((t) => t !== AUDIT_TYPE)) {
    for (const p of paramsOf(source).values()) {
      if (p.type !== 'reference') continue;
      for (const target of p.targets.length ? p.targets : types) {
        const list = out.get(target) ?? [];
        list.push(`${source}:${p.code}`);
        out.set(target, list);
      }
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}
