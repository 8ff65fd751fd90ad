/**
 * GET [base]/OperationDefinition/[id]: the OperationDefinitions of Stride's own operations are served as they are
 * built into Stride (so /metadata's definitions are readable, R4 capabilitystatement.html#operation); any other id
 * is read from the store like every resource.
 */
import type { OperationDefinition } from '@medplum/fhirtypes';
import type { FhirHandler } from '../types.js';
import { read } from '../read.js';
import { VIEW_RUN_OPERATION } from './view-run-definition.js';

const BUILT_IN: ReadonlyMap<string, OperationDefinition> = new Map([[VIEW_RUN_OPERATION.id as string, VIEW_RUN_OPERATION]]);

export const readOperationDefinition: FhirHandler = async (req, ctx, params) => {
  const builtIn = BUILT_IN.get(params.id);
  if (builtIn) return { status: 200, resource: builtIn };
  return read(req, ctx, { ...params, type: 'OperationDefinition' });
};
