/**
 * The operations Stride serves, by name, at type and instance level (R4 operations.html). The router sends every
 * `[type]/$name` and `[type]/[id]/$name` here; an unknown name is a 404, a known one with the wrong method a 405.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, HttpMethod } from '../types.js';
import { methodNotAllowed, notFound } from '../outcomes.js';
import { VALIDATE_DEFINITION, validateInstance, validateType } from './validate.js';
import { runBots } from './run-bots.js';
import { VIEW_RUN_DEFINITION, viewRunInstance, viewRunType } from './view-run.js';

interface Operation {
  /** The OperationDefinition canonical /metadata names (R4 CapabilityStatement.rest.resource.operation). */
  definition: string;
  type?: Partial<Record<HttpMethod, FhirHandler>>;
  instance?: Partial<Record<HttpMethod, FhirHandler>>;
  /** The resource types it is served on, when not every type. */
  resourceTypes?: readonly string[];
  /** It reads `_format` itself (output formats other than JSON): the HTTP layer leaves `_format` and Accept to it. */
  ownFormat?: boolean;
}

export const OPERATIONS: Record<string, Operation> = {
  validate: { definition: VALIDATE_DEFINITION, type: { POST: validateType }, instance: { POST: validateInstance, GET: validateInstance } },
  'run-bots': { definition: 'http://stride-fhir.org/fhir/OperationDefinition/run-bots', instance: { POST: runBots } },
  run: {
    definition: VIEW_RUN_DEFINITION,
    type: { POST: viewRunType },
    instance: { GET: viewRunInstance, POST: viewRunInstance },
    resourceTypes: ['ViewDefinition'],
    ownFormat: true,
  },
};

/** Whether `path` (below the FHIR base) calls an operation that chooses its own output format. */
export function choosesOwnFormat(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (!last.startsWith('$')) return false;
  const name = last.slice(1);
  return Object.hasOwn(OPERATIONS, name) && OPERATIONS[name].ownFormat === true;
}

function dispatch(level: 'type' | 'instance'): FhirHandler {
  return async (req, ctx, params) => {
    const op = Object.hasOwn(OPERATIONS, params.op) ? OPERATIONS[params.op] : undefined;
    const where = level === 'type' ? `[type]/$${params.op}` : `[type]/[id]/$${params.op}`;
    if (!op?.[level]) throw new OperationOutcomeError(notFound(`Stride has no operation ${where}`));
    if (op.resourceTypes && !op.resourceTypes.includes(params.type)) {
      throw new OperationOutcomeError(notFound(`Stride has no operation ${params.type}/$${params.op}: it is served on ${op.resourceTypes.join(', ')}`));
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = op[level]?.[method];
    if (!handler) throw new OperationOutcomeError(methodNotAllowed(`${req.method} is not allowed on ${where}; use ${Object.keys(op[level] ?? {}).join(' or ')}`));
    return handler(req, ctx, params);
  };
}

export const typeOperation = dispatch('type');
export const instanceOperation = dispatch('instance');
